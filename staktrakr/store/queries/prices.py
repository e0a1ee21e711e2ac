"""Reads of `price_snapshots`: publish's retail data, the scrape's previous-day medians, retry's
window, and the freshness and coverage checks of health and status.

Prices are USD per coin, `window_start` is the 15-minute UTC floor `YYYY-MM-DDTHH:MM:00Z` every
writer stores, so text order is time order. Publish's reads are ranges on indexes, never all
history: the newest row per coin, vendor and window over the last ~24 h on idx_window, the
per-date sums of the last 30 days on idx_snapshots_day (migration 9), stale coins and last-known
prices on idx_coin_window / idx_coin_vendor_stock; a new cycle reads only the rows added since
the last build, by id (`PriceReads`). Times come from the data (the newest row), never the
clock, so the same database always gives the same files.

Vision rows (`source` = SOURCE_VISION) are a model's reading of a screenshot, kept in the same
table: a cross-check, never a vendor price of their own where a scraped row exists (they
impersonated the scraped price in the old pipeline). A vendor's window is published from its
vision row only when it has no scraped price there and the vision price is within 3% of the
window median of the other vendors (rules/scoring.py `vision_publishable`). No median, history
or confidence median is made from vision rows.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from staktrakr.export.history import HISTORY_SPANS, span_start
from staktrakr.export.model import CoinSnapshot, VendorDay, WindowPrice
from staktrakr.export.retail import CARRY_FOR, coin_snapshot, first_window, vendors_needing_last_known, window_text
from staktrakr.rules.scoring import SOURCE_VISION, vision_publishable
from staktrakr.store.database import Database, Rows, result_rows, result_tuples
from staktrakr.store.schema import DAY_INDEX_ROWS
from staktrakr.store.session import Store
from staktrakr.timeutil import WINDOW, iso_z, parse_time

HISTORY_DAYS = max(HISTORY_SPANS.values())
_NOT_VISION = f"source != '{SOURCE_VISION}'"

# The newest scraped row per (coin, vendor, window); a vision row only where there is no scraped one.
# One GROUP BY with a single MAX(): SQLite takes the bare columns from the row holding the maximum
# (sqlite.org/lang_select.html, "bare columns in an aggregate query"), a third cheaper than
# ROW_NUMBER() over the same rows. The rank is scraped-over-vision, then scraped_at (padded with
# spaces, which sort before any timestamp character, so a shorter stamp that is a prefix of a
# longer one still sorts first), then id; `_rank` is the same order in Python.
_NEWEST_PER_WINDOW = f"""
SELECT coin_slug, vendor, window_start, scraped_at, price, in_stock, confidence, source, id,
       MAX((source != '{SOURCE_VISION}') || printf('%-40s%020d', scraped_at, id)) AS newest
FROM price_snapshots
WHERE window_start >= ? AND window_start <= ? AND is_failed = 0 {{coin_filter}}
GROUP BY coin_slug, vendor, window_start
ORDER BY coin_slug, vendor, window_start
"""
_RECENT_COLUMNS = ("coin_slug", "vendor", "window_start", "scraped_at", "price", "in_stock", "confidence", "source",
                   "id")
_COIN, _VENDOR, _WINDOW, _SCRAPED, _PRICE, _IN_STOCK, _CONFIDENCE, _SOURCE, _ID = range(len(_RECENT_COLUMNS))
# The rows a later build adds to what an earlier one read (`+window_start`: the new ids are a short
# range of the primary key, where the window range would be a day of idx_window).
_ROWS_AFTER = f"""
SELECT {", ".join(_RECENT_COLUMNS)} FROM price_snapshots
WHERE id > ? AND +window_start >= ? AND +window_start <= ? AND is_failed = 0
"""

_DAY = "substr(window_start, 1, 10)"
_MICROS = "CAST(round(price * 1000000) AS INTEGER)"  # USD -> integer micro-dollars
_DAY_SUMS = f"""
SELECT coin_slug, {_DAY} AS day, vendor, in_stock, COUNT(*) AS n, SUM({_MICROS}) AS micros, MIN(price) AS low
FROM price_snapshots {{indexed}}
WHERE {{rows}} AND {DAY_INDEX_ROWS}
GROUP BY {_DAY}, coin_slug, vendor, in_stock
"""
# Per coin, UTC date, vendor and stock state: the rows, their sum in micro-dollars and the lowest
# price (USD); `day_sums` folds the stock states into rows of _SUM_COLUMNS and `day_averages` turns
# those into the averages publish and the dashboard show. (Grouping by in_stock, the index's next
# column, instead of summing CASE expressions halves SQLite's work.)
# - DAILY_SUMS reads the dates from `?` ("YYYY-MM-DD") on from idx_snapshots_day, whose order is
#   the GROUP BY's and which holds every column used: SQLite aggregates while it walks the range,
#   with no table lookups and no sort (2.5 s -> 0.6 s for 30 days of 1.4M rows). Its WHERE terms
#   are the index's (DAY_INDEX_ROWS), or SQLite could not use it.
# - _SUMS_AFTER reads the rows added after an id (a range of the primary key: one cycle's rows),
#   whatever their date; their sums are added to the ones read before (`day_aggregates`). NOT
#   INDEXED: SQLite would rather walk all of idx_snapshots_day to save sorting a few hundred rows.
# - Sums of integer micro-dollars are exact: an average is one division of exact integers, so it
#   does not depend on the order SQLite meets the rows, on its version (AVG of REALs adds in row
#   order, libSQL servers add with compensation where older SQLite does not) nor on how the rows
#   were split between reads: a half-cent tie rounds the same way on every poller.
DAILY_SUMS = _DAY_SUMS.format(indexed="", rows=f"{_DAY} >= ?")
_SUMS_AFTER = _DAY_SUMS.format(indexed="NOT INDEXED", rows="id > ?")
_SUM_COLUMNS = ("coin_slug", "day", "vendor", "in_stock_rows", "in_stock_micros", "low_in_stock", "priced_rows",
                "priced_micros")
_DAY_COLUMNS = ("coin_slug", "day", "vendor", "in_stock_rows", "avg_in_stock", "low_in_stock", "avg_any")


def day_sums(found: Rows) -> list[list[Any]]:
    """Rows of _DAY_SUMS (dicts, one per stock state) as rows of _SUM_COLUMNS, one per coin, date
    and vendor, ordered by them: in-stock rows, their sum in micro-dollars (None without any) and
    lowest price (USD), then every priced row and their sum."""
    folded: dict[tuple[str, str, str], list[Any]] = {}
    for row in found:
        key = (row["coin_slug"], row["day"], row["vendor"])
        sums = folded.setdefault(key, [*key, 0, None, None, 0, 0])
        if row["in_stock"] == 1:
            sums[3:6] = [row["n"], row["micros"], row["low"]]
        sums[6] += row["n"]
        sums[7] += row["micros"]
    return [folded[key] for key in sorted(folded)]


def day_averages(sums: Iterable[Sequence[Any]]) -> Rows:
    """Rows of _SUM_COLUMNS (as read by DAILY_SUMS, or kept as lists) as dicts of _DAY_COLUMNS:
    in_stock_rows, avg_in_stock (USD, None without an in-stock row), low_in_stock (USD), avg_any
    (USD, every priced row)."""
    return [dict(zip(_DAY_COLUMNS, (
        coin, day, vendor, in_stock_rows, in_stock_micros / (in_stock_rows * 1_000_000) if in_stock_rows else None,
        low, priced_micros / (priced_rows * 1_000_000)), strict=True))
        for coin, day, vendor, in_stock_rows, in_stock_micros, low, priced_rows, priced_micros in sums]

_LAST_IN_STOCK = f"""
SELECT price, scraped_at FROM price_snapshots
WHERE coin_slug = ? AND vendor = ? AND in_stock = 1 AND is_failed = 0 AND price > 0 AND {_NOT_VISION}
ORDER BY scraped_at DESC LIMIT 1
"""

# (coin, vendor, window) anchors for a coin's snapshot: its rows, the moment it is seen from, its window.
Anchor = tuple[list[WindowPrice], datetime, str]


@dataclass
class RowsRead:
    """What a read returned over the rows with id <= `price_id`, for the range from `since` on
    (a date "YYYY-MM-DD" or a window): the next build reads only the rows added after it."""

    price_id: int
    since: str
    rows: list[list[Any]] = field(default_factory=list)


@dataclass
class PriceReads:
    """What a build read from price_snapshots, kept for the next one (export/watermark.py)."""

    days: RowsRead  # the per-date sums of the history (_SUM_COLUMNS)
    recent: RowsRead  # the newest row per coin, vendor and window of the last day (_RECENT_COLUMNS)


_NEWEST_ID = "SELECT MAX(id) AS id FROM price_snapshots"


def _with_newest_id(db: Database, sql: str, args: Sequence[Any]) -> tuple[int, Any]:
    """MAX(id) of price_snapshots and the result of `sql`, in one batch (one transaction, so one view
    of the table: a row written meanwhile is in both or in neither, never summed now and again
    by the next build)."""
    newest, result = db.batch([(_NEWEST_ID, ()), (sql, args)])
    found = result_rows(newest)
    return (int(found[0]["id"] or 0) if found else 0), result


def day_aggregates(db: Database, since: str, previous: RowsRead | None = None) -> RowsRead:
    """The per-date sums (rows of _SUM_COLUMNS) of the dates from `since` on. With `previous` (what
    an earlier publish read from the same database), only the rows added after it are summed and
    added to its sums (a cycle's rows, late rows of an earlier date too), which gives the same
    numbers as a full read: sums are exact. Rows are only ever inserted (a deletion is noticed by
    export/watermark.py, which then passes no `previous`). Raises StoreUnavailable / StatementRejected."""
    if previous is None or previous.since > since:
        price_id, result = _with_newest_id(db, DAILY_SUMS, (since,))
        return RowsRead(price_id, since, day_sums(result_rows(result)))
    price_id, result = _with_newest_id(db, _SUMS_AFTER, (previous.price_id,))
    if previous.price_id > price_id:  # fewer rows than then: not the same table any more
        return day_aggregates(db, since)
    sums = {(row[0], row[1], row[2]): list(row) for row in previous.rows if row[1] >= since}
    for row in day_sums(result_rows(result)):
        if row[1] < since:
            continue
        kept = sums.get((row[0], row[1], row[2]))
        if kept is None:
            sums[(row[0], row[1], row[2])] = row
            continue
        kept[3] += row[3]
        kept[4] = None if kept[4] is None and row[4] is None else (kept[4] or 0) + (row[4] or 0)
        kept[5] = min((low for low in (kept[5], row[5]) if low is not None), default=None)
        kept[6] += row[6]
        kept[7] += row[7]
    return RowsRead(price_id, since, [sums[key] for key in sorted(sums)])


def _rank(row: Sequence[Any]) -> tuple[bool, str, int]:
    """A row of _RECENT_COLUMNS's place in its (coin, vendor, window), highest wins: a scraped row
    over a vision reading, then the later scraped_at, then the higher id (_NEWEST_PER_WINDOW's order)."""
    return row[_SOURCE] != SOURCE_VISION, row[_SCRAPED], row[_ID]


def newest_per_window(db: Database, since: str, latest_window: str, previous: RowsRead | None = None) -> RowsRead:
    """The newest row per coin, vendor and window of the windows `since`..`latest_window` (rows of
    _RECENT_COLUMNS, ordered by coin, vendor, window). With `previous` (what an earlier build read
    from the same database, from a window <= `since`), only the rows added since are read and
    merged in, so a new cycle reads its own rows, not the whole day again; the result is what a
    full read gives. Raises StoreUnavailable / StatementRejected."""
    if previous is None or previous.since > since:
        price_id, result = _with_newest_id(db, _NEWEST_PER_WINDOW.format(coin_filter=""), (since, latest_window))
        return RowsRead(price_id, since, [list(row[:_ID + 1]) for row in result_tuples(result)])
    price_id, result = _with_newest_id(db, _ROWS_AFTER, (previous.price_id, since, latest_window))
    if previous.price_id > price_id:  # fewer rows than then: not the same table any more
        return newest_per_window(db, since, latest_window)
    chosen = {(row[0], row[1], row[2]): row for row in previous.rows if since <= row[2] <= latest_window}
    for values in result_tuples(result):
        row = list(values)
        key = (row[0], row[1], row[2])
        if key not in chosen or _rank(row) > _rank(chosen[key]):
            chosen[key] = row
    return RowsRead(price_id, since, [chosen[key] for key in sorted(chosen)])


@dataclass
class RetailData:
    """What publish's retail files are built from (USD prices, ISO-8601 UTC times)."""

    generated_at: str | None = None
    latest_window: str | None = None
    window_count: int = 0
    last_date: str | None = None
    snapshots: dict[str, CoinSnapshot] = field(default_factory=dict)
    history: dict[str, dict[str, dict[str, VendorDay]]] = field(default_factory=dict)  # coin -> date -> vendor
    reads: PriceReads | None = None  # what this was made from (the next publish's `previous`)


def _window_price(row: Sequence[Any]) -> WindowPrice:
    """A row of _RECENT_COLUMNS as a WindowPrice."""
    return WindowPrice(
        vendor=row[_VENDOR], window_start=row[_WINDOW], scraped_at=row[_SCRAPED], price=row[_PRICE],
        in_stock=bool(row[_IN_STOCK]), confidence=row[_CONFIDENCE], source=row[_SOURCE],
    )


def publishable(rows: Sequence[Sequence[Any]]) -> list[Sequence[Any]]:
    """The rows of `_NEWEST_PER_WINDOW` (_RECENT_COLUMNS) publish may use: every scraped row, and
    a vision row only within 3% of the window median of the other vendors' in-stock scraped
    prices of its coin."""
    scraped: dict[tuple[str, str], list[tuple[str, float]]] = defaultdict(list)
    for row in rows:
        if row[_SOURCE] != SOURCE_VISION and row[_IN_STOCK] and row[_PRICE]:
            scraped[(row[_COIN], row[_WINDOW])].append((row[_VENDOR], float(row[_PRICE])))
    kept = []
    for row in rows:
        if row[_SOURCE] == SOURCE_VISION:
            others = [price for vendor, price in scraped[(row[_COIN], row[_WINDOW])] if vendor != row[_VENDOR]]
            if row[_PRICE] is None or not vision_publishable(float(row[_PRICE]), others):
                continue
        kept.append(row)
    return kept


def read_retail(store: Store, previous: PriceReads | None = None) -> RetailData:
    """Every coin's snapshot (live, or carried over from its own last day when stale) and the
    per-date vendor aggregates of the last HISTORY_DAYS (`day_aggregates`), reading only the
    rows added since `previous` (what the last build read from the same database) where it can;
    empty when the table holds no row.
    Raises StoreUnavailable / StatementRejected (publish needs the database)."""
    db = store.db
    data = RetailData()
    latest = db.query("SELECT MAX(window_start) AS latest FROM price_snapshots")
    latest_window = latest[0]["latest"] if latest else None
    if not latest_window:
        return data
    data.latest_window = latest_window
    data.last_date = latest_window[:10]
    since = window_text(parse_time(latest_window) - CARRY_FOR - 2 * WINDOW)
    recent = newest_per_window(db, since, latest_window, previous.recent if previous else None)
    recent_rows = publishable(recent.rows)
    by_coin: dict[str, list[WindowPrice]] = defaultdict(list)
    for row in recent_rows:
        by_coin[row[_COIN]].append(_window_price(row))
    # The clock is the pollers' newest row of the latest window, failed rows included: when every
    # fetch has failed for hours, the last prices must age into carry-over, not stay "live".
    cycle = db.query("SELECT MAX(scraped_at) AS newest FROM price_snapshots WHERE window_start = ?", (latest_window,))
    candidates = [row[_SCRAPED] for row in recent_rows] + [cycle[0]["newest"] if cycle else None]
    stamps = [parse_time(text) for text in candidates if text]
    newest_scraped = max(stamps, default=None)
    as_of = newest_scraped or parse_time(latest_window)
    data.generated_at = iso_z(newest_scraped) if newest_scraped else latest_window
    start = first_window(latest_window)
    data.window_count = len({row[_WINDOW] for row in recent_rows if row[_WINDOW] >= start})

    days = day_aggregates(db, span_start(data.last_date, HISTORY_DAYS), previous.days if previous else None)
    data.reads = PriceReads(days, recent)
    for aggregate in day_averages(days.rows):
        in_stock = bool(aggregate["in_stock_rows"])
        day = VendorDay(avg=aggregate["avg_in_stock"] if in_stock else aggregate["avg_any"],
                        low=aggregate["low_in_stock"], in_stock=in_stock, samples=int(aggregate["in_stock_rows"] or 0))
        data.history.setdefault(aggregate["coin_slug"], {}).setdefault(aggregate["day"], {})[aggregate["vendor"]] = day

    fresh_since = as_of - CARRY_FOR
    fresh = {slug for slug, rows in by_coin.items() if any(parse_time(r.scraped_at) >= fresh_since for r in rows)}
    stale = sorted((set(by_coin) | set(data.history)) - fresh)
    anchors: dict[str, Anchor] = {slug: (by_coin[slug], as_of, latest_window) for slug in sorted(fresh)}
    anchors.update(_stale_coin_rows(store, stale))
    _snapshots(store, data, anchors, stale_coins=set(stale))
    return data


def _stale_coin_rows(store: Store, slugs: list[str]) -> dict[str, Anchor]:
    """Each stale coin's own last day of rows, anchored at its own newest row (two batches)."""
    if not slugs:
        return {}
    newest = store.db.batch([("SELECT MAX(window_start) AS latest FROM price_snapshots WHERE coin_slug = ?", (s,))
                             for s in slugs])
    windows = {slug: result_rows(result)[0]["latest"] for slug, result in zip(slugs, newest, strict=False)}
    slugs = [slug for slug in slugs if windows.get(slug)]
    results = store.db.batch([
        (_NEWEST_PER_WINDOW.format(coin_filter="AND coin_slug = ?"),
         (window_text(parse_time(windows[slug]) - CARRY_FOR - 2 * WINDOW), windows[slug], slug))
        for slug in slugs
    ])
    anchored = {}
    for slug, result in zip(slugs, results, strict=False):
        rows = [_window_price(row) for row in publishable(result_tuples(result))]
        if rows:
            as_of = max(parse_time(r.scraped_at) for r in rows)
            anchored[slug] = (rows, as_of, windows[slug])
    return anchored


def _snapshots(store: Store, data: RetailData, anchors: Mapping[str, Anchor], stale_coins: set[str]) -> None:
    """Fill `data.snapshots`, with each vendor's last in-stock price where a snapshot needs it (one batch)."""
    wanted = [(slug, vendor) for slug, (rows, as_of, _) in sorted(anchors.items())
              for vendor in vendors_needing_last_known(rows, as_of)]
    last_known: dict[str, dict[str, tuple[float, str]]] = defaultdict(dict)
    if wanted:
        results = store.db.batch([(_LAST_IN_STOCK, key) for key in wanted])
        for (slug, vendor), result in zip(wanted, results, strict=True):
            found = result_rows(result)
            if found:
                last_known[slug][vendor] = (float(found[0]["price"]), found[0]["scraped_at"])
    for slug, (rows, as_of, latest_window) in sorted(anchors.items()):
        data.snapshots[slug] = coin_snapshot(slug, rows, as_of, latest_window, last_known.get(slug),
                                             is_stale=slug in stale_coins)


def day_medians(store: Store, coin_slugs: Iterable[str], day: str) -> dict[str, float] | None:
    """Upper median of each coin's in-stock prices (USD) in the windows of UTC date `day`
    ("YYYY-MM-DD"), in ONE query; coins without such a price are absent. None when the
    database cannot be reached or has no tables yet."""
    slugs = sorted(coin_slugs)
    marks = ", ".join("?" for _ in slugs)
    sql = (
        "SELECT coin_slug, price FROM ("
        " SELECT coin_slug, price, ROW_NUMBER() OVER (PARTITION BY coin_slug ORDER BY price) AS rank,"
        " COUNT(*) OVER (PARTITION BY coin_slug) AS n FROM price_snapshots"
        f" WHERE coin_slug IN ({marks}) AND substr(window_start, 1, 10) = ?"
        f" AND is_failed = 0 AND in_stock = 1 AND price IS NOT NULL AND {_NOT_VISION}"
        ") WHERE rank = n / 2 + 1"
    )
    rows = store.query_if_available(sql, [*slugs, day])
    if rows is None:
        return None
    return {row["coin_slug"]: float(row["price"]) for row in rows}


def poller_window_rows(store: Store, poller_id: str, window: str) -> Rows:
    """Every row `poller_id` wrote in `window`, oldest first (by scraped_at, then id), each with
    coin_slug, vendor, price (USD or None), source, is_failed and in_stock (0/1), in one query.
    Raises StoreUnavailable, or StatementRejected (missing_table on a fresh database)."""
    return store.db.query(
        "SELECT coin_slug, vendor, price, source, is_failed, in_stock FROM price_snapshots "
        "WHERE poller_id = ? AND window_start = ? ORDER BY scraped_at, id",
        [poller_id, window],
    )


RETAIL_LOOKBACK_DAYS = 30  # how far back newest_retail_window looks (older rows are not searched)


def newest_retail_window(store: Store, now: datetime,
                         lookback: timedelta = timedelta(days=RETAIL_LOOKBACK_DAYS)) -> str | None:
    """The newest window_start within `lookback` of `now` holding a real price (failure rows do
    not count as fresh data); None when there is none."""
    rows = store.db.query(
        "SELECT window_start FROM price_snapshots WHERE window_start >= ? AND is_failed = 0 "
        "AND price IS NOT NULL ORDER BY window_start DESC LIMIT 1",
        ((now - lookback).strftime("%Y-%m-%d"),),
    )
    return rows[0]["window_start"] if rows else None


def priced_pairs_since(store: Store, window_from: str) -> set[tuple[str, str]]:
    """(coin, vendor) pairs with a price in a window at or after `window_from` (ISO, same shape
    as window_start, which every writer stores as `YYYY-MM-DDTHH:MM:00Z`)."""
    # `+`: without it SQLite answers the DISTINCT by walking all of idx_coin_vendor_stock (every
    # row ever, 4 s at 1M rows) instead of the range on idx_window (1 ms).
    rows = store.db.query(
        "SELECT DISTINCT +coin_slug AS coin_slug, +vendor AS vendor FROM price_snapshots WHERE window_start >= ? "
        "AND is_failed = 0 AND price IS NOT NULL",
        (window_from,),
    )
    return {(row["coin_slug"], row["vendor"]) for row in rows}


def poller_has_prices(store: Store, poller_id: str) -> bool:
    """Whether `poller_id` wrote any price_snapshots row (uses the idempotency index's leading column).
    Raises StoreUnavailable, or StatementRejected (missing_table on a fresh database)."""
    return bool(store.db.query("SELECT 1 AS found FROM price_snapshots WHERE poller_id = ? LIMIT 1", [poller_id]))
