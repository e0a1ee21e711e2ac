"""`staktrakr diagnose`: why one (coin, vendor) target fails, and the catalog change that fixes it.

Every URL of the target is fetched by every registered fetcher (a disabled one says why), once
directly and, when HOME_PROXY_URL is set and the fetcher can use it, once more through the proxy:
status, final URL, size, time and block/bot-check detection for each. Each page that came back is
read by the same extraction as a scrape, so every price reading shows its role, currency, locus and
verdict, with the stock evidence and the sanity band. The pages (HTML, markdown, a browser
screenshot) are saved for the operator. `outcome` replays the walk the catalog's rules make over
these probes (fetch/walk.py's order), and diagnose_advice.py turns what the probes show into
`staktrakr providers ...` commands. No politeness gaps: one operator, one target, one request at a time.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from staktrakr.catalog import Target
from staktrakr.extract import extract_offer
from staktrakr.extract.base import Finding, PageContent
from staktrakr.fetch.base import FetchResult
from staktrakr.fetch.registry import FETCHER_NAMES, FetcherSet
from staktrakr.fetch.walk import PROXY_WORTHY
from staktrakr.jobs.scrape import spot_for
from staktrakr.jobs.scrape_target import SETTLED_FAILURES
from staktrakr.rules.bands import price_band
from staktrakr.settings import Settings
from staktrakr.timeutil import iso_z, utcnow


@dataclass
class Probe:
    """One fetcher on one URL through one egress, and what the extraction read on the page."""

    url: str
    fetcher: str
    via_proxy: bool
    status: int | None
    final_url: str | None
    size_bytes: int
    elapsed_ms: int
    failure: str | None              # the fetch's FailureKind value ("blocked", "timeout", ...) or None
    detail: str | None               # one line: "HTTP 403", "bot check page (...)", ...
    finding: Finding | None = None   # None when no page came back
    saved: list[str] = field(default_factory=list)
    content: PageContent | None = field(default=None, repr=False)  # the page itself (not in the JSON)

    @property
    def blocked(self) -> bool:
        return self.failure == "blocked"

    @property
    def priced(self) -> bool:
        return self.finding is not None and self.finding.ok

    def result_line(self) -> str:
        """What this probe gave, in one line: the price, the reading failure or the fetch failure."""
        if self.failure is not None:
            return f"{self.failure}: {self.detail}" if self.detail else self.failure
        assert self.finding is not None
        if self.finding.ok:
            stock = "in stock" if self.finding.in_stock is not False else "out of stock"
            return f"${self.finding.price:,.2f} ({self.finding.rule}, {stock})"
        return f"{self.finding.failure}: {self.finding.detail}"

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("content")
        data["finding"] = self.finding.model_dump() if self.finding is not None else None
        data["blocked"] = self.blocked
        data["result"] = self.result_line()
        return data


@dataclass
class Suggestion:
    """A catalog change the probes justify: why, and the `staktrakr providers` command that makes it."""

    reason: str
    command: str


@dataclass
class Diagnosis:
    """Everything `diagnose` found for one target; `outcome` is what a scrape with the current catalog gets."""

    coin_slug: str
    vendor_id: str
    urls: list[str]
    fetchers: list[str]              # the vendor's configured order
    proxy_rule: str                  # the vendor's `proxy` rule
    proxy_configured: bool
    band: str                        # the sanity band, e.g. "72.00-240.00 (spot)"
    diagnosed_at: str
    saved_dir: str | None
    probes: list[Probe] = field(default_factory=list)
    outcome: str = ""
    suggestions: list[Suggestion] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["probes"] = [probe.to_json() for probe in self.probes]
        return data


def diagnose_target(settings: Settings, target: Target, spot: dict[str, float], save_dir: Path | None,
                    urls: list[str] | None = None) -> Diagnosis:
    """Probe `target` (or `urls` instead of its own) with every fetcher and egress, read every page,
    save pages under `save_dir` (None: nothing saved) and suggest catalog changes. Never raises for
    page trouble; OSError when `save_dir` cannot be written."""
    from staktrakr.jobs.diagnose_advice import simulate_walk, suggest

    spot_usd = spot_for(spot, target.coin.metal)
    diagnosis = Diagnosis(
        coin_slug=target.coin.slug, vendor_id=target.vendor_id, urls=list(urls or target.urls),
        fetchers=list(target.rules.fetchers), proxy_rule=target.rules.proxy,
        proxy_configured=settings.home_proxy_url is not None,
        band=price_band(target.coin, spot_usd).describe(), diagnosed_at=iso_z(utcnow()),
        saved_dir=str(save_dir) if save_dir is not None else None,
    )
    if save_dir is not None:
        save_dir.mkdir(parents=True, exist_ok=True)
    diagnosis.probes = asyncio.run(_probe_all(settings, target, diagnosis.urls, spot_usd, save_dir))
    diagnosis.outcome = simulate_walk(diagnosis.probes, target.rules)
    diagnosis.suggestions = suggest(diagnosis.probes, target, spot_usd)
    if save_dir is not None:
        (save_dir / "diagnosis.json").write_text(json.dumps(diagnosis.to_json(), indent=2, sort_keys=True) + "\n",
                                                 encoding="utf-8")
    return diagnosis


def default_save_dir(settings: Settings, target: Target) -> Path:
    """var/diagnose/<coin>-<vendor>-<UTC time>/ under STAKTRAKR_VAR_DIR."""
    stamp = utcnow().strftime("%Y%m%dT%H%M%SZ")
    return settings.var_dir / "diagnose" / f"{target.coin.slug}-{target.vendor_id}-{stamp}"


def fetcher_order(target: Target) -> list[str]:
    """The vendor's fetchers first, in its order, then every other registered one."""
    return [*target.rules.fetchers, *(name for name in FETCHER_NAMES if name not in target.rules.fetchers)]


async def _probe_all(settings: Settings, target: Target, urls: list[str], spot_usd: float | None,
                     save_dir: Path | None) -> list[Probe]:
    fetchers = FetcherSet(settings)
    probes: list[Probe] = []
    try:
        for url_index, url in enumerate(urls):
            for name in fetcher_order(target):
                fetcher = fetchers.get(name)
                why_disabled = fetcher.disabled_reason
                if why_disabled is not None:
                    probes.append(Probe(url, name, False, None, None, 0, 0, "disabled", why_disabled))
                    continue
                egresses = [False]
                if settings.home_proxy_url is not None and fetcher.capabilities.supports_proxy:
                    egresses.append(True)
                for via_proxy in egresses:
                    stem = f"{url_index}-{name}{'-proxy' if via_proxy else ''}"
                    options: dict[str, Any] = {}
                    if save_dir is not None and fetcher.capabilities.screenshots:
                        options["screenshot_to"] = save_dir / f"{stem}.png"
                    rules = target.rules
                    page = await fetcher.fetch(url, wait_ms=rules.wait_ms, wait_selector=rules.wait_selector,
                                               timeout_s=rules.timeout_s, use_proxy=via_proxy, **options)
                    probe = await _read(page, target, spot_usd)
                    if save_dir is not None:
                        probe.saved = _save(page, save_dir, stem, options.get("screenshot_to"))
                    probes.append(probe)
    finally:
        await fetchers.aclose()
    return probes


async def _read(page: FetchResult, target: Target, spot_usd: float | None) -> Probe:
    size = len((page.html or "").encode("utf-8")) + len((page.markdown or "").encode("utf-8"))
    probe = Probe(page.url, page.fetcher, page.via_proxy, page.status, page.final_url, size, page.elapsed_ms,
                  page.failure.value if page.failure is not None else None, page.detail)
    if page.ok:
        content = PageContent(url=page.final_url or page.url, html=page.html, markdown=page.markdown)
        probe.content = content
        probe.finding = await asyncio.to_thread(extract_offer, content, target.coin, target.rules, spot_usd)
    return probe


def _save(page: FetchResult, save_dir: Path, stem: str, screenshot: Path | None) -> list[str]:
    saved = []
    for suffix, text in ((".html", page.html), (".md", page.markdown)):
        if text:
            path = save_dir / f"{stem}{suffix}"
            path.write_text(text, encoding="utf-8")
            saved.append(str(path))
    if screenshot is not None and screenshot.exists():
        saved.append(str(screenshot))
    return saved


def proxy_worthy(probe: Probe) -> bool:
    return probe.failure is not None and any(probe.failure == kind.value for kind in PROXY_WORTHY)


def settled(probe: Probe) -> bool:
    return probe.finding is not None and probe.finding.failure in SETTLED_FAILURES

