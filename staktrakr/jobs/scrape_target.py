"""One target of a cycle: walk the vendor's fetchers and URLs (fetch/walk.py) and read each page for an offer.

The next fetcher is tried when one fails or its page gives no price (DESIGN.md section 6). The
outcome carries every attempt, so a failure row says exactly why, and a price says how it was read.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from staktrakr.catalog import Target
from staktrakr.extract import extract_offer
from staktrakr.extract.base import Finding, PageContent
from staktrakr.fetch.base import FetchResult
from staktrakr.fetch.politeness import VendorLane
from staktrakr.fetch.registry import SOURCE_OF_FETCHER
from staktrakr.fetch.walk import FetchRun, PageReader, PageVerdict, Step
from staktrakr.timeutil import iso_z, utcnow

if TYPE_CHECKING:
    from staktrakr.jobs.vision import VisionCheck, VisionRun

log = logging.getLogger(__name__)

# Failures that read the page and refused it on principle. Another fetcher's rendering (markdown
# without the structured data or classes that decided) must not turn them into a price.
SETTLED_FAILURES = frozenset({"wrong_currency", "conflicting_prices", "wrong_product"})


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
    evidence_path: str | None = None  # the failed target's page, kept gzipped under var/evidence/ (jobs/evidence.py)
    # the page behind each attempt (kind "html"/"md", text), and the one that explains a failure: not in the JSON
    attempt_pages: list[tuple[str, str] | None] = field(default_factory=list, repr=False)
    failed_page: tuple[str, str] | None = field(default=None, repr=False)
    vision: VisionCheck | None = None  # the vision cross-check, when the target had one (jobs/vision.py)
    source_label: str | None = None    # the row's source when a decision set it ("http+vision")

    @property
    def ok(self) -> bool:
        return self.price is not None and self.reason is None

    @property
    def source(self) -> str | None:
        return self.source_label or SOURCE_OF_FETCHER.get(self.fetcher or "", self.fetcher)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("attempt_pages")
        data.pop("failed_page")
        data["source"] = self.source
        data["ok"] = self.ok
        return data


def fetcher_order(target: Target, only: str | None = None) -> list[str]:
    return [only] if only else list(target.rules.fetchers)


async def scrape_target(target: Target, lane: VendorLane, *, fetch_run: FetchRun, spot_usd_per_oz: float | None,
                        order: Sequence[str], vision: VisionRun | None = None) -> TargetOutcome:
    """Fetch and read one target; never raises for page trouble. When `vision` chose the target,
    its screenshot is taken and its check started (finished by the cycle)."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    outcome = TargetOutcome(target.coin.slug, target.vendor_id, target.vendor_name, target.urls[0], "")
    checked = vision is not None and vision.wanted(target)
    walk = await fetch_run.walk(target.urls, target.rules, lane, offer_reader(target, spot_usd_per_oz), order,
                                screenshot=checked)
    if vision is not None and checked:
        await vision.capture(target, walk, lane, fetch_run, spot_usd_per_oz)
    for step in walk.steps:
        _record(outcome, step)
    if walk.answer is not None:
        page, finding = walk.answer
        outcome.price = finding.price
        outcome.in_stock = True if finding.in_stock is None else finding.in_stock
        outcome.fetcher, outcome.url = page.fetcher, page.url
        outcome.final_url = page.final_url or page.url
        outcome.rule, outcome.evidence_text = finding.rule, finding.evidence
    else:
        _explain_failure(outcome)
    outcome.scraped_at = iso_z(utcnow())
    outcome.elapsed_ms = int((loop.time() - started) * 1000)
    return outcome


def offer_reader(target: Target, spot_usd_per_oz: float | None) -> PageReader[Finding]:
    """The walk's reader for a retail page: extract the offer (in a worker thread); a price ends the
    walk, and so does a page refused on principle (SETTLED_FAILURES)."""

    async def read(page: FetchResult) -> PageVerdict[Finding]:
        content = PageContent(url=page.final_url or page.url, html=page.html, markdown=page.markdown)
        try:
            finding = await asyncio.to_thread(extract_offer, content, target.coin, target.rules, spot_usd_per_oz)
        except Exception as exc:  # a page that breaks the reader fails this target, never the whole cycle
            log.exception("extraction failed for %s %s at %s", target.coin.slug, target.vendor_id, content.url)
            finding = Finding(failure="extraction_error", detail=f"{type(exc).__name__}: {str(exc)[:200]}")
        return PageVerdict(finding, accepted=finding.ok, settled=finding.failure in SETTLED_FAILURES)

    return read


def _record(outcome: TargetOutcome, step: Step[Finding]) -> None:
    result = step.page
    finding = step.verdict.reading if step.verdict is not None else None
    if result.failure is not None:
        reason = f"{result.failure.value}: {result.detail}" if result.detail else result.failure.value
    elif finding is not None and not finding.ok:
        kind = finding.failure or "no_price"
        reason = f"{kind}: {finding.detail}" if finding.detail else kind
    else:
        reason = None
    outcome.attempts.append(Attempt(result.fetcher, result.url, result.via_proxy, reason,
                                    read_page=result.ok, status=result.status, elapsed_ms=result.elapsed_ms))
    outcome.attempt_pages.append(("html", result.html) if result.html else ("md", result.markdown)
                                 if result.markdown else None)
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
    pages = [page for page in outcome.attempt_pages if page is not None]
    outcome.failed_page = outcome.attempt_pages[outcome.attempts.index(chosen)] or (pages[0] if pages else None)
    outcome.reason = chosen.reason or "no_price"
    outcome.fetcher = chosen.fetcher
    outcome.url = chosen.url
