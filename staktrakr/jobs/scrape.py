"""The scrape job: fetch and read every target, score, and store the whole cycle in one batch.

Round trips per cycle are constant: prepare (schema check + outbox replay), the run row, one
read of spot prices and one of the previous day's medians, then ONE write holding every
observation, every provider failure and the finished run. Until that write, each finished
target's rows are in the run's fsync'd journal (store/journal.py), so a SIGKILL at any moment
loses nothing that was fetched: the next run of any job queues the journal and replays it.
SIGTERM/SIGINT stop new fetches, cancel the ones in flight and store what the cycle has (run
`interrupted`). With the database down or hung the rows go to the outbox. `retry` runs the
same cycle on fewer targets.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from pydantic import BaseModel

from staktrakr.catalog import Target
from staktrakr.fetch.politeness import VendorLane, run_per_vendor
from staktrakr.fetch.walk import FetchRun
from staktrakr.jobs.evidence import EvidenceStore
from staktrakr.jobs.harness import JobRun, RunReport
from staktrakr.jobs.scrape_target import TargetOutcome, fetcher_order, scrape_target
from staktrakr.jobs.stop import StopSignal
from staktrakr.jobs.vision import (
    VisionCheck,
    VisionRun,
    VisionStats,
    apply_vision,
    start_vision,
    vision_evidence,
    vision_row_fields,
)
from staktrakr.models import PriceObservation, ProviderFailure
from staktrakr.rules.scoring import window_confidences
from staktrakr.settings import Settings
from staktrakr.store import Store
from staktrakr.store.queries.prices import day_medians
from staktrakr.store.queries.spot import latest_spot
from staktrakr.store.session import ops_of
from staktrakr.timeutil import iso_z, parse_time, utcnow, window_start

log = logging.getLogger(__name__)

ProgressCallback = Callable[[TargetOutcome], None]
FETCHERS_CLOSE_TIMEOUT_S = 5.0


@dataclass
class ScrapeOptions:
    """Knobs of one cycle. `fetcher` forces a single fetcher; `orders` (retry) overrides the
    fetcher order per (coin, vendor); `window` stores rows in another window (retry --window);
    `window_prices` adds in-stock prices already stored for the window to the confidence median."""

    fetcher: str | None = None
    dry_run: bool = False
    job: str = "scrape"
    window: str | None = None
    orders: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    window_prices: dict[str, list[float]] = field(default_factory=dict)
    progress: ProgressCallback | None = None
    seed: int | None = None
    keep_evidence: bool | None = None    # failed targets' pages to var/evidence/; None: unless dry_run

    @property
    def keeps_evidence(self) -> bool:
        return self.keep_evidence if self.keep_evidence is not None else not self.dry_run


@dataclass
class ScrapeResult:
    """What a cycle did: one outcome per finished target plus where its rows went."""

    job: str
    run_id: str
    poller_id: str
    window_start: str
    started_at: str
    finished_at: str = ""
    duration_s: float = 0.0
    dry_run: bool = False
    planned: int = 0
    outcomes: list[TargetOutcome] = field(default_factory=list)
    stored_rows: int = 0
    stored_by_kind: dict[str, int] = field(default_factory=dict)  # table -> rows the database took
    queued_rows: int = 0
    store_error: str | None = None
    replayed_rows: int = 0
    write_round_trips: int = 0
    signal: str | None = None                   # SIGTERM / SIGINT when the cycle was stopped
    run: RunReport | None = None
    vision: VisionStats | None = None           # the vision cross-check's counters (None: not on)

    @property
    def total(self) -> int:
        return len(self.outcomes)

    @property
    def captured(self) -> int:
        return sum(1 for outcome in self.outcomes if outcome.ok)

    @property
    def failures(self) -> int:
        return self.total - self.captured

    @property
    def status(self) -> str:
        if self.signal:
            return "interrupted"
        return "ok" if self.captured or not self.outcomes else "error"

    def to_json(self) -> dict[str, Any]:
        return {
            "job": self.job, "run_id": self.run_id, "poller_id": self.poller_id,
            "window_start": self.window_start, "started_at": self.started_at, "finished_at": self.finished_at,
            "duration_s": round(self.duration_s, 3), "dry_run": self.dry_run, "status": self.status,
            "planned": self.planned, "total": self.total, "captured": self.captured, "failures": self.failures,
            "stored_rows": self.stored_rows, "queued_rows": self.queued_rows, "store_error": self.store_error,
            "replayed_rows": self.replayed_rows, "signal": self.signal,
            "run": self.run.to_json() if self.run else None,
            "vision": self.vision.to_json() if self.vision else None,
            "targets": [outcome.to_json() for outcome in self.outcomes],
        }


def run_scrape(settings: Settings, store: Store, targets: Sequence[Target], options: ScrapeOptions) -> ScrapeResult:
    """Scrape `targets` once and store the cycle (unless dry-run), through the job harness.
    Returns the result; `result.run` says how the run ended (the CLI maps it to the exit code)."""
    with JobRun(settings, store, options.job, dry_run=options.dry_run) as run:
        return scrape_cycle(run, targets, options)


def scrape_cycle(run: JobRun, targets: Sequence[Target], options: ScrapeOptions) -> ScrapeResult:
    """One cycle inside an open JobRun (scrape, or retry after it chose its targets)."""
    settings, store = run.settings, run.store
    result = ScrapeResult(job=run.job, run_id=run.run_id, poller_id=settings.poller_id,
                          window_start=options.window or window_start(run.started), started_at=iso_z(run.started),
                          dry_run=options.dry_run, planned=len(targets), replayed_rows=run.report.replayed_rows,
                          run=run.report)
    spot = latest_spot(store, settings.spot_bands)
    previous_day = previous_day_medians(store, result.window_start, {t.coin.slug for t in targets})
    fallback_source = _first_source(targets, options)
    if run.journal is not None:  # what recovery needs to score and count this cycle like a finished one
        run.journal.note(planned=len(targets), scoring={"window_prices": options.window_prices,
                                                        "previous_day": previous_day})

    evidence = EvidenceStore.from_settings(settings) if options.keeps_evidence else None

    def journal_outcome(outcome: TargetOutcome) -> None:
        if evidence is not None:
            keep_page(evidence, result.run_id, outcome)
        if run.journal is not None:
            run.journal.add(ops_of(outcome_rows(outcome, result.window_start, result.run_id,
                                                    settings.poller_id, fallback_source)))

    vision = start_vision(settings, store, targets)
    result.outcomes, checks = asyncio.run(_cycle(settings, targets, options, spot, run.stop, journal_outcome, vision))
    result.signal = run.stop.name
    if evidence is not None:
        try:
            evidence.prune()
        except OSError as exc:
            log.warning("evidence: cannot prune %s: %s", evidence.folder, exc)
    score_outcomes(result.outcomes, options.window_prices, previous_day)
    if vision is not None:
        result.vision = vision.stats
        apply_vision(result.outcomes, checks, vision.stats, options.window_prices, previous_day)
        run.running = run.running.model_copy(update={"vision": json.dumps(vision.stats.to_json())})

    finished = utcnow()
    result.finished_at = iso_z(finished)
    result.duration_s = (finished - run.started).total_seconds()
    every_failed = targets and result.outcomes and not result.captured and not run.stop.requested
    error = "every target failed" if every_failed else None
    rows = [] if options.dry_run else cycle_rows(result, settings, fallback_source=fallback_source)
    trips_before = store.db.round_trips
    written = run.finish(rows, total=len(targets), captured=result.captured, failures=result.failures, error=error)
    result.write_round_trips = store.db.round_trips - trips_before
    # rows the database took (a duplicate of the window the unique index dropped is not counted) or
    # kept in the outbox; the run row is not an observation and is left out
    result.stored_rows, result.queued_rows = written.data_stored_rows, written.data_queued_rows
    result.stored_by_kind = {kind: rows for kind, rows in written.stored_by_kind.items() if kind != "poller_runs"}
    result.store_error = written.error
    return result


async def _cycle(settings: Settings, targets: Sequence[Target], options: ScrapeOptions, spot: dict[str, float],
                 stop: StopSignal, on_finished: Callable[[TargetOutcome], None],
                 vision: VisionRun | None = None) -> tuple[list[TargetOutcome], dict[tuple[str, str], VisionCheck]]:
    """Every target once (vendors in parallel); after a stop request no target starts and the ones
    in flight are cancelled. Vision checks run beside the fetching and are awaited at the end
    (cancelled by a stop). Returns the finished outcomes in target order, and the checks by key."""
    fetch_run = FetchRun(settings)
    position = {id(target): index for index, target in enumerate(targets)}
    finished: dict[int, TargetOutcome] = {}

    async def work(target: Target, lane: VendorLane) -> TargetOutcome | None:
        if stop.requested:
            return None
        order = options.orders.get(target.key) or fetcher_order(target, options.fetcher)
        outcome = await scrape_target(target, lane, fetch_run=fetch_run,
                                      spot_usd_per_oz=spot_for(spot, target.coin.metal), order=order, vision=vision)
        on_finished(outcome)
        finished[position[id(target)]] = outcome
        if options.progress is not None:
            options.progress(outcome)
        return outcome

    loop = asyncio.get_running_loop()
    rng = random.Random(options.seed) if options.seed is not None else None
    cycle = asyncio.ensure_future(run_per_vendor(targets, work, fetch_run.politeness, rng))
    def cancel_cycle() -> None:
        loop.call_soon_threadsafe(cycle.cancel)
        if vision is not None:
            loop.call_soon_threadsafe(vision.cancel)

    forget = stop.on_request(cancel_cycle)
    checks: dict[tuple[str, str], VisionCheck] = {}
    try:
        await cycle
    except asyncio.CancelledError:
        if not stop.requested:
            raise
    finally:
        if vision is not None:
            checks = await vision.results(0.0 if stop.requested else settings.vision_timeout_s)
        forget()
        try:
            await asyncio.wait_for(fetch_run.aclose(), FETCHERS_CLOSE_TIMEOUT_S)
        except (TimeoutError, Exception) as exc:  # never let closing lose the cycle
            log.warning("closing the fetchers: %s", exc)
    return [finished[index] for index in sorted(finished)], checks


def keep_page(evidence: EvidenceStore, run_id: str, outcome: TargetOutcome) -> None:
    """Keep a failed target's page; a folder that cannot be written costs the page, never the cycle."""
    try:
        outcome.evidence_path = evidence.keep(run_id, outcome)
    except OSError as exc:
        log.warning("evidence: cannot keep the page of %s/%s: %s", outcome.coin_slug, outcome.vendor_id, exc)


def spot_for(spot: dict[str, float], metal: str) -> float | None:
    """The spot the sanity band needs: the coin's metal, or gold for Goldbacks (1/1000 oz gold per unit)."""
    return spot.get("gold" if metal == "goldback" else metal)


def previous_day_medians(store: Store, window: str, coin_slugs: set[str]) -> dict[str, float]:
    """Upper median of the previous UTC day's in-stock prices per coin, in ONE query (empty when
    the database is unreachable: confidence then goes without the day rule)."""
    if not coin_slugs:
        return {}
    day = (parse_time(window) - timedelta(days=1)).strftime("%Y-%m-%d")
    medians = day_medians(store, coin_slugs, day)
    if medians is None:
        log.info("previous day's medians unavailable: confidence goes without the day rule")
        return {}
    return medians


def score_outcomes(outcomes: Sequence[TargetOutcome], window_prices: dict[str, list[float]],
                   previous_day: dict[str, float]) -> None:
    """Confidence per DESIGN.md section 7 against this window's in-stock median (this cycle's
    prices plus any already stored for the window)."""
    scores = window_confidences(
        [(o.coin_slug, o.price if o.ok else None, o.in_stock is not False) for o in outcomes],
        window_prices, previous_day)
    for outcome, score in zip(outcomes, scores, strict=False):
        if outcome.ok:
            outcome.confidence = score


def _first_source(targets: Sequence[Target], options: ScrapeOptions) -> str:
    return options.fetcher or (targets[0].rules.fetchers[0] if targets else "http")


def cycle_rows(result: ScrapeResult, settings: Settings, fallback_source: str) -> list[BaseModel]:
    """One price_snapshots row per target, plus a provider_failures row per failed target."""
    rows: list[BaseModel] = []
    for outcome in result.outcomes:
        rows += outcome_rows(outcome, result.window_start, result.run_id, settings.poller_id, fallback_source)
    return rows


def outcome_rows(outcome: TargetOutcome, window: str, run_id: str, poller_id: str,
                 fallback_source: str) -> list[BaseModel]:
    """The rows one finished target adds: its snapshot, and a provider failure when it failed."""
    rows: list[BaseModel] = [PriceObservation(
        scraped_at=outcome.scraped_at, window_start=window, coin_slug=outcome.coin_slug,
        vendor=outcome.vendor_id, price=outcome.price if outcome.ok else None,
        source=outcome.source or fallback_source, confidence=outcome.confidence, is_failed=not outcome.ok,
        in_stock=outcome.in_stock is not False, poller_id=poller_id, run_id=run_id,
        evidence=evidence_json(outcome),
    )]
    vision_row = vision_row_fields(outcome.vision, outcome) if outcome.vision is not None else None
    if vision_row is not None:
        rows.append(PriceObservation(window_start=window, coin_slug=outcome.coin_slug, vendor=outcome.vendor_id,
                                     is_failed=False, poller_id=poller_id, run_id=run_id, **vision_row))
    if not outcome.ok:
        error = outcome.reason or "no_price"
        if outcome.evidence_path:
            error += f" (page: {outcome.evidence_path})"
        rows.append(ProviderFailure(coin_slug=outcome.coin_slug, vendor_id=outcome.vendor_id, url=outcome.url,
                                    error=error, failed_at=outcome.scraped_at,
                                    run_id=run_id, poller_id=poller_id))
    return rows


def evidence_json(outcome: TargetOutcome) -> str:
    """How the price was read (rule, matched text, fetcher, final URL), or why there is none."""
    if outcome.ok:
        data: dict[str, Any] = {"rule": outcome.rule, "text": (outcome.evidence_text or "")[:300],
                                "decision": (outcome.decision or "")[:300],
                                "fetcher": outcome.fetcher, "url": outcome.final_url}
    else:
        data = {"reason": outcome.reason, "fetcher": outcome.fetcher, "url": outcome.url}
    data["attempts"] = [
        {"fetcher": a.fetcher, "proxy": a.via_proxy, "status": a.status, "reason": a.reason} for a in outcome.attempts
    ]
    if outcome.vision is not None:
        data["vision"] = vision_evidence(outcome.vision, outcome)
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False)
