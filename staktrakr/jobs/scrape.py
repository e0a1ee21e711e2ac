"""The scrape job: fetch and read every target, score, and store the whole cycle in one batch.

Round trips per cycle are constant: prepare (schema check + outbox replay), the run row, one
read of spot prices and one of the previous day's medians, then ONE write holding every
observation, every provider failure and the finished run. With the database down the rows go
to the outbox and the next run replays them. `retry` runs the same cycle on fewer targets.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Callable, Sequence

from pydantic import BaseModel

from staktrakr.catalog import Target
from staktrakr.errors import JobFailed, StoreUnavailable
from staktrakr.fetch import FetcherSet
from staktrakr.jobs.schedule import Politeness, VendorLane, run_per_vendor
from staktrakr.jobs.scrape_target import TargetOutcome, fetcher_order, scrape_target
from staktrakr.models import PollerRun, PriceObservation, ProviderFailure, new_run_id
from staktrakr.scoring import single_source_confidence, upper_median
from staktrakr.settings import Settings
from staktrakr.spot_bands import spot_bands
from staktrakr.store import PrepareResult, Store
from staktrakr.timeutil import iso_z, parse_time, utcnow, window_start

log = logging.getLogger(__name__)

ProgressCallback = Callable[[TargetOutcome], None]


@dataclass
class ScrapeOptions:
    """Knobs of one cycle. `fetcher` forces a single fetcher; `orders` (retry) overrides the
    fetcher order per (coin, vendor); `window` stores rows in another window (retry --window);
    `window_prices` adds in-stock prices already stored for the window to the confidence median;
    `prepared` is the caller's own store.prepare() result (retry prepares before reading), so the
    schema check and outbox replay are not done twice."""

    fetcher: str | None = None
    dry_run: bool = False
    job: str = "scrape"
    window: str | None = None
    orders: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    window_prices: dict[str, list[float]] = field(default_factory=dict)
    progress: ProgressCallback | None = None
    seed: int | None = None
    prepared: PrepareResult | None = None


@dataclass
class ScrapeResult:
    """What a cycle did: one outcome per target plus where its rows went."""

    job: str
    run_id: str
    poller_id: str
    window_start: str
    started_at: str
    finished_at: str = ""
    duration_s: float = 0.0
    dry_run: bool = False
    outcomes: list[TargetOutcome] = field(default_factory=list)
    stored_rows: int = 0
    queued_rows: int = 0
    store_error: str | None = None
    replayed_rows: int = 0
    write_round_trips: int = 0

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
        return "ok" if self.captured or not self.outcomes else "error"

    def to_json(self) -> dict[str, Any]:
        return {
            "job": self.job, "run_id": self.run_id, "poller_id": self.poller_id,
            "window_start": self.window_start, "started_at": self.started_at, "finished_at": self.finished_at,
            "duration_s": round(self.duration_s, 3), "dry_run": self.dry_run, "status": self.status,
            "total": self.total, "captured": self.captured, "failures": self.failures,
            "stored_rows": self.stored_rows, "queued_rows": self.queued_rows, "store_error": self.store_error,
            "replayed_rows": self.replayed_rows,
            "targets": [outcome.to_json() for outcome in self.outcomes],
        }


def run_scrape(settings: Settings, store: Store, targets: Sequence[Target], options: ScrapeOptions) -> ScrapeResult:
    """Scrape `targets` once and store the cycle (unless dry-run). Returns the result; the caller
    decides the exit code (1 when every target failed)."""
    started = utcnow()
    result = ScrapeResult(job=options.job, run_id=new_run_id(settings.poller_id, options.job, started),
                          poller_id=settings.poller_id, window_start=options.window or window_start(started),
                          started_at=iso_z(started), dry_run=options.dry_run)
    running = PollerRun(run_id=result.run_id, poller_id=settings.poller_id, job=options.job,
                        started_at=result.started_at, status="running", total=len(targets))
    if not options.dry_run:
        prepared = options.prepared or store.prepare()
        result.replayed_rows = prepared.replay.replayed_rows
        try:
            store.start_run(running)
        except OSError as exc:
            raise JobFailed(f"cannot start the run: database unreachable and outbox {store.outbox.path} "
                            f"not writable ({exc.strerror or exc})") from None
    spot = store.latest_spot(spot_bands(settings.spot_bands))
    previous_day = previous_day_medians(store, result.window_start, {t.coin.slug for t in targets})

    result.outcomes = asyncio.run(_cycle(settings, targets, options, spot))
    score_outcomes(result.outcomes, options.window_prices, previous_day)

    finished = utcnow()
    result.finished_at = iso_z(finished)
    result.duration_s = (finished - started).total_seconds()
    if options.dry_run:
        return result
    rows = cycle_rows(result, settings, fallback_source=_first_source(targets, options))
    finished_run = running.model_copy(update={
        "finished_at": result.finished_at, "status": result.status, "captured": result.captured,
        "failures": result.failures, "error": None if result.captured or not targets else "every target failed",
    })
    trips_before = store.db.round_trips
    written = store.write([*rows, finished_run])
    result.write_round_trips = store.db.round_trips - trips_before
    result.stored_rows, result.queued_rows, result.store_error = written.stored_rows, written.queued_rows, written.error
    return result


async def _cycle(settings: Settings, targets: Sequence[Target], options: ScrapeOptions,
                 spot: dict[str, float]) -> list[TargetOutcome]:
    fetchers = FetcherSet(settings)
    politeness = Politeness.from_settings(settings)
    proxy_configured = settings.home_proxy_url is not None

    async def work(target: Target, lane: VendorLane) -> TargetOutcome:
        order = options.orders.get(target.key) or fetcher_order(target, options.fetcher)
        outcome = await scrape_target(target, lane, fetchers=fetchers, politeness=politeness,
                                      spot_usd_per_oz=spot_for(spot, target.coin.metal), order=order,
                                      proxy_configured=proxy_configured)
        if options.progress is not None:
            options.progress(outcome)
        return outcome

    try:
        rng = random.Random(options.seed) if options.seed is not None else None
        return await run_per_vendor(targets, work, politeness, rng)
    finally:
        await fetchers.aclose()


def spot_for(spot: dict[str, float], metal: str) -> float | None:
    """The spot the sanity band needs: the coin's metal, or gold for Goldbacks (1/1000 oz gold per unit)."""
    return spot.get("gold" if metal == "goldback" else metal)


def previous_day_medians(store: Store, window: str, coin_slugs: set[str]) -> dict[str, float]:
    """Upper median of the previous UTC day's in-stock prices per coin, in ONE query (empty when
    the database is unreachable: confidence then goes without the day rule)."""
    if not coin_slugs:
        return {}
    day = (parse_time(window) - timedelta(days=1)).strftime("%Y-%m-%d")
    marks = ", ".join("?" for _ in coin_slugs)
    sql = (
        "SELECT coin_slug, price FROM ("
        " SELECT coin_slug, price, ROW_NUMBER() OVER (PARTITION BY coin_slug ORDER BY price) AS rank,"
        " COUNT(*) OVER (PARTITION BY coin_slug) AS n FROM price_snapshots"
        f" WHERE coin_slug IN ({marks}) AND substr(window_start, 1, 10) = ?"
        " AND is_failed = 0 AND in_stock = 1 AND price IS NOT NULL AND source != 'gemini-vision'"
        ") WHERE rank = n / 2 + 1"
    )
    try:
        rows = store.db.query(sql, [*sorted(coin_slugs), day])
    except StoreUnavailable as exc:
        log.info("previous day's medians unavailable: %s", exc)
        return {}
    return {row["coin_slug"]: float(row["price"]) for row in rows}


def score_outcomes(outcomes: Sequence[TargetOutcome], window_prices: dict[str, list[float]],
                   previous_day: dict[str, float]) -> None:
    """Confidence per DESIGN.md section 7 against this window's in-stock median (this cycle's
    prices plus any already stored for the window)."""
    in_stock: dict[str, list[float]] = {slug: list(prices) for slug, prices in window_prices.items()}
    for outcome in outcomes:
        if outcome.ok and outcome.in_stock is not False:
            in_stock.setdefault(outcome.coin_slug, []).append(outcome.price)  # type: ignore[arg-type]
    for outcome in outcomes:
        if not outcome.ok:
            continue
        prices = in_stock.get(outcome.coin_slug) or []
        window_median = upper_median(prices) if prices else None
        outcome.confidence = single_source_confidence(outcome.price, window_median,
                                                      previous_day.get(outcome.coin_slug))


def _first_source(targets: Sequence[Target], options: ScrapeOptions) -> str:
    return options.fetcher or (targets[0].rules.fetchers[0] if targets else "http")


def cycle_rows(result: ScrapeResult, settings: Settings, fallback_source: str) -> list[BaseModel]:
    """One price_snapshots row per target, plus a provider_failures row per failed target."""
    rows: list[BaseModel] = []
    for outcome in result.outcomes:
        rows.append(PriceObservation(
            scraped_at=outcome.scraped_at, window_start=result.window_start, coin_slug=outcome.coin_slug,
            vendor=outcome.vendor_id, price=outcome.price if outcome.ok else None,
            source=outcome.source or fallback_source, confidence=outcome.confidence, is_failed=not outcome.ok,
            in_stock=outcome.in_stock is not False, poller_id=settings.poller_id, run_id=result.run_id,
            evidence=evidence_json(outcome),
        ))
        if not outcome.ok:
            rows.append(ProviderFailure(coin_slug=outcome.coin_slug, vendor_id=outcome.vendor_id, url=outcome.url,
                                        error=outcome.reason or "no_price", failed_at=outcome.scraped_at,
                                        run_id=result.run_id, poller_id=settings.poller_id))
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
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False)
