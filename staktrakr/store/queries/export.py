"""The database reads of publish: aggregated in SQL, bounded by time, never all history.

Every query is a range on an existing index: the recent rows (newest row per coin, vendor and
window over the last ~24 h, all pollers) and the per-date aggregates of the last 30 days on
idx_window; stale coins and last-known prices on idx_coin_window / idx_coin_vendor_stock; spot
and Goldback tables are small. Times are taken from the data (the newest row), never the clock,
so the same database always gives the same files.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Callable, Mapping

from staktrakr.export.history import HISTORY_SPANS, span_start
from staktrakr.export.model import CoinSnapshot, GoldbackDay, SpotEntry, VendorDay, WindowPrice
from staktrakr.export.retail import CARRY_FOR, coin_snapshot, first_window, normal_time, vendors_needing_last_known, window_text
from staktrakr.export.spot import SEED_HOUR_UTC, seed_entry
from staktrakr.rules.bands import Band
from staktrakr.store.database import Database
from staktrakr.timeutil import WINDOW, iso_z, parse_time, spot_timestamp

HISTORY_DAYS = max(HISTORY_SPANS.values())

# Old-system `gemini-vision` rows are a model's reading of a screenshot, kept in the same table:
# they were a cross-check, never a vendor price of their own (they impersonated the scraped price
# in the old pipeline), so no published price, median or history is made from them.
_NEWEST_PER_WINDOW = """
SELECT coin_slug, vendor, window_start, scraped_at, price, in_stock, confidence, source FROM (
  SELECT coin_slug, vendor, window_start, scraped_at, price, in_stock, confidence, source,
         ROW_NUMBER() OVER (PARTITION BY coin_slug, vendor, window_start
                            ORDER BY scraped_at DESC, id DESC) AS newest
  FROM price_snapshots
  WHERE window_start >= ? AND window_start <= ? AND is_failed = 0 AND source != 'gemini-vision' {coin_filter}
) WHERE newest = 1
ORDER BY coin_slug, vendor, window_start
"""

_DAILY_AGGREGATES = """
SELECT coin_slug, substr(window_start, 1, 10) AS day, vendor,
       SUM(in_stock) AS in_stock_rows,
       AVG(CASE WHEN in_stock = 1 THEN price END) AS avg_in_stock,
       MIN(CASE WHEN in_stock = 1 THEN price END) AS low_in_stock,
       AVG(price) AS avg_any
FROM price_snapshots
WHERE window_start >= ? AND is_failed = 0 AND price > 0 AND source != 'gemini-vision'
GROUP BY +coin_slug, day, vendor
"""
# `+coin_slug`: without it SQLite walks all of idx_coin_date (every row ever) to save a sort;
# with it, it takes the 30-day range on idx_window (3.5 s -> 1.4 s at 21M rows).

_LAST_IN_STOCK = """
SELECT price, scraped_at FROM price_snapshots
WHERE coin_slug = ? AND vendor = ? AND in_stock = 1 AND is_failed = 0 AND price > 0 AND source != 'gemini-vision'
ORDER BY scraped_at DESC LIMIT 1
"""


@dataclass
class RetailData:
    generated_at: str | None = None
    latest_window: str | None = None
    window_count: int = 0
    last_date: str | None = None
    snapshots: dict[str, CoinSnapshot] = field(default_factory=dict)
    history: dict[str, dict[str, dict[str, VendorDay]]] = field(default_factory=dict)


@dataclass
class SpotData:
    slots: list[SpotEntry] = field(default_factory=list)  # every slot of the touched hours
    seed_by_year: dict[str, list[SpotEntry]] = field(default_factory=dict)


def _window_price(row: Mapping[str, Any]) -> WindowPrice:
    return WindowPrice(
        vendor=row["vendor"], window_start=row["window_start"], scraped_at=row["scraped_at"],
        price=row["price"], in_stock=bool(row["in_stock"]), confidence=row["confidence"], source=row["source"],
    )


def _rows(result: Any) -> list[dict[str, Any]]:
    return [dict(zip(result.columns, row)) for row in result.rows]


def read_retail(db: Database) -> RetailData:
    data = RetailData()
    latest = db.query("SELECT MAX(window_start) AS latest FROM price_snapshots")
    latest_window = latest[0]["latest"] if latest else None
    if not latest_window:
        return data
    data.latest_window = latest_window
    data.last_date = latest_window[:10]
    since = window_text(parse_time(latest_window) - CARRY_FOR - 2 * WINDOW)
    recent_rows = db.query(_NEWEST_PER_WINDOW.format(coin_filter=""), (since, latest_window))
    by_coin: dict[str, list[WindowPrice]] = defaultdict(list)
    for row in recent_rows:
        by_coin[row["coin_slug"]].append(_window_price(row))
    # The clock is the pollers' newest row of the latest window, failed rows included: when every
    # fetch has failed for hours, the last prices must age into carry-over, not stay "live".
    cycle = db.query("SELECT MAX(scraped_at) AS newest FROM price_snapshots WHERE window_start = ?", (latest_window,))
    candidates = [row["scraped_at"] for row in recent_rows] + [cycle[0]["newest"] if cycle else None]
    stamps = [parse_time(text) for text in candidates if text]
    newest_scraped = max(stamps, default=None)
    as_of = newest_scraped or parse_time(latest_window)
    data.generated_at = iso_z(newest_scraped) if newest_scraped else latest_window
    start = first_window(latest_window)
    data.window_count = len({row["window_start"] for row in recent_rows if row["window_start"] >= start})

    history_since = span_start(data.last_date, HISTORY_DAYS)
    for row in db.query(_DAILY_AGGREGATES, (history_since,)):
        in_stock = bool(row["in_stock_rows"])
        day = VendorDay(
            avg=row["avg_in_stock"] if in_stock else row["avg_any"],
            low=row["low_in_stock"], in_stock=in_stock, samples=int(row["in_stock_rows"] or 0),
        )
        data.history.setdefault(row["coin_slug"], {}).setdefault(row["day"], {})[row["vendor"]] = day

    fresh_since = as_of - CARRY_FOR
    fresh = {slug for slug, rows in by_coin.items() if any(parse_time(r.scraped_at) >= fresh_since for r in rows)}
    stale = sorted((set(by_coin) | set(data.history)) - fresh)
    anchors: dict[str, tuple[list[WindowPrice], datetime, str]] = {
        slug: (by_coin[slug], as_of, latest_window) for slug in sorted(fresh)
    }
    anchors.update(_stale_coin_rows(db, stale))
    _snapshots(db, data, anchors, stale_coins=set(stale))
    return data


def _stale_coin_rows(db: Database, slugs: list[str]) -> dict[str, tuple[list[WindowPrice], datetime, str]]:
    """Each stale coin's own last day of rows, anchored at its own newest row."""
    if not slugs:
        return {}
    newest = db.batch([("SELECT MAX(window_start) AS latest FROM price_snapshots WHERE coin_slug = ?", (s,))
                       for s in slugs])
    windows = {slug: _rows(result)[0]["latest"] for slug, result in zip(slugs, newest)}
    slugs = [slug for slug in slugs if windows.get(slug)]
    results = db.batch([
        (_NEWEST_PER_WINDOW.format(coin_filter="AND coin_slug = ?"),
         (window_text(parse_time(windows[slug]) - CARRY_FOR - 2 * WINDOW), windows[slug], slug))
        for slug in slugs
    ])
    anchored = {}
    for slug, result in zip(slugs, results):
        rows = [_window_price(row) for row in _rows(result)]
        if rows:
            as_of = max(parse_time(r.scraped_at) for r in rows)
            anchored[slug] = (rows, as_of, windows[slug])
    return anchored


def _snapshots(db: Database, data: RetailData, anchors: Mapping[str, tuple[list[WindowPrice], datetime, str]],
               stale_coins: set[str]) -> None:
    wanted = [(slug, vendor) for slug, (rows, as_of, _) in sorted(anchors.items())
              for vendor in vendors_needing_last_known(rows, as_of)]
    last_known: dict[str, dict[str, tuple[float, str]]] = defaultdict(dict)
    if wanted:
        for (slug, vendor), result in zip(wanted, db.batch([(_LAST_IN_STOCK, key) for key in wanted])):
            found = _rows(result)
            if found:
                last_known[slug][vendor] = (float(found[0]["price"]), found[0]["scraped_at"])
    for slug, (rows, as_of, latest_window) in sorted(anchors.items()):
        data.snapshots[slug] = coin_snapshot(slug, rows, as_of, latest_window, last_known.get(slug),
                                             is_stale=slug in stale_coins)


def _band_case(bands: Mapping[str, Band]) -> tuple[str, list[Any]]:
    """SQL true only for a spot inside its metal's band (unknown metals are refused)."""
    clauses, args = [], []
    for metal, band in sorted(bands.items()):
        clauses.append("WHEN ? THEN spot BETWEEN ? AND ?")
        args += [metal, band.low, band.high]
    return "(CASE lower(metal) " + " ".join(clauses) + " ELSE 0 END)", args


SPOT_REPAIR_DAYS = 7
_HOUR_KEY = "substr(replace(timestamp_floor, ' ', 'T'), 1, 13)"  # both stored shapes -> "YYYY-MM-DDTHH"


def read_spot(db: Database, hours: int, bands: Mapping[str, Band],
              published_count: Callable[[str], int | None] | None = None) -> SpotData:
    """Every slot of every hour touched in the last `hours` (by slot or by write time), and the
    daily seed entries of the current (and, on its first day, the previous) year.

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
    band_sql, band_args = _band_case(bands)
    late_hours = _late_hours(db, newest_slot, band_sql, band_args, published_count) if published_count else []
    late_sql = f" OR {_HOUR_KEY} IN ({', '.join('?' for _ in late_hours)})" if late_hours else ""
    rows = db.query(
        "SELECT lower(metal) AS metal, spot, timestamp_floor FROM spot_prices "
        f"WHERE ({_HOUR_KEY} IN (SELECT DISTINCT {_HOUR_KEY} FROM spot_prices "
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
        f"SELECT {_HOUR_KEY} AS hour, COUNT(DISTINCT lower(metal) || substr(replace(timestamp_floor, ' ', 'T'), 1, 19)) "
        f"AS n FROM spot_prices WHERE timestamp_floor >= ? AND {band_sql} GROUP BY hour ORDER BY hour",
        (since, *band_args),
    )
    return [row["hour"] for row in counts if int(row["n"]) > (published_count(row["hour"]) or 0)]


def _seed_entries(db: Database, year: str, newest_day: str, band_sql: str, band_args: list[Any]) -> list[SpotEntry]:
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
    for row in _rows(last_of_day):
        if row["day"] < newest_day:
            chosen[(row["metal"], row["day"])] = float(row["spot"])
    for row in _rows(after_seed_hour):
        chosen[(row["metal"], row["day"])] = float(row["spot"])
    return [seed_entry(metal, day, spot) for (metal, day), spot in sorted(chosen.items())]


def read_goldback(db: Database) -> list[GoldbackDay]:
    rows = db.query("SELECT date, g1_usd, scraped_at, source FROM goldback_rates WHERE g1_usd > 0 ORDER BY date")
    return [GoldbackDay(row["date"], float(row["g1_usd"]), normal_time(row["scraped_at"]), row["source"] or "goldback.com")
            for row in rows]
