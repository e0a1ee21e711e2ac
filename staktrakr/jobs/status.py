"""What `staktrakr status` shows: runs per poller, this hour's coverage, chronic failures,
feed freshness and the outbox. Read-only: it never migrates, replays or writes anything.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from staktrakr.catalog import Catalog
from staktrakr.catalog.load import load_run_catalog
from staktrakr.errors import ConfigError, StatementRejected, StoreError
from staktrakr.ops.health import Freshness, read_freshness
from staktrakr.settings import Settings
from staktrakr.store import Store
from staktrakr.store.journal import journal_folder
from staktrakr.store.queries.prices import priced_pairs_since
from staktrakr.store.queries.runs import chronic_failures, latest_vision_counters, recent_runs
from staktrakr.timeutil import iso_z, parse_time, utcnow

RUNS_PER_POLLER = 5
CHRONIC_MIN_FAILURES = 3  # in 7 days, as the home dashboard counted them


@dataclass(frozen=True)
class RunLine:
    job: str
    started_at: str
    status: str
    captured: int | None
    total: int | None
    duration_s: float | None
    error: str | None


@dataclass(frozen=True)
class Coverage:
    hour_start: str
    covered: int
    enabled: int
    missing: list[str]  # "coin/vendor" without a price since hour_start

    @property
    def percent(self) -> float | None:
        return None if not self.enabled else round(100.0 * self.covered / self.enabled, 1)


@dataclass(frozen=True)
class ChronicFailure:
    coin_slug: str
    vendor_id: str
    failures: int
    last_failed_at: str | None
    last_error: str | None


@dataclass
class StatusReport:
    generated_at: str
    poller_id: str
    database: str
    database_error: str | None
    freshness: Freshness
    outbox: dict[str, Any]
    journals: dict[str, Any] = field(default_factory=dict)     # running / abandoned journals (store/journal.py)
    runs: dict[str, list[RunLine]] = field(default_factory=dict)
    coverage: Coverage | None = None
    coverage_error: str | None = None
    chronic: list[ChronicFailure] = field(default_factory=list)
    vision: dict[str, dict[str, Any]] = field(default_factory=dict)  # poller -> last scrape's vision counters

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["freshness"] = self.freshness.as_dict()
        if self.coverage is not None:
            data["coverage"]["percent"] = self.coverage.percent
        return data


def _duration(started: str | None, finished: str | None) -> float | None:
    if not started or not finished:
        return None
    try:
        return round((parse_time(finished) - parse_time(started)).total_seconds(), 1)
    except ValueError:
        return None


def _runs_by_poller(rows: list[dict[str, Any]], per_poller: int) -> dict[str, list[RunLine]]:
    grouped: dict[str, list[RunLine]] = {}
    for row in rows:  # newest first
        lines = grouped.setdefault(str(row["poller_id"]), [])
        if len(lines) < per_poller:
            lines.append(RunLine(row["job"], row["started_at"], row["status"], row["captured"], row["total"],
                                 _duration(row["started_at"], row["finished_at"]), row["error"]))
    return dict(sorted(grouped.items()))


def coverage_this_hour(store: Store, catalog: Catalog, now: datetime) -> Coverage:
    """Enabled targets with a price in a window of the current UTC hour, out of all enabled."""
    hour_start = now.strftime("%Y-%m-%dT%H:00:00Z")  # the window_start shape, so text order is time order
    try:
        priced = priced_pairs_since(store, hour_start)
    except StatementRejected as exc:
        if not exc.missing_table:
            raise
        priced = set()
    targets = [target.key for target in catalog.targets()]
    missing = [f"{coin}/{vendor}" for coin, vendor in targets if (coin, vendor) not in priced]
    return Coverage(hour_start, len(targets) - len(missing), len(targets), missing)


def collect_status(settings: Settings, store: Store, now: datetime | None = None,
                   runs_per_poller: int = RUNS_PER_POLLER) -> StatusReport:
    now = now or utcnow()
    freshness = read_freshness(store, settings, now)
    report = StatusReport(
        generated_at=iso_z(now), poller_id=settings.poller_id, database=store.db.display,
        database_error=freshness.database_error, freshness=freshness, outbox=store.outbox.report(),
        journals=journal_folder(store.journal_dir).as_dict(),
    )
    if freshness.database_error is not None:
        return report
    try:
        report.runs = _runs_by_poller(_rows_or_empty(lambda: recent_runs(store, now, runs_per_poller)), runs_per_poller)
        report.vision = {poller: json.loads(text) for poller, text in latest_vision_counters(store, now).items()}
        report.chronic = [ChronicFailure(**row) for row in
                          _rows_or_empty(lambda: chronic_failures(store, now, CHRONIC_MIN_FAILURES))]
        try:
            report.coverage = coverage_this_hour(store, load_run_catalog(settings, store), now)
        except ConfigError as exc:
            report.coverage_error = str(exc)
    except StoreError as exc:
        report.database_error = str(exc)
    return report


def _rows_or_empty(read: Callable[[], list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """A table that does not exist yet (fresh database) reads as empty, not as an outage."""
    try:
        return read()
    except StatementRejected as exc:
        if exc.missing_table:
            return []
        raise
