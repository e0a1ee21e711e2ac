"""Builders for api/{slug}/history-7d.json and history-30d.json: one entry per date.

Per date and vendor: the average of in-stock prices (`inStock: true`), or of any price when the
vendor was never in stock that day (`inStock: false`). Per date: `avg_median` is the upper median
of the in-stock vendors' averages, `avg_low` the lowest in-stock price of the day, `sample_count`
the number of in-stock observations. Dates with no in-stock price are left out.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

from staktrakr.export.model import VendorDay
from staktrakr.export.stats import money, upper_median

HISTORY_SPANS = {"history-7d.json": 7, "history-30d.json": 30}


def history_entry(day: str, vendors: Mapping[str, VendorDay]) -> dict[str, Any] | None:
    """One date's entry, or None when no vendor was in stock that day."""
    in_stock = [v for v in vendors.values() if v.in_stock]
    if not in_stock:
        return None
    lows = [v.low for v in in_stock if v.low is not None]
    return {
        "date": day,
        "avg_median": money(upper_median(v.avg for v in in_stock)),
        "avg_low": money(min(lows) if lows else min(v.avg for v in in_stock)),
        "sample_count": sum(v.samples for v in in_stock),
        "vendors": {vendor: {"avg": money(vendors[vendor].avg), "inStock": vendors[vendor].in_stock}
                    for vendor in sorted(vendors)},
    }


def span_start(last_date: str, days: int) -> str:
    return (date.fromisoformat(last_date) - timedelta(days=days)).isoformat()


def history_doc(entries: Mapping[str, dict[str, Any]], last_date: str, days: int) -> list[dict[str, Any]]:
    """The entries from `last_date - days` to `last_date`, oldest first."""
    start = span_start(last_date, days)
    return [entries[d] for d in sorted(entries) if start <= d <= last_date]
