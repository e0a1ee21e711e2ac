"""The goldback job: read the G1 rate from goldback.com and store it under the publisher's effective date.

Fetchers in order http -> browser (the rate may be rendered by script) -> firecrawl (when
configured); the first page that yields a rate inside the band wins. A page without a rate is
a one-line failure naming what each fetcher saw, and nothing is stored. One row per effective
date (ON CONFLICT(date) DO NOTHING), written in one batch with the `goldback` run row.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Callable

from staktrakr.errors import JobFailed
from staktrakr.fetch.base import FailureKind, Fetcher
from staktrakr.extract.goldback import RateCandidate, parse_goldback_rate
from staktrakr.rules.bands import goldback_rate_band, spot_in_band
from staktrakr.rules.goldback_calendar import effective_date, in_update_grace, previous_business_day
from staktrakr.jobs.harness import JobRun, RunReport
from staktrakr.models import GoldbackRate
from staktrakr.settings import Settings
from staktrakr.store import Store
from staktrakr.store.queries.goldback import rates_on
from staktrakr.store.queries.spot import latest_spot
from staktrakr.timeutil import iso_z, utcnow

log = logging.getLogger(__name__)

JOB = "goldback"
SOURCE = "goldback.com"
FETCHER_ORDER = ("http", "browser", "firecrawl")
# The browser waits until the phrase is on the page (Playwright text selector), at most this long.
BROWSER_WAIT_MS = 8000
BROWSER_WAIT_SELECTOR = r"text=/(1|one)\s*goldback\s*(=|:|is|equals)\s*\$\s*\d/i"
FIRECRAWL_WAIT_MS = 5000
# Direct failures worth one more try through the residential proxy (when HOME_PROXY_URL is set).
PROXY_WORTHY = frozenset({FailureKind.BLOCKED, FailureKind.CONNECTION, FailureKind.TIMEOUT})

FetcherFactory = Callable[[str, Settings], Fetcher]


def default_fetcher(name: str, settings: Settings) -> Fetcher:
    from staktrakr.fetch.browser import BrowserFetcher
    from staktrakr.fetch.firecrawl import FirecrawlFetcher
    from staktrakr.fetch.http import HttpFetcher

    return {"http": HttpFetcher, "browser": BrowserFetcher, "firecrawl": FirecrawlFetcher}[name](settings)


@dataclass
class GoldbackResult:
    """What one goldback run did; `to_dict()` is the `--json` output."""

    run_id: str
    url: str
    date: str                               # the publisher's effective date
    status: str = "dry_run"                 # stored | queued | already_stored | not_updated_yet | dry_run
    g1_usd: float | None = None
    method: str | None = None               # json | labelled | table | phrase
    evidence: str | None = None
    fetcher: str | None = None
    band: list[float] = field(default_factory=list)
    band_basis: str | None = None
    attempts: list[str] = field(default_factory=list)     # what each fetcher saw
    scraped_at: str | None = None
    run: RunReport | None = None

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def pick_rate(candidates: list[RateCandidate], low: float, high: float) -> RateCandidate | None:
    return next((c for c in candidates if low <= c.g1_usd <= high), None)


async def read_rate(settings: Settings, result: GoldbackResult, low: float, high: float,
                    fetcher_factory: FetcherFactory) -> RateCandidate | None:
    """Try each fetcher until one page yields an in-band rate; record what each one saw."""
    fetchers: list[Fetcher] = []
    try:
        for name in FETCHER_ORDER:
            if name == "firecrawl" and not settings.firecrawl_base_url:
                continue
            fetcher = fetcher_factory(name, settings)
            fetchers.append(fetcher)
            wait = {"browser": {"wait_ms": BROWSER_WAIT_MS, "wait_selector": BROWSER_WAIT_SELECTOR},
                    "firecrawl": {"wait_ms": FIRECRAWL_WAIT_MS}}.get(name, {})
            page = await fetcher.fetch(result.url, **wait)
            if page.failure in PROXY_WORTHY and name != "firecrawl" and settings.home_proxy_url is not None:
                result.attempts.append(f"{name}: {page.failure.value} ({page.detail or 'no detail'}), "
                                       "trying HOME_PROXY_URL")
                page = await fetcher.fetch(result.url, use_proxy=True, **wait)
                name = f"{name} via proxy"
            if not page.ok:
                result.attempts.append(f"{name}: {page.failure.value if page.failure else 'failed'}"
                                       f" ({page.detail or 'no detail'})")
                continue
            candidates = parse_goldback_rate(html=page.html, markdown=page.markdown)
            chosen = pick_rate(candidates, low, high)
            if chosen is not None:
                result.fetcher = name
                return chosen
            if candidates:
                shown = ", ".join(f"${c.g1_usd:g} ({c.method})" for c in candidates[:3])
                result.attempts.append(f"{name}: rate {shown} outside the band ${low:g}-${high:g}")
            else:
                result.attempts.append(f"{name}: no '1 Goldback = $X' on the page")
        return None
    finally:
        for fetcher in fetchers:
            await fetcher.aclose()


def gold_spot(store: Store, settings: Settings) -> float | None:
    gold = latest_spot(store, settings.spot_bands).get("gold")
    return gold if gold is not None and spot_in_band("gold", gold, settings.spot_bands) else None


def run_goldback(settings: Settings, store: Store, *, dry_run: bool = False, now: datetime | None = None,
                 fetcher_factory: FetcherFactory = default_fetcher) -> GoldbackResult:
    """Fetch, parse, check and store today's effective G1 rate (nothing stored on any doubt)."""
    started = now or utcnow()
    day = effective_date(started)
    with JobRun(settings, store, JOB, dry_run=dry_run, started=started, prepare=True) as run:
        result = GoldbackResult(run_id=run.run_id, url=settings.goldback_url, date=day.isoformat(), run=run.report)
        previous_day = previous_business_day(day).isoformat()
        known = rates_on(store, result.date, previous_day)
        if result.date in known:
            result.status, result.g1_usd = "already_stored", known[result.date]
            run.finish(total=0, captured=0, failures=0, note=f"rate for {result.date} already stored")
            return result
        band = goldback_rate_band(gold_spot(store, settings))
        low, high, result.band_basis = band.low, band.high, band.basis
        result.band = [low, high]
        # a stop cancels the fetch in flight (its fetchers close) and starts no other fetcher
        chosen = run.stop.run_until_stopped(JOB, "fetching the rate (nothing stored)",
                                            read_rate(settings, result, low, high, fetcher_factory))
        result.scraped_at = iso_z(utcnow())
        if chosen is None:
            reason = f"goldback: no usable rate at {result.url}: {'; '.join(result.attempts)}; nothing stored"
            run.finish(total=1, captured=0, failures=1, error=reason)
            raise JobFailed(reason)
        result.g1_usd, result.method, result.evidence = chosen.g1_usd, chosen.method, chosen.evidence
        if in_update_grace(started) and known.get(previous_day) == chosen.g1_usd:
            result.status = "not_updated_yet"       # probably yesterday's rate still showing; a later run stores it
            run.finish(total=1, captured=0, failures=0,
                       note=f"the page still shows {previous_day}'s rate; a later run stores {result.date}'s")
            return result
        row = GoldbackRate(date=result.date, g1_usd=chosen.g1_usd, source=SOURCE, scraped_at=result.scraped_at,
                           poller_id=settings.poller_id)
        written = run.finish([] if dry_run else [row], total=1, captured=1, failures=0)
        if not dry_run:
            result.status = "queued" if written.queued else "stored"
        return result
