"""The alert rules: what in the shared database (and this host's outbox) the operator must be told.

Each rule returns the alerts active now, keyed so the same condition has the same key on every
poller (state lives in `alert_state`, ops/alerts.py). Rules and their thresholds:

- feed_stale:<feed>: retail, spot and Goldback older than ops/health.py's FEED_MAX_AGE; publish
  (per poller) and merge older than PUBLISH_MAX_AGE / MERGE_MAX_AGE since their last `ok` run
  (only once a run of that job has succeeded: a host that never publishes is not stale);
- vendor_failing:<vendor>: no price from the vendor in its last ALERT_VENDOR_WINDOWS windows;
- chronic:<coin>/<vendor>: 3+ failures in 7 days (as `status` counts them), enabled targets only;
- job_failing:<job>/<poller>: the two newest runs of a job on a poller both ended `error`;
- run_stuck:<run_id>: a run `running` for longer than RUN_STUCK_AFTER;
- outbox_growing:<poller>: this host's outbox has held an entry for OUTBOX_MAX_AGE (host scope);
- retail_jump:<coin>: the upper median moved more than RETAIL_ALERT_JUMP between the coin's two
  newest windows (what two publishes show);
- spot_rejected:<poller>: the newest spot run refused a value by the jump rule (SPOT_MAX_JUMP).
Disabling a target (providers disable) clears its chronic and vendor alerts.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from staktrakr.catalog import Catalog
from staktrakr.errors import StatementRejected, StoreUnavailable
from staktrakr.jobs.status import CHRONIC_MIN_FAILURES
from staktrakr.ops.health import PUBLISH_MAX_AGE, read_freshness
from staktrakr.rules.scoring import upper_median
from staktrakr.settings import Settings
from staktrakr.store import Store
from staktrakr.store.database import Rows
from staktrakr.store.queries.alerts import (
    last_two_runs,
    last_two_window_prices,
    newest_ok_runs,
    stuck_runs,
    vendor_windows,
)
from staktrakr.store.queries.prices import RETAIL_LOOKBACK_DAYS
from staktrakr.store.queries.runs import chronic_failures
from staktrakr.timeutil import iso_z, parse_time

MERGE_MAX_AGE = timedelta(minutes=45)      # merge runs every 15 min on one host
RUN_STUCK_AFTER = timedelta(hours=1)       # longer than any job's cron timeout (ops/jobs.py)
OUTBOX_MAX_AGE = timedelta(hours=1)
SPOT_JUMP_ERROR = "unconfirmed spot jump"  # jobs/spot.py's error text for a value the jump rule refused
WINDOW = timedelta(minutes=15)


@dataclass(frozen=True)
class Alert:
    """One active condition: its key (same on every poller), its scope (None: shared; a poller id:
    only that host can see it clear) and the text of the notification."""

    key: str
    title: str
    detail: str
    scope: str | None = None


def evaluate(settings: Settings, store: Store, catalog: Catalog | None, now: datetime) -> list[Alert]:
    """Every active alert, sorted by key. Raises StoreUnavailable when the database cannot be read."""
    found: list[Alert] = []
    for rule in (_stale_feeds, _job_runs, _retail_jumps):
        found += _tolerating_fresh_database(rule, settings, store, now)
    if catalog is not None:
        found += _tolerating_fresh_database(
            lambda settings, store, now: _target_failures(settings, store, catalog, now), settings, store, now)
    found += _outbox(settings, store, now)
    return sorted(found, key=lambda alert: alert.key)


def _tolerating_fresh_database(rule: Callable[[Settings, Store, datetime], list[Alert]], settings: Settings,
                               store: Store, now: datetime) -> list[Alert]:
    try:
        return rule(settings, store, now)
    except StatementRejected as exc:
        if exc.missing_table:  # a table not created yet holds nothing to alert on
            return []
        raise


def _age_text(seconds: float) -> str:
    return f"{seconds / 3600:.1f} h" if seconds >= 3600 else f"{seconds / 60:.0f} min"


def _stale_feeds(settings: Settings, store: Store, now: datetime) -> list[Alert]:
    alerts = []
    freshness = read_freshness(store, settings, now)
    if freshness.database_error is not None:
        raise StoreUnavailable(freshness.database_error)
    for feed in freshness.feeds:
        if feed.feed == "publish" or not feed.stale:
            continue  # publish is judged per poller from its runs below (this host's export dir is not shared)
        nothing = (f"no retail data in the last {RETAIL_LOOKBACK_DAYS} days" if feed.feed == "retail"
                   else f"no {feed.feed} data at all")  # retail is only searched that far back
        detail = (nothing if feed.age_s is None else
                  f"newest {feed.feed} item {feed.newest} is {_age_text(feed.age_s)} old "
                  f"(limit {_age_text(feed.max_age_s)})")
        alerts.append(Alert(f"feed_stale:{feed.feed}", f"{feed.feed} feed stale", detail))
    limits = {"publish": PUBLISH_MAX_AGE, "merge": MERGE_MAX_AGE}
    for row in newest_ok_runs(store, ("publish", "merge")):
        limit = limits[str(row["job"])]
        age = now - parse_time(str(row["finished_at"]))
        if age > limit:
            key = f"feed_stale:{row['job']}" + (f"/{row['poller_id']}" if row["job"] == "publish" else "")
            alerts.append(Alert(key, f"{row['job']} stale on {row['poller_id']}",
                                f"last successful {row['job']} on {row['poller_id']} finished {row['finished_at']}, "
                                f"{_age_text(age.total_seconds())} ago (limit {_age_text(limit.total_seconds())})"))
    return alerts


def _target_failures(settings: Settings, store: Store, catalog: Catalog, now: datetime) -> list[Alert]:
    enabled = {target.key for target in catalog.targets()}
    vendors = {vendor for _, vendor in enabled}
    alerts = []
    windows_needed = settings.alert_vendor_windows
    window_from = iso_z(now - WINDOW * (windows_needed + 8))[:16] + ":00Z"
    by_vendor: dict[str, list[int]] = defaultdict(list)
    for row in vendor_windows(store, window_from):
        by_vendor[str(row["vendor"])].append(int(row["priced"]))
    for vendor, priced in sorted(by_vendor.items()):
        if vendor in vendors and len(priced) >= windows_needed and not any(priced[:windows_needed]):
            alerts.append(Alert(f"vendor_failing:{vendor}", f"vendor {vendor} failing",
                                f"{vendor}: no price in its last {windows_needed} windows (every target failed); "
                                f"run `staktrakr diagnose --coin SLUG --vendor {vendor}`"))
    for row in chronic_failures(store, now, CHRONIC_MIN_FAILURES):
        if (row["coin_slug"], row["vendor_id"]) not in enabled:
            continue
        key = f"{row['coin_slug']}/{row['vendor_id']}"
        alerts.append(Alert(f"chronic:{key}", f"target {key} chronic",
                            f"{key}: {row['failures']} failures in 7 days, last {row['last_failed_at']}: "
                            f"{row['last_error']}; run `staktrakr diagnose --coin {row['coin_slug']} "
                            f"--vendor {row['vendor_id']}`"))
    return alerts


def _job_runs(settings: Settings, store: Store, now: datetime) -> list[Alert]:
    alerts = []
    runs: dict[tuple[str, str], Rows] = defaultdict(list)
    for row in last_two_runs(store, now):
        runs[(str(row["job"]), str(row["poller_id"]))].append(row)
    for (job, poller), pair in sorted(runs.items()):
        if len(pair) == 2 and all(row["status"] == "error" for row in pair):
            alerts.append(Alert(f"job_failing:{job}/{poller}", f"{job} failing on {poller}",
                                f"{job} on {poller} failed twice in a row; last error: {pair[0]['error']}"))
        newest = pair[0]
        if job == "spot" and newest["status"] == "error" and SPOT_JUMP_ERROR in str(newest["error"] or ""):
            alerts.append(Alert(f"spot_rejected:{poller}", f"spot value rejected on {poller}",
                                f"spot on {poller} at {newest['started_at']}: {newest['error']}"))
    for row in stuck_runs(store, now, RUN_STUCK_AFTER):
        alerts.append(Alert(f"run_stuck:{row['run_id']}", f"{row['job']} run stuck on {row['poller_id']}",
                            f"run {row['run_id']} ({row['job']} on {row['poller_id']}) has been running since "
                            f"{row['started_at']}"))
    return alerts


def _retail_jumps(settings: Settings, store: Store, now: datetime) -> list[Alert]:
    prices: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for row in last_two_window_prices(store, iso_z(now - timedelta(days=1))[:16] + ":00Z"):
        prices[str(row["coin_slug"])][str(row["window_start"])].append(float(row["price"]))
    alerts = []
    for coin, windows in sorted(prices.items()):
        if len(windows) < 2:
            continue
        (newer, newer_prices), (older, older_prices) = sorted(windows.items(), reverse=True)[:2]
        new_median, old_median = upper_median(newer_prices), upper_median(older_prices)
        if new_median is None or not old_median:
            continue
        move = new_median / old_median - 1
        if abs(move) > settings.retail_alert_jump:
            alerts.append(Alert(f"retail_jump:{coin}", f"{coin} median moved {move:+.1%}",
                                f"{coin}: median {old_median:,.2f} ({older}) -> {new_median:,.2f} ({newer}), "
                                f"{move:+.1%}, more than RETAIL_ALERT_JUMP {settings.retail_alert_jump:.0%}"))
    return alerts


def _outbox(settings: Settings, store: Store, now: datetime) -> list[Alert]:
    entries, _ = store.outbox.read()
    done = store.outbox.done_ids()
    waiting = [entry for entry in entries if entry.id not in done]
    if not waiting:
        return []
    oldest = min(parse_time(entry.queued_at) for entry in waiting)
    if now - oldest < OUTBOX_MAX_AGE:
        return []
    rows = sum(entry.row_count for entry in waiting)
    return [Alert(f"outbox_growing:{settings.poller_id}", f"outbox not draining on {settings.poller_id}",
                  f"{settings.poller_id}: {len(waiting)} outbox entries ({rows} rows) waiting since "
                  f"{iso_z(oldest)}; the database is not taking writes (staktrakr db status)",
                  scope=settings.poller_id)]
