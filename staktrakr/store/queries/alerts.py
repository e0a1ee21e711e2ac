"""Reads behind the alert rules (ops/alerts.py) and the shared `alert_state` table.

`alert_state` has one row per alert key. Every poller evaluates the same rules against the same
database; the one statement that claims a send (`claim_send`) or a resolution
(`claim_resolve`) is an atomic upsert/update with RETURNING, so when two pollers evaluate at
once exactly one of them gets the row back and sends. Raise StoreUnavailable / StatementRejected.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from staktrakr.store.database import Rows
from staktrakr.store.queries.timestamps import since
from staktrakr.store.session import Store
from staktrakr.timeutil import iso_z


def open_alerts(store: Store) -> Rows:
    """Alerts not resolved yet: rows of alert_key, scope, first_seen, last_sent, sent_by, message."""
    return store.db.query("SELECT alert_key, scope, first_seen, last_sent, sent_by, message FROM alert_state "
                          "WHERE resolved_at IS NULL ORDER BY alert_key")


def claim_send(store: Store, key: str, scope: str | None, message: str, now: datetime, repeat: timedelta,
               poller_id: str) -> bool:
    """Record that this poller sends `key` now, if it is new, resolved before, or last sent at least
    `repeat` ago; True when this call won the claim (and must send)."""
    sent_at = iso_z(now)
    rows = store.db.query(
        "INSERT INTO alert_state (alert_key, scope, first_seen, last_sent, sent_by, message) "
        "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(alert_key) DO UPDATE SET "
        "first_seen = CASE WHEN alert_state.resolved_at IS NULL THEN alert_state.first_seen "
        "  ELSE excluded.first_seen END, "
        "last_sent = excluded.last_sent, sent_by = excluded.sent_by, message = excluded.message, "
        "scope = excluded.scope, resolved_at = NULL "
        "WHERE alert_state.resolved_at IS NOT NULL OR alert_state.last_sent IS NULL "
        "  OR julianday(alert_state.last_sent) <= julianday(?) "
        "RETURNING alert_key",
        (key, scope, sent_at, sent_at, poller_id, message, iso_z(now - repeat)),
    )
    return bool(rows)


def release_send(store: Store, key: str, poller_id: str) -> None:
    """Undo this poller's claim after the notification failed: the next evaluation sends it again."""
    store.db.execute("UPDATE alert_state SET last_sent = NULL WHERE alert_key = ? AND sent_by = ?", (key, poller_id))


def claim_resolve(store: Store, key: str, now: datetime) -> bool:
    """Mark an open alert resolved; True when this call did it (and must send the resolved message)."""
    rows = store.db.query("UPDATE alert_state SET resolved_at = ? WHERE alert_key = ? AND resolved_at IS NULL "
                          "RETURNING alert_key", (iso_z(now), key))
    return bool(rows)


def vendor_windows(store: Store, window_from: str) -> Rows:
    """Per vendor and window since `window_from` (a window_start text): whether any of its rows
    was a price. Rows of vendor, window_start, priced (0/1), newest window first."""
    return store.db.query(
        "SELECT vendor, window_start, MAX(CASE WHEN is_failed = 0 THEN 1 ELSE 0 END) AS priced "
        "FROM price_snapshots WHERE window_start >= ? GROUP BY vendor, window_start "
        "ORDER BY vendor, window_start DESC", (window_from,))


def last_two_runs(store: Store, now: datetime, lookback: timedelta = timedelta(days=2)) -> Rows:
    """The two newest finished runs of each (job, poller) started within `lookback`: rows of job,
    poller_id, started_at, status, error, newest (1 or 2)."""
    clause, args = since("started_at", now - lookback)
    return store.db.query(
        "SELECT job, poller_id, started_at, status, error, newest FROM ("
        "  SELECT COALESCE(job, 'unknown') AS job, poller_id, started_at, status, error, ROW_NUMBER() OVER ("
        "    PARTITION BY COALESCE(job, 'unknown'), poller_id ORDER BY julianday(started_at) DESC, id DESC) AS newest"
        f"  FROM poller_runs WHERE status != 'running' AND {clause}"
        ") WHERE newest <= 2 ORDER BY job, poller_id, newest", args)


def stuck_runs(store: Store, now: datetime, older_than: timedelta) -> Rows:
    """Runs still `running` that started more than `older_than` ago (within a week): rows of run_id,
    job, poller_id, started_at."""
    clause, args = since("started_at", now - timedelta(days=7))
    return store.db.query(
        "SELECT run_id, COALESCE(job, 'unknown') AS job, poller_id, started_at FROM poller_runs "
        f"WHERE status = 'running' AND {clause} AND julianday(started_at) < julianday(?) ORDER BY started_at",
        (*args, iso_z(now - older_than)))


def newest_ok_runs(store: Store, jobs: tuple[str, ...]) -> Rows:
    """The newest successful run of each of `jobs` per poller: rows of job, poller_id, finished_at."""
    marks = ", ".join("?" for _ in jobs)
    return store.db.query(
        "SELECT job, poller_id, MAX(finished_at) AS finished_at FROM poller_runs "
        f"WHERE status = 'ok' AND job IN ({marks}) GROUP BY job, poller_id ORDER BY job, poller_id", jobs)


def last_two_window_prices(store: Store, window_from: str) -> Rows:
    """In-stock prices of each coin's two newest windows with any (since `window_from`): rows of
    coin_slug, window_start, price."""
    return store.db.query(
        "SELECT s.coin_slug, s.window_start, s.price FROM price_snapshots s JOIN ("
        "  SELECT coin_slug, window_start, ROW_NUMBER() OVER (PARTITION BY coin_slug ORDER BY window_start DESC) AS n"
        "  FROM (SELECT DISTINCT coin_slug, window_start FROM price_snapshots"
        "        WHERE window_start >= ? AND is_failed = 0 AND in_stock = 1 AND price IS NOT NULL)"
        ") w ON w.coin_slug = s.coin_slug AND w.window_start = s.window_start AND w.n <= 2 "
        "WHERE s.is_failed = 0 AND s.in_stock = 1 AND s.price IS NOT NULL "
        "ORDER BY s.coin_slug, s.window_start DESC", (window_from,))
