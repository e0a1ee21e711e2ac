"""The goldback job: read the G1 rate from goldback.com and store it under the publisher's effective date.

goldback.com is a catalog entry (`feeds.goldback` in providers.json: its URL, fetchers in order,
render wait and wait selector; GOLDBACK_URL overrides the URL) fetched through the same walk as a
dealer page (fetch/walk.py: politeness, transient retries, the home-proxy fallback). The first
page that yields a rate inside the band wins. A page without a rate is a one-line failure naming
what each fetcher saw, and nothing is stored. One row per effective date (ON CONFLICT(date) DO
NOTHING), written in one batch with the `goldback` run row.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from datetime import datetime

from staktrakr.catalog import FeedPage
from staktrakr.catalog.load import load_feed
from staktrakr.errors import JobFailed
from staktrakr.extract.goldback import RateCandidate, parse_goldback_rate
from staktrakr.fetch.base import FailureKind, FetchResult
from staktrakr.fetch.walk import FetchRun, PageReader, PageVerdict, Step, Walk
from staktrakr.jobs.harness import JobRun, RunReport
from staktrakr.models import GoldbackRate
from staktrakr.rules.bands import goldback_rate_band, spot_in_band
from staktrakr.rules.goldback_calendar import effective_date, in_update_grace, previous_business_day
from staktrakr.settings import Settings
from staktrakr.store import Store
from staktrakr.store.queries.goldback import rates_on
from staktrakr.store.queries.spot import latest_spot
from staktrakr.timeutil import iso_z, utcnow

log = logging.getLogger(__name__)

JOB = "goldback"
FEED = "goldback"           # the catalog entry: providers.json feeds.goldback
SOURCE = "goldback.com"     # the rows' `source` (published in goldback-spot.json)


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


@dataclass(frozen=True)
class RateReading:
    """What one page held: every rate found on it, and the first inside the band (None: none was)."""

    candidates: list[RateCandidate]
    chosen: RateCandidate | None


def rate_reader(low: float, high: float) -> PageReader[RateReading]:
    """The walk's reader for goldback.com: a rate inside the band (USD per G1) ends the walk."""

    async def read(page: FetchResult) -> PageVerdict[RateReading]:
        candidates = parse_goldback_rate(html=page.html, markdown=page.markdown)
        chosen = pick_rate(candidates, low, high)
        return PageVerdict(RateReading(candidates, chosen), accepted=chosen is not None)

    return read


async def read_rate(settings: Settings, feed: FeedPage, url: str, low: float, high: float) -> Walk[RateReading]:
    """Walk the feed's fetchers on `url` until one page yields a rate inside the band."""
    fetch_run = FetchRun(settings)
    try:
        return await fetch_run.walk([url], feed.rules, fetch_run.lane(), rate_reader(low, high))
    finally:
        await fetch_run.aclose()


def accepted_rate(walk: Walk[RateReading]) -> tuple[str, RateCandidate] | None:
    """Which fetcher ("http", "http via proxy", ...) read the in-band rate, and the rate; None when none did."""
    if walk.answer is None:
        return None
    page, reading = walk.answer
    return (fetcher_label(page), reading.chosen) if reading.chosen is not None else None


def fetcher_label(page: FetchResult) -> str:
    return f"{page.fetcher} via proxy" if page.via_proxy else page.fetcher


def describe_step(step: Step[RateReading], low: float, high: float) -> str | None:
    """One line of what a fetcher saw ("http: blocked (HTTP 403), trying HOME_PROXY_URL"), or None for
    the accepted page and for a fetcher that is not configured (it saw nothing)."""
    page, name = step.page, fetcher_label(step.page)
    if page.failure is FailureKind.DISABLED:
        return None
    if step.verdict is None:
        line = f"{name}: {page.failure.value if page.failure else 'failed'} ({page.detail or 'no detail'})"
        return line + ", trying HOME_PROXY_URL" if step.proxy_next else line
    reading = step.verdict.reading
    if reading.chosen is not None:
        return None
    if reading.candidates:
        shown = ", ".join(f"${c.g1_usd:g} ({c.method})" for c in reading.candidates[:3])
        return f"{name}: rate {shown} outside the band ${low:g}-${high:g}"
    return f"{name}: no '1 Goldback = $X' on the page"


def gold_spot(store: Store, settings: Settings) -> float | None:
    gold = latest_spot(store, settings.spot_bands).get("gold")
    return gold if gold is not None and spot_in_band("gold", gold, settings.spot_bands) else None


def run_goldback(settings: Settings, store: Store, *, dry_run: bool = False,
                 now: datetime | None = None) -> GoldbackResult:
    """Fetch, parse, check and store today's effective G1 rate (nothing stored on any doubt).
    The page and how to fetch it come from the catalog file's `feeds.goldback` (catalog/load.py);
    a catalog without it is a ConfigError before the run starts."""
    feed = load_feed(settings, FEED)
    started = now or utcnow()
    day = effective_date(started)
    with JobRun(settings, store, JOB, dry_run=dry_run, started=started, prepare=True) as run:
        url = settings.goldback_url or feed.url
        result = GoldbackResult(run_id=run.run_id, url=url, date=day.isoformat(), run=run.report)
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
        walk = run.stop.run_until_stopped(JOB, "fetching the rate (nothing stored)",
                                          read_rate(settings, feed, url, low, high))
        result.scraped_at = iso_z(utcnow())
        result.attempts = [line for step in walk.steps if (line := describe_step(step, low, high)) is not None]
        found = accepted_rate(walk)
        if found is None:
            reason = f"goldback: no usable rate at {result.url}: {'; '.join(result.attempts)}; nothing stored"
            run.finish(total=1, captured=0, failures=1, error=reason)
            raise JobFailed(reason)
        result.fetcher, chosen = found
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
