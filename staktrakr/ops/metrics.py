"""`GET /metrics`: Prometheus text with HELP and TYPE, from a cached read of the database.

A custom collector reads poller_runs, provider_failures and the feeds at most once per
METRICS_CACHE_S, so a Prometheus scraping every 15 s costs one database read per 30 s, and a
database outage shows as `staktrakr_database_up 0` instead of an error page.
"""

from __future__ import annotations

import json
import platform
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from prometheus_client.core import CollectorRegistry, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from staktrakr import __version__
from staktrakr.errors import StatementRejected, StoreUnavailable
from staktrakr.ops.health import Freshness, read_freshness
from staktrakr.settings import Settings
from staktrakr.store import Store
from staktrakr.store.queries.runs import failures_per_vendor, latest_finished_runs, latest_vision_counters
from staktrakr.timeutil import parse_time, utcnow

METRICS_CACHE_S = 30.0
# The vision cross-check's counters of each poller's last scrape run with it on (poller_runs.vision).
VISION_GAUGES: dict[str, str] = {
    "calls": "Gemini calls made by the last scrape run with the vision cross-check.",
    "reused": "Vision readings reused for an identical screenshot (no call) in that run.",
    "agreed": "Targets whose scraped and vision prices agreed within 3% in that run.",
    "disagreed": "Targets whose scraped and vision prices disagreed in that run.",
    "vision_only": "Targets with a vision price and no scraped price in that run.",
    "failed": "Vision checks that gave no reading (Gemini errors, no screenshot) in that run.",
    "tokens": "Gemini tokens (usageMetadata.totalTokenCount) spent in that run.",
    "call_seconds": "Seconds spent in Gemini calls in that run (summed over concurrent calls).",
}
VENDOR_FAILURE_WINDOW = "7d"  # what failures_per_vendor counts; a label, so the name holds no window


def build_info() -> GaugeMetricFamily:
    """`staktrakr_build_info{version,python}` 1: the info-metric pattern of Prometheus's naming guide."""
    family = GaugeMetricFamily("staktrakr_build_info", "The staktrakr version and Python serving these metrics.",
                               labels=["version", "python"])
    family.add_metric([__version__, platform.python_version()], 1.0)
    return family


@dataclass
class OpsSnapshot:
    taken_at: float
    freshness: Freshness
    runs: list[dict[str, Any]] = field(default_factory=list)
    vendor_failures: dict[str, int] = field(default_factory=dict)
    vision: dict[str, dict[str, Any]] = field(default_factory=dict)   # poller -> last scrape's vision counters
    outbox_rows: int = 0
    outbox_quarantined: int = 0
    database_up: bool = True


def _seconds(text: str | None) -> float | None:
    if not text:
        return None
    try:
        return parse_time(str(text)).timestamp()
    except ValueError:
        return None


def read_snapshot(store: Store, settings: Settings, now: datetime) -> OpsSnapshot:
    freshness = read_freshness(store, settings, now)
    outbox = store.outbox.report()
    snapshot = OpsSnapshot(time.monotonic(), freshness, outbox_rows=outbox["rows"],
                           outbox_quarantined=outbox["quarantined"] + outbox["rejected"])
    if freshness.database_error is not None:
        snapshot.database_up = False
        return snapshot
    try:
        snapshot.runs = latest_finished_runs(store, now)
        snapshot.vendor_failures = failures_per_vendor(store, now)
        snapshot.vision = {poller: json.loads(text) for poller, text in latest_vision_counters(store, now).items()}
    except StoreUnavailable:
        snapshot.database_up = False
    except StatementRejected as exc:
        if not exc.missing_table:
            raise
        snapshot.database_up = True
    return snapshot


class OpsCollector(Collector):
    """Yields the metric families from a snapshot no older than `cache_s`."""

    def __init__(self, read: Callable[[], OpsSnapshot], cache_s: float = METRICS_CACHE_S) -> None:
        self._read = read
        self._cache_s = cache_s
        self._snapshot: OpsSnapshot | None = None
        self._lock = threading.Lock()

    def snapshot(self) -> OpsSnapshot:
        with self._lock:
            if self._snapshot is None or time.monotonic() - self._snapshot.taken_at >= self._cache_s:
                self._snapshot = self._read()
            return self._snapshot

    def describe(self) -> Iterator[Metric]:
        return iter(())  # collected lazily: registering must not touch the database

    def collect(self) -> Iterator[Metric]:
        yield build_info()
        snap = self.snapshot()
        yield _gauge("staktrakr_database_up", "1 if the database answered the last read, else 0.",
                     [((), 1.0 if snap.database_up else 0.0)])
        yield _gauge("staktrakr_outbox_rows", "Rows waiting in this host's outbox for the database.",
                     [((), float(snap.outbox_rows))])
        yield _gauge("staktrakr_outbox_quarantined", "Outbox entries moved to the quarantine or rejected "
                     "file on this host (need the operator).", [((), float(snap.outbox_quarantined))])
        yield _gauge("staktrakr_metrics_snapshot_age_seconds", "Age of the cached database read behind these metrics.",
                     [((), round(time.monotonic() - snap.taken_at, 3))])

        feeds = snap.freshness.feeds
        yield _gauge("staktrakr_feed_age_seconds", "Age of the newest item of each feed (absent when unknown).",
                     [((f.feed,), f.age_s) for f in feeds if f.age_s is not None], ("feed",))
        yield _gauge("staktrakr_feed_max_age_seconds", "Age past which a feed counts as stale.",
                     [((f.feed,), f.max_age_s) for f in feeds], ("feed",))
        yield _gauge("staktrakr_feed_stale", "1 if the feed is older than its threshold or unknown.",
                     [((f.feed,), 1.0 if f.stale else 0.0) for f in feeds], ("feed",))

        # `job_name`, not `job`: Prometheus sets `job` on every target it scrapes (ours would arrive as exported_job)
        labels = ("job_name", "poller")
        runs = [(run, (str(run["job"]), str(run["poller_id"]))) for run in snap.runs]
        yield _gauge("staktrakr_job_last_run_timestamp_seconds",
                     "Start time (unix seconds) of the last finished run per job and poller.",
                     [(key, _seconds(run["started_at"])) for run, key in runs], labels)
        yield _gauge("staktrakr_job_last_run_duration_seconds", "Duration of the last finished run.",
                     [(key, _duration(run)) for run, key in runs], labels)
        yield _gauge("staktrakr_job_last_run_success", "1 if the last finished run ended ok, else 0.",
                     [(key, 1.0 if run["status"] == "ok" else 0.0) for run, key in runs], labels)
        yield _gauge("staktrakr_job_last_run_targets", "Targets (total) of the last finished run.",
                     [(key, run["total"]) for run, key in runs], labels)
        yield _gauge("staktrakr_job_last_run_captured", "Items captured by the last finished run.",
                     [(key, run["captured"]) for run, key in runs], labels)
        yield _gauge("staktrakr_job_last_run_failures", "Failures in the last finished run.",
                     [(key, run["failures"]) for run, key in runs], labels)
        for counter, help_text in VISION_GAUGES.items():
            yield _gauge(f"staktrakr_vision_last_run_{counter}", help_text,
                         [((poller,), counters.get(counter)) for poller, counters in sorted(snap.vision.items())],
                         ("poller",))
        yield _gauge("staktrakr_vendor_failures", "provider_failures rows per vendor within the window label.",
                     [((vendor, VENDOR_FAILURE_WINDOW), count)
                      for vendor, count in sorted(snap.vendor_failures.items())],
                     ("vendor", "window"))


def _duration(run: dict[str, Any]) -> float | None:
    started, finished = _seconds(run["started_at"]), _seconds(run["finished_at"])
    return None if started is None or finished is None else max(0.0, finished - started)


def _gauge(name: str, documentation: str, samples: list[tuple[tuple[str, ...], float | int | None]],
           labels: tuple[str, ...] = ()) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, documentation, labels=list(labels))
    for label_values, value in samples:
        if value is not None:
            family.add_metric(list(label_values), float(value))
    return family


def build_registry(store_reader: Callable[[], OpsSnapshot], cache_s: float = METRICS_CACHE_S) -> CollectorRegistry:
    """A registry of our own (not the global one), so each app instance has its own collector."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(OpsCollector(store_reader, cache_s))
    return registry


def snapshot_reader(store: Store, settings: Settings, db_lock: threading.Lock) -> Callable[[], OpsSnapshot]:
    def _read() -> OpsSnapshot:
        with db_lock:
            return read_snapshot(store, settings, utcnow())

    return _read
