"""Reads behind the operator dashboard (`GET /api/dashboard`) beyond what `staktrakr status` reads.

All of them go to the database in ONE batch (one round trip to Turso): runs per poller and job,
24 h run stats, runs left `running`, priced targets per hour, spot slots per metal, failures per
day, the last failure URL of chronic pairs, per coin, day and vendor the price aggregates of
publish's history, and the newest row per (coin, vendor, window) of the last 24 h. Each read is
a range on an existing index (idx_runs_poller_started, idx_window, idx_spot_floor,
idx_pf_failed_at). The three big reads can start later (`DashboardSpans.*_from`) when a cache
holds their settled part (ops/dashboard/cache.py). Times in both timestamp
shapes go through `since()` / julianday() (see timestamps.py); prices are USD per coin, spot USD
per troy ounce. Raises StoreUnavailable, or StatementRejected (missing_table on a fresh database).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from staktrakr.rules.bands import Band
from staktrakr.rules.scoring import SOURCE_VISION
from staktrakr.store.database import Rows, Statement, result_rows
from staktrakr.store.queries.prices import DAILY_SUMS, day_averages, day_sums
from staktrakr.store.queries.spot import band_case
from staktrakr.store.queries.timestamps import since
from staktrakr.store.session import Store
from staktrakr.timeutil import WINDOW, floor_window, window_start

_NOT_VISION = f"source != '{SOURCE_VISION}'"
_DAY_OF = "substr(replace({column}, ' ', 'T'), 1, 10)"  # either timestamp shape -> "YYYY-MM-DD"


@dataclass(frozen=True)
class DashboardSpans:
    """How far back each read looks, from `now` (UTC). The `*_from` values, when set, start the
    three big reads later (a cache holds the settled part before them): a day "YYYY-MM-DD", an hour
    "YYYY-MM-DDTHH", a window "YYYY-MM-DDTHH:MM:00Z"."""

    now: datetime
    runs_per_job: int = 10
    run_lookback: timedelta = timedelta(days=7)
    stats_lookback: timedelta = timedelta(hours=24)
    coverage_hours: int = 48
    spot_hours: int = 48
    failure_days: int = 7
    price_days: int = 30
    window_lookback: timedelta = timedelta(hours=24)
    daily_from: str | None = None
    hours_from: str | None = None
    windows_from: str | None = None

    def day_keys(self) -> list[str]:
        """The UTC dates of the price span, oldest first, today last."""
        return [(self.now - timedelta(days=back)).strftime("%Y-%m-%d") for back in range(self.price_days - 1, -1, -1)]

    def hour_keys(self) -> list[str]:
        """The UTC hours of the coverage span, oldest first, the current hour last."""
        return [(self.now - timedelta(hours=back)).strftime("%Y-%m-%dT%H")
                for back in range(self.coverage_hours - 1, -1, -1)]

    def window_keys(self) -> list[str]:
        """The 15-minute windows of the window span, oldest first, the current window last."""
        newest = floor_window(self.now)
        count = int(self.window_lookback / WINDOW)
        return [window_start(newest - WINDOW * back) for back in range(count - 1, -1, -1)]


@dataclass
class DashboardRows:
    """The raw rows, one list per read (column names in each function's docstring below)."""

    runs: Rows = field(default_factory=list)
    run_stats: Rows = field(default_factory=list)
    open_runs: Rows = field(default_factory=list)
    priced_hours: Rows = field(default_factory=list)
    spot_slots: Rows = field(default_factory=list)
    failures_by_day: Rows = field(default_factory=list)
    failure_urls: Rows = field(default_factory=list)
    daily_prices: Rows = field(default_factory=list)
    recent_windows: Rows = field(default_factory=list)


def _runs(spans: DashboardSpans) -> Statement:
    """Newest `runs_per_job` runs per (poller, job): run_id, poller_id, job, started_at, finished_at,
    status, total, captured, failures, error, duration_s (None while running)."""
    clause, args = since("started_at", spans.now - spans.run_lookback)
    return (
        "SELECT run_id, poller_id, job, started_at, finished_at, status, total, captured, failures, error, "
        "duration_s FROM ("
        "  SELECT run_id, poller_id, COALESCE(job, 'unknown') AS job, started_at, finished_at, status, total, "
        "  captured, failures, error, round((julianday(finished_at) - julianday(started_at)) * 86400, 1) "
        "  AS duration_s, julianday(started_at) AS started_jd, id, ROW_NUMBER() OVER ("
        "    PARTITION BY poller_id, COALESCE(job, 'unknown') ORDER BY julianday(started_at) DESC, id DESC) AS newest "
        f"  FROM poller_runs WHERE {clause}"
        ") WHERE newest <= ? ORDER BY poller_id, job, started_jd DESC, id DESC",
        (*args, spans.runs_per_job),
    )


def _run_stats(spans: DashboardSpans) -> Statement:
    """Finished runs per (poller, job) in the stats span: poller_id, job, runs, ok_runs, captured,
    total (sums), avg_duration_s."""
    clause, args = since("started_at", spans.now - spans.stats_lookback)
    return (
        "SELECT poller_id, COALESCE(job, 'unknown') AS job, COUNT(*) AS runs, "
        "SUM(CASE WHEN status = 'ok' THEN 1 ELSE 0 END) AS ok_runs, SUM(captured) AS captured, SUM(total) AS total, "
        "round(AVG((julianday(finished_at) - julianday(started_at)) * 86400), 1) AS avg_duration_s "
        f"FROM poller_runs WHERE status != 'running' AND {clause} GROUP BY poller_id, COALESCE(job, 'unknown') "
        "ORDER BY poller_id, job",
        args,
    )


def _open_runs(spans: DashboardSpans) -> Statement:
    """Runs still `running`, and runs closed as orphaned, started in the run span: run_id,
    poller_id, job, started_at, status, error."""
    clause, args = since("started_at", spans.now - spans.run_lookback)
    return (
        "SELECT run_id, poller_id, COALESCE(job, 'unknown') AS job, started_at, status, error FROM poller_runs "
        f"WHERE (status = 'running' OR error LIKE 'orphaned:%') AND {clause} ORDER BY julianday(started_at) DESC",
        args,
    )


def _priced_hours(spans: DashboardSpans) -> Statement:
    """(hour, coin, vendor) with a real price in a window of the hour: hour ("YYYY-MM-DDTHH"),
    coin_slug, vendor. window_start is always our `YYYY-MM-DDTHH:MM:00Z` shape."""
    start = (spans.hours_from or spans.hour_keys()[0]) + ":00:00Z"
    return (
        "SELECT DISTINCT substr(window_start, 1, 13) AS hour, coin_slug, vendor FROM price_snapshots "
        "WHERE window_start >= ? AND is_failed = 0 AND price IS NOT NULL",
        (start,),
    )


def _spot_slots(spans: DashboardSpans, bands: Mapping[str, Band]) -> Statement:
    """Plausible spot slots (inside the metal's band) of the spot span: metal (lower case), slot
    ("YYYY-MM-DDTHH:MM", either stored shape), poller_id."""
    band_sql, band_args = band_case(bands)
    clause, args = since("timestamp_floor", spans.now - timedelta(hours=spans.spot_hours))
    return (
        "SELECT lower(metal) AS metal, substr(replace(timestamp_floor, ' ', 'T'), 1, 16) AS slot, poller_id "
        f"FROM spot_prices WHERE {clause} AND {band_sql}",
        (*args, *band_args),
    )


def _failures_by_day(spans: DashboardSpans) -> Statement:
    """provider_failures rows per UTC day since the first day of the failure span: day, failures."""
    first_day = (spans.now - timedelta(days=spans.failure_days - 1)).replace(hour=0, minute=0, second=0, microsecond=0)
    clause, args = since("failed_at", first_day)
    day = _DAY_OF.format(column="failed_at")
    return (f"SELECT {day} AS day, COUNT(*) AS failures FROM provider_failures WHERE {clause} "
            f"GROUP BY {day} ORDER BY day", args)


def _failure_urls(spans: DashboardSpans) -> Statement:
    """The URL of each (coin, vendor)'s newest failure in the failure span: coin_slug, vendor_id, url.
    `+`: partitioning on the bare columns makes SQLite walk all of idx_pf_coin_vendor (every failure
    ever) instead of the 7-day range on idx_pf_failed_at."""
    clause, args = since("failed_at", spans.now - timedelta(days=spans.failure_days))
    return (
        "SELECT coin_slug, vendor_id, url FROM ("
        "  SELECT coin_slug, vendor_id, url, ROW_NUMBER() OVER (PARTITION BY +coin_slug, +vendor_id "
        "    ORDER BY julianday(failed_at) DESC, id DESC) AS newest "
        f"  FROM provider_failures WHERE {clause}"
        ") WHERE newest = 1",
        args,
    )


def _daily_prices(spans: DashboardSpans) -> Statement:
    """Per coin, UTC date and vendor of the price span (publish's history aggregates): coin_slug,
    day, vendor, in_stock and the sums `day_sums` and `day_averages` turn into in_stock_rows,
    avg_in_stock, low_in_stock, avg_any."""
    return DAILY_SUMS, (spans.daily_from or spans.day_keys()[0],)


def _recent_windows(spans: DashboardSpans) -> Statement:
    """The newest real-price row per (coin, vendor, window) of the window span (vision rows
    excluded): coin_slug, vendor, window_start, scraped_at, price, in_stock, confidence, source, poller_id."""
    start = spans.windows_from or spans.window_keys()[0]
    return (
        "SELECT coin_slug, vendor, window_start, scraped_at, price, in_stock, confidence, source, poller_id FROM ("
        "  SELECT coin_slug, vendor, window_start, scraped_at, price, in_stock, confidence, source, poller_id, "
        "  ROW_NUMBER() OVER (PARTITION BY coin_slug, vendor, window_start "
        "    ORDER BY scraped_at DESC, id DESC) AS newest "
        "  FROM price_snapshots WHERE window_start >= ? AND is_failed = 0 AND price > 0 "
        f"  AND {_NOT_VISION}"
        ") WHERE newest = 1 ORDER BY coin_slug, vendor, window_start",
        (start,),
    )


def read_dashboard_rows(store: Store, spans: DashboardSpans, bands: Mapping[str, Band]) -> DashboardRows:
    """Every dashboard read in one batch (one round trip, one consistent view of the tables)."""
    readers = {
        "runs": _runs(spans),
        "run_stats": _run_stats(spans),
        "open_runs": _open_runs(spans),
        "priced_hours": _priced_hours(spans),
        "spot_slots": _spot_slots(spans, bands),
        "failures_by_day": _failures_by_day(spans),
        "failure_urls": _failure_urls(spans),
        "daily_prices": _daily_prices(spans),
        "recent_windows": _recent_windows(spans),
    }
    results = store.db.batch(list(readers.values()))
    rows = {name: result_rows(result) for name, result in zip(readers, results, strict=True)}
    rows["daily_prices"] = day_averages(day_sums(rows["daily_prices"]))
    return DashboardRows(**rows)
