"""Reads of `poller_runs` and `provider_failures` behind /metrics and `staktrakr status`.

Both tables hold both timestamp shapes (old rows have SQLite's default), so every time filter
goes through `since()` and every order by time through `julianday()`. Rows from before the
`job` column existed are job `unknown`. Raise StoreUnavailable, or StatementRejected
(missing_table on a fresh database); the callers decide what an empty or unreadable table means.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from staktrakr.errors import StatementRejected
from staktrakr.store.database import Rows
from staktrakr.store.queries.timestamps import since
from staktrakr.store.session import Store


def latest_finished_runs(store: Store, now: datetime, lookback: timedelta = timedelta(days=7)) -> Rows:
    """The newest finished poller_runs row per (job, poller) started within `lookback` of `now`,
    by start time (ids follow insert order, which an outbox replay can shuffle): rows of job,
    poller_id, started_at, finished_at, status, total, captured, failures, error."""
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
    """Each poller's newest `per_poller` runs started within `lookback` (by start time), grouped by
    poller, newest first: a poller that stopped hours ago still shows, however busy the others
    are. Rows of run_id, job, poller_id, started_at, finished_at, status, total, captured,
    failures, error."""
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
    """vendor_id -> provider_failures rows within `lookback` of `now` (vendors without one are absent)."""
    clause, args = since("failed_at", now - lookback)
    rows = store.db.query(
        f"SELECT vendor_id, COUNT(*) AS failures FROM provider_failures WHERE {clause} GROUP BY vendor_id", args
    )
    return {row["vendor_id"]: int(row["failures"]) for row in rows}


def chronic_failures(store: Store, now: datetime, minimum: int = 3,
                     lookback: timedelta = timedelta(days=7)) -> Rows:
    """(coin, vendor) pairs with `minimum`+ failures within `lookback`, most failures first: rows
    of coin_slug, vendor_id, failures, last_failed_at (ISO-8601 with Z) and last_error."""
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


def latest_vision_counters(store: Store, now: datetime, lookback: timedelta = timedelta(days=7)) -> dict[str, str]:
    """poller_id -> the `vision` counters (JSON text) of its newest finished scrape run that had the
    cross-check on, started within `lookback`. Empty on a database from before the column (status
    and /metrics never migrate); raises StoreUnavailable like the other reads."""
    clause, args = since("started_at", now - lookback)
    try:
        rows = store.db.query(
            "SELECT poller_id, vision FROM ("
            "  SELECT poller_id, vision, ROW_NUMBER() OVER (PARTITION BY poller_id "
            "    ORDER BY julianday(started_at) DESC, id DESC) AS newest "
            f"  FROM poller_runs WHERE status != 'running' AND vision IS NOT NULL AND {clause}"
            ") WHERE newest = 1",
            args,
        )
    except StatementRejected as exc:
        if exc.missing_table or "no such column" in str(exc):
            return {}
        raise
    return {str(row["poller_id"]): str(row["vision"]) for row in rows}
