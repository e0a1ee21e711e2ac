"""Reads of `spot_prices`: publish's slots and seed entries, the newest plausible values the jobs
check against, the spot job's slot check, backfill's gaps and health's freshness.

Spot is USD per troy ounce, one row per (metal, timestamp_floor). Other writers share the table
and have stored 0 and 0.01, so every value read for use passes its metal's band (`Band`, low and
high USD/oz) in SQL. `timestamp_floor` comes in both timestamp shapes (see timestamps.py); ours
is the 15-minute slot `YYYY-MM-DDTHH:MM:00Z`. Publish's tables are small; the other reads are
ranges on idx_spot_metal_floor / idx_spot_floor.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from staktrakr.export.model import SpotEntry
from staktrakr.export.spot import SEED_HOUR_UTC, seed_entry
from staktrakr.rules.bands import METALS, SPOT_BANDS_USD_PER_OZ, Band
from staktrakr.store.database import Database, Rows, result_rows
from staktrakr.store.queries.timestamps import HOUR_KEY
from staktrakr.store.session import Store
from staktrakr.timeutil import parse_time, spot_timestamp

SPOT_REPAIR_DAYS = 7


@dataclass
class SpotData:
    """What publish's spot files are built from."""

    slots: list[SpotEntry] = field(default_factory=list)  # every slot of the touched hours
    seed_by_year: dict[str, list[SpotEntry]] = field(default_factory=dict)  # "YYYY" -> daily seed entries


def band_case(bands: Mapping[str, Band]) -> tuple[str, list[Any]]:
    """SQL true only for a spot inside its metal's band (unknown metals are refused)."""
    clauses, args = [], []
    for metal, band in sorted(bands.items()):
        clauses.append("WHEN ? THEN spot BETWEEN ? AND ?")
        args += [metal, band.low, band.high]
    return "(CASE lower(metal) " + " ".join(clauses) + " ELSE 0 END)", args


def read_spot(db: Database, hours: int, bands: Mapping[str, Band],
              published_count: Callable[[str], int | None] | None = None) -> SpotData:
    """Every slot of every hour touched in the last `hours` (by slot or by write time), and the
    daily seed entries of the current (and, on its first day, the previous) year; empty when the
    table holds no row. Raises StoreUnavailable / StatementRejected (publish needs the database).

    `published_count(hour)` gives the entries of the hour's published file ("YYYY-MM-DDTHH", None
    when absent): an hour of the last SPOT_REPAIR_DAYS for which the database holds more valid
    entries than the file (rows replayed from an outbox after a long outage) is rebuilt too."""
    data = SpotData()
    newest = db.query("SELECT MAX(timestamp_floor) AS slot, MAX(replace(scraped_at, ' ', 'T')) AS written "
                      "FROM spot_prices")
    if not newest or not newest[0]["slot"]:
        return data
    newest_slot = parse_time(newest[0]["slot"])
    slot_since = (newest_slot - timedelta(hours=hours - 1)).strftime("%Y-%m-%dT%H")
    written = newest[0]["written"] or newest[0]["slot"]
    written_since = (parse_time(written) - timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M:%S")
    band_sql, band_args = band_case(bands)
    late_hours = _late_hours(db, newest_slot, band_sql, band_args, published_count) if published_count else []
    late_sql = f" OR {HOUR_KEY} IN ({', '.join('?' for _ in late_hours)})" if late_hours else ""
    rows = db.query(
        "SELECT lower(metal) AS metal, spot, timestamp_floor FROM spot_prices "
        f"WHERE ({HOUR_KEY} IN (SELECT DISTINCT {HOUR_KEY} FROM spot_prices "
        f"  WHERE timestamp_floor >= ? OR replace(scraped_at, ' ', 'T') >= ?){late_sql}) "
        f"AND {band_sql} ORDER BY timestamp_floor, metal",
        (slot_since, written_since, *late_hours, *band_args),
    )
    data.slots = [SpotEntry(row["metal"], float(row["spot"]), spot_timestamp(parse_time(row["timestamp_floor"])))
                  for row in rows]
    newest_day = newest_slot.strftime("%Y-%m-%d")
    years = sorted({newest_slot.strftime("%Y"), (newest_slot - timedelta(days=1)).strftime("%Y")})
    for year in years:
        data.seed_by_year[year] = _seed_entries(db, year, newest_day, band_sql, band_args)
    return data


def _late_hours(db: Database, newest_slot: datetime, band_sql: str, band_args: list[Any],
                published_count: Callable[[str], int | None]) -> list[str]:
    """Hours of the last SPOT_REPAIR_DAYS whose published file has fewer entries than the database
    (a file is never shrunk here: only late rows are added)."""
    since = (newest_slot - timedelta(days=SPOT_REPAIR_DAYS)).strftime("%Y-%m-%d")
    counts = db.query(
        f"SELECT {HOUR_KEY} AS hour, COUNT(DISTINCT lower(metal) || substr(replace(timestamp_floor, ' ', 'T'), 1, 19)) "
        f"AS n FROM spot_prices WHERE timestamp_floor >= ? AND {band_sql} GROUP BY hour ORDER BY hour",
        (since, *band_args),
    )
    return [row["hour"] for row in counts if int(row["n"]) > (published_count(row["hour"]) or 0)]


def _seed_entries(db: Database, year: str, newest_day: str, band_sql: str, band_args: list[Any]) -> list[SpotEntry]:
    """One entry per metal and day of `year`: the first slot at or after SEED_HOUR_UTC, else (for
    days before `newest_day`, which are complete) the day's last slot. One batch."""
    span = (f"{year}-01-01", f"{int(year) + 1}-01-01")
    pick = (
        "SELECT lower(metal) AS metal, substr(timestamp_floor, 1, 10) AS day, spot, {agg}(timestamp_floor) AS slot "
        "FROM spot_prices WHERE timestamp_floor >= ? AND timestamp_floor < ? {hour} AND " + band_sql +
        " GROUP BY lower(metal), day"
    )
    after_seed_hour, last_of_day = db.batch([
        (pick.format(agg="MIN", hour="AND substr(timestamp_floor, 12, 2) >= ?"),
         (*span, f"{SEED_HOUR_UTC:02d}", *band_args)),
        (pick.format(agg="MAX", hour=""), (*span, *band_args)),
    ])
    chosen: dict[tuple[str, str], float] = {}
    for row in result_rows(last_of_day):
        if row["day"] < newest_day:
            chosen[(row["metal"], row["day"])] = float(row["spot"])
    for row in result_rows(after_seed_hour):
        chosen[(row["metal"], row["day"])] = float(row["spot"])
    return [seed_entry(metal, day, spot) for (metal, day), spot in sorted(chosen.items())]


def _newest_per_metal(store: Store, columns: str, slot_filter: str,
                      per_metal: Sequence[tuple[str, Sequence[Any], Band]]) -> Rows | None:
    """The newest in-band row of each metal (one `UNION ALL` query, one round trip): `per_metal`
    gives each metal, the arguments of `slot_filter` and its band. None when unreadable."""
    parts, args = [], []
    for metal, filter_args, band in per_metal:
        parts.append(f"SELECT * FROM (SELECT {columns} FROM spot_prices WHERE metal = ? {slot_filter}"
                     "AND spot BETWEEN ? AND ? ORDER BY timestamp_floor DESC LIMIT 1)")
        args += [metal, *filter_args, band.low, band.high]
    return store.query_if_available(" UNION ALL ".join(parts), args)


def latest_spot(store: Store, bands: Mapping[str, Band] = SPOT_BANDS_USD_PER_OZ) -> dict[str, float]:
    """Newest plausible stored spot per metal of `bands` (USD/oz, inside its band), in one query;
    empty when none or the database is unreachable or has no tables yet."""
    rows = _newest_per_metal(store, "metal, spot", "", [(metal, (), band) for metal, band in sorted(bands.items())])
    return {row["metal"]: float(row["spot"]) for row in rows or []}


def plausible_spots_before(store: Store, slot: str, oldest: str, bands: Mapping[str, Band]) -> Rows | None:
    """Per metal, the newest in-band row with `oldest` <= timestamp_floor < `slot` (both slot
    texts `YYYY-MM-DDTHH:MM:00Z`): rows of metal, spot (USD/oz) and timestamp_floor, in one
    query; a metal without one is absent. None when the database cannot be read."""
    return _newest_per_metal(store, "metal, spot, timestamp_floor", "AND timestamp_floor < ? AND timestamp_floor >= ? ",
                             [(metal, (slot, oldest), bands[metal]) for metal in METALS])


def metals_in_slot(store: Store, slot: str) -> int | None:
    """How many distinct metals have a row for `slot` (the exact timestamp_floor text); None when
    the database cannot be read."""
    rows = store.query_if_available("SELECT COUNT(DISTINCT metal) AS n FROM spot_prices WHERE timestamp_floor = ?",
                                    [slot])
    return int(rows[0]["n"]) if rows else None


def _plausible(bands: Mapping[str, Band]) -> tuple[str, list[Any]]:
    """SQL true for a row of a known metal inside its band, and its arguments."""
    return (" OR ".join("(metal = ? AND spot BETWEEN ? AND ?)" for _ in METALS),
            [value for metal in METALS for value in (metal, bands[metal].low, bands[metal].high)])


def plausible_metal_days(store: Store, start: str, end: str, bands: Mapping[str, Band]) -> set[tuple[str, str]]:
    """(day "YYYY-MM-DD", metal) pairs with an in-band row in [start, end) (slot texts). Raises
    StoreUnavailable / StatementRejected."""
    plausible, band_args = _plausible(bands)
    rows = store.db.query(
        "SELECT DISTINCT substr(timestamp_floor, 1, 10) AS day, metal FROM spot_prices "
        f"WHERE timestamp_floor >= ? AND timestamp_floor < ? AND ({plausible})", [start, end, *band_args])
    return {(row["day"], row["metal"]) for row in rows}


def plausible_metals_per_slot(store: Store, start: str, end: str, bands: Mapping[str, Band]) -> dict[str, int]:
    """timestamp_floor -> number of metals with an in-band row there, for slots in [start, end).
    Raises StoreUnavailable / StatementRejected."""
    plausible, band_args = _plausible(bands)
    rows = store.db.query(
        "SELECT timestamp_floor, COUNT(DISTINCT metal) AS metals FROM spot_prices "
        f"WHERE timestamp_floor >= ? AND timestamp_floor < ? AND ({plausible}) GROUP BY timestamp_floor",
        [start, end, *band_args])
    return {row["timestamp_floor"]: int(row["metals"]) for row in rows}


def newest_spot_slot(store: Store, now: datetime, lookback: timedelta = timedelta(days=8)) -> str | None:
    """The newest timestamp_floor with a positive spot, ordered by time (not text) across both
    shapes; searched within `lookback` of `now` first, then all rows. None when there is none."""
    rows = store.db.query(
        "SELECT timestamp_floor FROM spot_prices WHERE timestamp_floor >= ? AND spot > 0 "
        "ORDER BY julianday(timestamp_floor) DESC LIMIT 1",
        ((now - lookback).strftime("%Y-%m-%d"),),
    )
    if rows:
        return str(rows[0]["timestamp_floor"])
    rows = store.db.query("SELECT MAX(timestamp_floor) AS newest FROM spot_prices WHERE spot > 0")
    newest = rows[0]["newest"] if rows else None
    return None if newest is None else str(newest)
