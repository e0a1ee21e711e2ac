"""`spot --backfill`: fill the days the database has no spot value for, from MetalPriceAPI `/timeframe`.

Rule (documented in the CLI help): the API gives one value per metal per DAY, so a day with no
plausible stored row for a metal gets exactly one row at 12:00 UTC (`DAILY_SLOT`, the time the
published spot-history seed uses), with source `metalprice-api-timeframe`. Missing 15-minute
slots inside days that have live rows are counted and reported, never fabricated. Every value
passes the same bands as live spot; idempotent through UNIQUE(metal, timestamp_floor).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta

from staktrakr.errors import ConfigError, JobFailed, JobInterrupted
from staktrakr.jobs.harness import JobRun, RunReport
from staktrakr.jobs.spot import JOB
from staktrakr.models import SpotPrice, spot_metal
from staktrakr.rules.bands import METALS, Band, band_problem
from staktrakr.settings import Settings
from staktrakr.sources.metalprice import MAX_TIMEFRAME_DAYS, SYMBOL_TO_METAL, MetalPriceClient, SpotApiError, usd_per_oz
from staktrakr.store import Store, WriteResult
from staktrakr.store.queries.spot import plausible_metal_days, plausible_metals_per_slot
from staktrakr.timeutil import iso_z, utcnow

log = logging.getLogger(__name__)

SOURCE_TIMEFRAME = "metalprice-api-timeframe"
DAILY_SLOT = "12:00"                 # a backfilled day's row sits in the 12:00 UTC slot
DEFAULT_BACKFILL_DAYS = 30


@dataclass
class BackfillResult:
    run_id: str
    since: str
    until: str
    status: str = "dry_run"                                  # filled | queued | nothing_missing | dry_run
    missing: dict[str, list[str]] = field(default_factory=dict)    # day -> metals without a value
    filled: list[dict[str, object]] = field(default_factory=list)  # {date, metal, spot, timestamp_floor}
    unfilled: list[str] = field(default_factory=list)              # "day metal: reason"
    missing_slots: int = 0         # 15-minute slots in the range lacking a metal (reported, not filled)
    api_calls: int = 0
    queued_rows: int = 0
    run: RunReport | None = None

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def daily_slot(day: date) -> str:
    return f"{day.isoformat()}T{DAILY_SLOT}:00Z"


def default_range(today: date, since: date | None, until: date | None) -> tuple[date, date]:
    """[since, until] inclusive: by default the last DEFAULT_BACKFILL_DAYS full UTC days (today excluded,
    its daily value is not final)."""
    until = until or today - timedelta(days=1)
    since = since or until - timedelta(days=DEFAULT_BACKFILL_DAYS - 1)
    if since > until:
        raise ConfigError(f"--since {since} is after --until {until}: pick an earlier --since")
    if until > today:
        raise ConfigError(f"--until {until} is in the future (today is {today} UTC)")
    return since, until


def _days(since: date, until: date) -> list[date]:
    return [since + timedelta(days=offset) for offset in range((until - since).days + 1)]


def find_missing(store: Store, since: date, until: date, bands: dict[str, Band],
                 now: datetime) -> tuple[dict[date, list[str]], int]:
    """(day -> metals with no plausible row that day, count of incomplete past 15-minute slots); two queries."""
    start, end = f"{since.isoformat()}T00:00:00Z", f"{(until + timedelta(days=1)).isoformat()}T00:00:00Z"
    present = plausible_metal_days(store, start, end, bands)
    missing = {day: [m for m in METALS if (day.isoformat(), m) not in present] for day in _days(since, until)}
    metals_per_slot = plausible_metals_per_slot(store, start, end, bands)
    complete_slots = sum(1 for slot, metals in metals_per_slot.items() if metals >= len(METALS) and slot[14:16]
                         in ("00", "15", "30", "45"))
    range_end = min(datetime.combine(until + timedelta(days=1), datetime.min.time(), UTC), now)
    range_start = datetime.combine(since, datetime.min.time(), UTC)
    total_slots = max(int((range_end - range_start).total_seconds() // 900), 0)
    return {day: metals for day, metals in missing.items() if metals}, max(total_slots - complete_slots, 0)


def timeframe_chunks(days: list[date]) -> list[tuple[date, date]]:
    """Spans of at most MAX_TIMEFRAME_DAYS covering the given (sorted) days, one API call each."""
    chunks: list[tuple[date, date]] = []
    for day in sorted(days):
        if chunks and (day - chunks[-1][0]).days < MAX_TIMEFRAME_DAYS:
            chunks[-1] = (chunks[-1][0], day)
        else:
            chunks.append((day, day))
    return chunks


def run_backfill(settings: Settings, store: Store, *, since: date | None = None, until: date | None = None,
                 dry_run: bool = False, client_factory: Callable[[Settings], MetalPriceClient] = MetalPriceClient,
                 now: datetime | None = None) -> BackfillResult:
    """Fill missing spot days in [since, until] from `/timeframe`; one write batch with the run row.
    Runs as job `spot` (it shares the spot lock) with run ids `<poller>-spot-backfill-...`."""
    started = now or utcnow()
    since, until = default_range(started.astimezone(UTC).date(), since, until)
    bands = settings.spot_bands
    with JobRun(settings, store, JOB, dry_run=dry_run, started=started, prepare=True,
                run_id_job=JOB + "-backfill") as run:
        result = BackfillResult(run_id=run.run_id, since=since.isoformat(), until=until.isoformat(), run=run.report)
        with client_factory(settings) as client:
            if run.prepared is not None and not run.prepared.schema_ok:
                raise JobFailed(f"spot --backfill: cannot read the database to find gaps: {run.prepared.error}")
            missing, result.missing_slots = find_missing(store, since, until, bands, started)
            result.missing = {day.isoformat(): metals for day, metals in missing.items()}
            if not missing:
                result.status = "nothing_missing"
                run.finish(total=0, captured=0, failures=0, note="no day without a spot value")
                return result
            rows: list[SpotPrice] = []
            try:
                for start, end in timeframe_chunks(list(missing)):
                    try:  # a stop ends the call in flight; the rows of earlier chunks are stored below
                        with run.stop.interruptible("spot --backfill", "a /timeframe call"):
                            daily_rates = client.timeframe(start, end)
                    except JobInterrupted:
                        break
                    rows += _rows_for_chunk(daily_rates, missing, start, end, bands, settings, result)
            except SpotApiError as exc:
                result.api_calls = client.calls
                reason = f"spot --backfill: {exc} ({len(rows)} rows from earlier chunks kept)"
                _finish(run, result, [] if dry_run else rows, error=reason)
                raise JobFailed(reason) from None
            result.api_calls = client.calls
        written = _finish(run, result, [] if dry_run else rows)
        if dry_run:
            return result
        result.queued_rows = written.data_queued_rows
        result.status = "queued" if written.queued else "filled"
        return result


def _finish(run: JobRun, result: BackfillResult, rows: list[SpotPrice], error: str | None = None) -> WriteResult:
    total = sum(len(metals) for metals in result.missing.values())
    return run.finish(rows, total=total, captured=len(result.filled), failures=total - len(result.filled), error=error)


def _rows_for_chunk(daily_rates: dict[str, dict[str, object]], missing: dict[date, list[str]], start: date,
                    end: date, bands: dict[str, Band], settings: Settings, result: BackfillResult) -> list[SpotPrice]:
    fetched_at = iso_z(utcnow())
    metal_symbol = {metal: symbol for symbol, metal in SYMBOL_TO_METAL.items()}
    rows = []
    for day, metals in missing.items():
        if not start <= day <= end:
            continue
        day_rates = daily_rates.get(day.isoformat())
        for metal in metals:
            if day_rates is None:
                result.unfilled.append(f"{day} {metal}: no rates for the day in the /timeframe answer")
                continue
            try:
                value = usd_per_oz(day_rates, metal_symbol[metal], f"/timeframe {day}")
            except SpotApiError as exc:
                result.unfilled.append(f"{day} {metal}: {exc}")
                continue
            if problem := band_problem(metal, value, bands):
                result.unfilled.append(f"{day} {metal}: {problem}")
                continue
            slot = daily_slot(day)
            rows.append(SpotPrice(metal=spot_metal(metal), spot=value, source=SOURCE_TIMEFRAME,
                                  poller_id=settings.poller_id, timestamp=slot, timestamp_floor=slot,
                                  scraped_at=fetched_at))
            result.filled.append({"date": day.isoformat(), "metal": metal, "spot": value, "timestamp_floor": slot})
    return rows
