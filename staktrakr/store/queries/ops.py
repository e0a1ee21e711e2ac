"""Read-only queries behind health, metrics and `staktrakr status`.

Timestamps in the shared database come in two shapes: ours (`2026-03-15T17:30:02.913Z`) and
SQLite's `datetime('now')` default (`2026-03-15 17:30:02`) on old rows. Comparing them as text
is wrong on the boundary day (the old dashboard's bug), so every time filter here goes through
`since()`: a date-prefix test (both shapes start with YYYY-MM-DD, so it can use the index) and
an exact `julianday()` test (which reads both shapes).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from staktrakr.store import Store
from staktrakr.timeutil import as_utc

Rows = list[dict[str, Any]]


def since(column: str, cutoff: datetime) -> tuple[str, tuple[str, str]]:
    """SQL and args for `column >= cutoff` that holds for both timestamp shapes."""
    cutoff = as_utc(cutoff)
    return (
        f"({column} >= ? AND julianday({column}) >= julianday(?))",
        (cutoff.strftime("%Y-%m-%d"), cutoff.strftime("%Y-%m-%d %H:%M:%S")),
    )


def newest_retail_window(store: Store, now: datetime, lookback: timedelta = timedelta(days=30)) -> str | None:
    """The newest window_start holding a real price (failure rows do not count as fresh data)."""
    rows = store.db.query(
        "SELECT window_start FROM price_snapshots WHERE window_start >= ? AND is_failed = 0 "
        "AND price IS NOT NULL ORDER BY window_start DESC LIMIT 1",
        ((now - lookback).strftime("%Y-%m-%d"),),
    )
    return rows[0]["window_start"] if rows else None


def newest_spot_slot(store: Store, now: datetime, lookback: timedelta = timedelta(days=8)) -> str | None:
    """The newest spot_prices.timestamp_floor, ordered by time (not text) across both shapes."""
    rows = store.db.query(
        "SELECT timestamp_floor FROM spot_prices WHERE timestamp_floor >= ? AND spot > 0 "
        "ORDER BY julianday(timestamp_floor) DESC LIMIT 1",
        ((now - lookback).strftime("%Y-%m-%d"),),
    )
    if rows:
        return rows[0]["timestamp_floor"]
    rows = store.db.query("SELECT MAX(timestamp_floor) AS newest FROM spot_prices WHERE spot > 0")
    return rows[0]["newest"] if rows else None


def newest_goldback_date(store: Store) -> str | None:
    rows = store.db.query("SELECT MAX(date) AS newest FROM goldback_rates WHERE g1_usd > 0")
    return rows[0]["newest"] if rows else None


def latest_finished_runs(store: Store, now: datetime, lookback: timedelta = timedelta(days=7)) -> Rows:
    """The newest finished poller_runs row per (job, poller), by start time (ids follow insert
    order, which an outbox replay can shuffle); rows from before `job` existed are job `unknown`."""
    clause, args = since("started_at", now - lookback)
    return store.db.query(
        "SELECT job, poller_id, started_at, finished_at, status, total, captured, failures, error FROM ("
        "  SELECT COALESCE(job, 'unknown') AS job, poller_id, started_at, finished_at, status, total, captured, "
        "  failures, error, ROW_NUMBER() OVER (PARTITION BY COALESCE(job, 'unknown'), poller_id "
        "    ORDER BY julianday(started_at) DESC, id DESC) AS newest "
        f"  FROM poller_runs WHERE status != 'running' AND {clause}"
        ") WHERE newest = 1",
        args,
    )


def recent_runs(store: Store, now: datetime, per_poller: int = 5, lookback: timedelta = timedelta(days=7)) -> Rows:
    """Each poller's newest runs (by start time), newest first: a poller that stopped hours ago
    still shows, however busy the others are."""
    clause, args = since("started_at", now - lookback)
    return store.db.query(
        "SELECT run_id, job, poller_id, started_at, finished_at, status, total, captured, failures, error FROM ("
        "  SELECT run_id, COALESCE(job, 'unknown') AS job, poller_id, started_at, finished_at, status, total, "
        "  captured, failures, error, julianday(started_at) AS started_jd, id, ROW_NUMBER() OVER ("
        "    PARTITION BY poller_id ORDER BY julianday(started_at) DESC, id DESC) AS newest "
        f"  FROM poller_runs WHERE {clause}"
        ") WHERE newest <= ? ORDER BY poller_id, started_jd DESC, id DESC",
        (*args, per_poller),
    )


def failures_per_vendor(store: Store, now: datetime, lookback: timedelta = timedelta(days=7)) -> dict[str, int]:
    clause, args = since("failed_at", now - lookback)
    rows = store.db.query(
        f"SELECT vendor_id, COUNT(*) AS failures FROM provider_failures WHERE {clause} GROUP BY vendor_id", args
    )
    return {row["vendor_id"]: int(row["failures"]) for row in rows}


def chronic_failures(store: Store, now: datetime, minimum: int = 3,
                     lookback: timedelta = timedelta(days=7)) -> Rows:
    """(coin, vendor) pairs with `minimum`+ failures in the lookback, each with its last error."""
    clause, args = since("failed_at", now - lookback)
    return store.db.query(
        "SELECT f.coin_slug, f.vendor_id, f.failures, "
        "strftime('%Y-%m-%dT%H:%M:%SZ', f.last_jd) AS last_failed_at, "
        "(SELECT p.error FROM provider_failures p WHERE p.coin_slug = f.coin_slug AND p.vendor_id = f.vendor_id "
        "  ORDER BY julianday(p.failed_at) DESC, p.id DESC LIMIT 1) AS last_error "
        "FROM (SELECT coin_slug, vendor_id, COUNT(*) AS failures, MAX(julianday(failed_at)) AS last_jd "
        f"      FROM provider_failures WHERE {clause} GROUP BY coin_slug, vendor_id HAVING COUNT(*) >= ?) f "
        "ORDER BY f.failures DESC, f.coin_slug, f.vendor_id",
        (*args, minimum),
    )


def priced_pairs_since(store: Store, window_from: str) -> set[tuple[str, str]]:
    """(coin, vendor) pairs with a price in a window at or after `window_from` (ISO, same shape
    as window_start, which every writer stores as `YYYY-MM-DDTHH:MM:00Z`)."""
    rows = store.db.query(
        "SELECT DISTINCT coin_slug, vendor FROM price_snapshots WHERE window_start >= ? "
        "AND is_failed = 0 AND price IS NOT NULL",
        (window_from,),
    )
    return {(row["coin_slug"], row["vendor"]) for row in rows}
