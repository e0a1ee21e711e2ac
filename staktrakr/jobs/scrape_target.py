"""One target of a cycle: walk the vendor's fetchers (and URLs), fall back to the home proxy, extract.

The next fetcher is tried when one fails or its page gives no price (DESIGN.md section 6). The
outcome carries every attempt, so a failure row says exactly why, and a price says how it was read.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import asdict, dataclass, field
from typing import Any, Sequence

from staktrakr.catalog import Target
from staktrakr.extract import extract_offer
from staktrakr.extract.base import Finding, PageContent
from staktrakr.fetch import SOURCE_OF_FETCHER, FetcherSet
from staktrakr.fetch.base import FailureKind, FetchResult
from staktrakr.fetch.politeness import Politeness, VendorLane, fetch_with_retries
from staktrakr.timeutil import iso_z, utcnow

log = logging.getLogger(__name__)

# Failures that read the page and refused it on principle. Another fetcher's rendering (markdown
# without the structured data or classes that decided) must not turn them into a price.
SETTLED_FAILURES = frozenset({"wrong_currency", "conflicting_prices", "wrong_product"})

# Failures after which the same request is worth one more try through the home proxy.
PROXY_WORTHY = frozenset({FailureKind.BLOCKED, FailureKind.CONNECTION, FailureKind.VENDOR_UNREACHABLE})


@dataclass
class Attempt:
    """One fetch (after its transient retries) and what reading its page gave."""

    fetcher: str
    url: str
    via_proxy: bool
    reason: str | None          # "blocked: HTTP 403", "no_price: ...", None on success
    read_page: bool             # the page was fetched and handed to extraction
    status: int | None = None
    elapsed_ms: int = 0


@dataclass
class TargetOutcome:
    """Everything the cycle learned about one (coin, vendor): a price, or the reason there is none."""

    coin_slug: str
    vendor_id: str
    vendor_name: str
    url: str
    scraped_at: str
    price: float | None = None
    in_stock: bool | None = None
    fetcher: str | None = None
    final_url: str | None = None
    rule: str | None = None
    evidence_text: str | None = None
    reason: str | None = None
    confidence: int | None = None
    elapsed_ms: int = 0
    attempts: list[Attempt] = field(default_factory=list)
    stock_evidence: str | None = None  # what decided in_stock (structured availability, buy button, a phrase)
    decision: str | None = None       # why this number (or why none): the extraction's decision line
    readings: list[dict[str, Any]] = field(default_factory=list)  # every price reading of the page read last

    @property
    def ok(self) -> bool:
        return self.price is not None and self.reason is None

    @property
    def source(self) -> str | None:
        return SOURCE_OF_FETCHER.get(self.fetcher or "", self.fetcher)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["source"] = self.source
        data["ok"] = self.ok
        return data


def fetcher_order(target: Target, only: str | None = None) -> list[str]:
    return [only] if only else list(target.rules.fetchers)


async def scrape_target(target: Target, lane: VendorLane, *, fetchers: FetcherSet, politeness: Politeness,
                        spot_usd_per_oz: float | None, order: Sequence[str], proxy_configured: bool) -> TargetOutcome:
    """Fetch and read one target; never raises for page trouble."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    outcome = TargetOutcome(target.coin.slug, target.vendor_id, target.vendor_name, target.urls[0], "")
    settled = False
    for url in target.urls:
        for name in order:
            result, finding = await _fetch_and_read(target, lane, fetchers, politeness, name, url,
                                                    spot_usd_per_oz, proxy_configured, outcome)
            if finding is not None and finding.ok:
                outcome.price = finding.price
                outcome.in_stock = True if finding.in_stock is None else finding.in_stock
                outcome.fetcher, outcome.url = name, url
                outcome.final_url = result.final_url or url
                outcome.rule, outcome.evidence_text = finding.rule, finding.evidence
                break
            if finding is not None and finding.failure in SETTLED_FAILURES:
                settled = True  # the page was read and refused: another rendering of it must not guess
                break
        if outcome.ok or settled:
            break
    if not outcome.ok:
        _explain_failure(outcome)
    outcome.scraped_at = iso_z(utcnow())
    outcome.elapsed_ms = int((loop.time() - started) * 1000)
    return outcome


async def _fetch_and_read(target: Target, lane: VendorLane, fetchers: FetcherSet, politeness: Politeness,
                          name: str, url: str, spot_usd_per_oz: float | None, proxy_configured: bool,
                          outcome: TargetOutcome) -> tuple[FetchResult, Finding | None]:
    rules = target.rules
    fetcher = fetchers.get(name)
    wants_proxy = rules.proxy == "always" and proxy_configured and name != "firecrawl"

    async def fetch_once(use_proxy: bool) -> FetchResult:
        return await fetcher.fetch(url, wait_ms=rules.wait_ms, wait_selector=rules.wait_selector,
                                   timeout_s=rules.timeout_s, use_proxy=use_proxy)

    route = "firecrawl" if name == "firecrawl" else ("proxy" if wants_proxy else "direct")  # circuit breaker key
    result = await fetch_with_retries(lane, politeness, lambda: fetch_once(wants_proxy), route=route,
                                      fetcher=name, url=url)
    if (not result.ok and result.failure in PROXY_WORTHY and rules.proxy == "fallback" and proxy_configured
            and name != "firecrawl"):
        _record(outcome, result, None)
        result = await fetch_with_retries(lane, politeness, lambda: fetch_once(True), route="proxy",
                                          fetcher=name, url=url)
    if not result.ok:
        _record(outcome, result, None)
        return result, None
    page = PageContent(url=result.final_url or url, html=result.html, markdown=result.markdown)
    try:
        finding = await asyncio.to_thread(extract_offer, page, target.coin, rules, spot_usd_per_oz)
    except Exception as exc:  # a page that breaks the reader fails this target, never the whole cycle
        log.exception("extraction failed for %s %s at %s", target.coin.slug, target.vendor_id, page.url)
        finding = Finding(failure="extraction_error", detail=f"{type(exc).__name__}: {str(exc)[:200]}")
    _record(outcome, result, finding)
    return result, finding


def _record(outcome: TargetOutcome, result: FetchResult, finding: Finding | None) -> None:
    if not result.ok:
        reason = f"{result.failure.value}: {result.detail}" if result.detail else result.failure.value  # type: ignore[union-attr]
    elif finding is not None and not finding.ok:
        kind = finding.failure or "no_price"
        reason = f"{kind}: {finding.detail}" if finding.detail else kind
    else:
        reason = None
    outcome.attempts.append(Attempt(result.fetcher, result.url, result.via_proxy, reason,
                                    read_page=result.ok, status=result.status, elapsed_ms=result.elapsed_ms))
    if finding is not None and finding.in_stock is False:
        outcome.in_stock = False
    if finding is not None and (finding.ok or not outcome.readings):
        outcome.decision, outcome.readings = finding.decision, list(finding.readings)
        outcome.stock_evidence = finding.stock_evidence


def _explain_failure(outcome: TargetOutcome) -> None:
    """The reason shown for a failed target: a page that was read beats a fetch that failed;
    among equals the first (primary) fetcher's reason. A disabled fetcher is never the reason
    when another one ran."""
    tried = [attempt for attempt in outcome.attempts if not (attempt.reason or "").startswith("disabled")]
    candidates = tried or outcome.attempts
    if not candidates:
        outcome.reason = "no fetcher ran"
        return
    read = [attempt for attempt in candidates if attempt.read_page]
    chosen = (read or candidates)[0]
    outcome.reason = chosen.reason or "no_price"
    outcome.fetcher = chosen.fetcher
    outcome.url = chosen.url
