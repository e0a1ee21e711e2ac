"""The dashboard's prices panel: per coin, the daily median and low of 30 days, the median and low
of each window of the last 24 h, and the current vendor table. Pure: rows in, JSON-able dicts out.

Prices are USD per coin, in-stock real prices only (failed and vision rows never count). A day's
median is taken across vendors of each vendor's average in-stock price that day (the per-vendor
day of publish's history files), a window's across the vendors' prices in it; both the upper
median, as the scrape's previous-day median (store/queries/prices.py).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from staktrakr.catalog import Catalog
from staktrakr.store.database import Rows
from staktrakr.timeutil import parse_time


def upper_median(values: list[float]) -> float:
    """The middle value of the sorted list (the upper one of the two middles for an even count)."""
    ordered = sorted(values)
    return ordered[len(ordered) // 2]


def _daily_points(rows: Rows) -> dict[str, list[dict[str, Any]]]:
    """Per coin, one point per UTC day with an in-stock price: day, median (across the vendors'
    average in-stock price of the day), low (the lowest in-stock price), samples (in-stock rows)."""
    by_day: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        if row["in_stock_rows"]:
            by_day[(row["coin_slug"], row["day"])].append(row)
    points: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for (coin, day), vendors in sorted(by_day.items()):
        points[coin].append({"day": day, "median": upper_median([float(v["avg_in_stock"]) for v in vendors]),
                             "low": min(float(v["low_in_stock"]) for v in vendors),
                             "samples": sum(int(v["in_stock_rows"]) for v in vendors)})
    return points


def _window_points(rows: Rows) -> list[dict[str, Any]]:
    """One point per window with an in-stock price: window_start, median, low, vendors (count)."""
    by_window: dict[str, list[float]] = defaultdict(list)
    for row in rows:
        if row["in_stock"]:
            by_window[row["window_start"]].append(float(row["price"]))
    return [{"window_start": window, "median": upper_median(prices), "low": min(prices), "vendors": len(prices)}
            for window, prices in sorted(by_window.items())]


def _vendor_table(rows: Rows, vendor_names: dict[str, str], now: datetime) -> list[dict[str, Any]]:
    """Each enabled vendor's newest price of the last 24 h (None fields when it has none), cheapest
    in-stock first, then out of stock, then vendors without a price."""
    newest: dict[str, dict[str, Any]] = {}
    for row in rows:  # ordered by window: the last row of a vendor is its newest
        newest[row["vendor"]] = row
    table = []
    for vendor_id in sorted(set(vendor_names) | set(newest)):
        newest_row = newest.get(vendor_id)
        entry: dict[str, Any] = {"vendor": vendor_id, "name": vendor_names.get(vendor_id, vendor_id),
                                 "price": None, "in_stock": None, "source": None, "confidence": None,
                                 "scraped_at": None, "age_s": None, "poller": None}
        if newest_row is not None:
            try:
                age = round(max(0.0, (now - parse_time(newest_row["scraped_at"])).total_seconds()), 1)
            except ValueError:
                age = None
            entry.update(price=float(newest_row["price"]), in_stock=bool(newest_row["in_stock"]),
                         source=newest_row["source"], confidence=newest_row["confidence"],
                         scraped_at=newest_row["scraped_at"], age_s=age, poller=newest_row["poller_id"])
        table.append(entry)
    table.sort(key=lambda e: (e["price"] is None, e["in_stock"] is False, e["price"] or 0.0, e["vendor"]))
    return table


def prices_panel(daily_rows: Rows, window_rows: Rows, catalog: Catalog | None, now: datetime) -> dict[str, Any]:
    """{"coins": {slug: {name, metal, daily: [{day, median, low, samples}], windows: [{window_start,
    median, low, vendors}], vendor_table: [...]}}} for every catalog coin and every coin with data."""
    daily = _daily_points(daily_rows)
    recent: dict[str, Rows] = defaultdict(list)
    for row in window_rows:
        recent[row["coin_slug"]].append(row)
    names: dict[str, dict[str, str]] = defaultdict(dict)
    coins_meta: dict[str, tuple[str, str]] = {}
    if catalog is not None:
        for target in catalog.targets():
            names[target.coin.slug][target.vendor_id] = target.vendor_name
            coins_meta[target.coin.slug] = (target.coin.name, target.coin.metal)
    coins = {}
    for slug in sorted(set(coins_meta) | set(daily) | set(recent)):
        name, metal = coins_meta.get(slug, (slug, None))
        coins[slug] = {
            "name": name, "metal": metal, "daily": daily.get(slug, []),
            "windows": _window_points(recent.get(slug, [])),
            "vendor_table": _vendor_table(recent.get(slug, []), names.get(slug, {}), now),
        }
    return {"coins": coins}
