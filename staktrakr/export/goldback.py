"""Builders for api/goldback-spot.json and goldback-YYYY.json from the Goldback rate per date.

All seven denominations are published: ghalf, g1, g2, g5, g10, g25, g50 (the existing file had
g1, g5, g10, g25, g50; those keys keep their meaning). `confidence` is "high" for a rate read
from goldback.com itself and "medium" for any other source (no longer a constant).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from staktrakr.export.model import GoldbackDay
from staktrakr.export.stats import money

DENOMINATIONS: tuple[tuple[str, float], ...] = (
    ("ghalf", 0.5), ("g1", 1), ("g2", 2), ("g5", 5), ("g10", 10), ("g25", 25), ("g50", 50),
)
PRIMARY_SOURCE = "goldback.com"


def goldback_spot_doc(day: GoldbackDay) -> dict[str, Any]:
    """api/goldback-spot.json for the newest rate."""
    return {
        "date": day.date,
        "scraped_at": day.scraped_at,
        "g1_usd": money(day.g1_usd),
        "denominations": {name: money(day.g1_usd * units) for name, units in DENOMINATIONS},
        "source": day.source,
        "confidence": "high" if day.source == PRIMARY_SOURCE else "medium",
    }


def goldback_year_doc(days: Iterable[GoldbackDay], year: str) -> list[dict[str, Any]]:
    """goldback-YYYY.json: one entry per date of that year, newest first (the last given wins)."""
    by_date = {day.date: day for day in days if day.date.startswith(year)}
    return [
        {"date": d, "g1_usd": money(by_date[d].g1_usd), "scraped_at": by_date[d].scraped_at}
        for d in sorted(by_date, reverse=True)
    ]


def days_from_year_doc(doc: Any) -> list[GoldbackDay]:
    """GoldbackDays back from a published goldback-YYYY.json (merge; keeping old entries)."""
    if not isinstance(doc, list):
        raise ValueError("expected a JSON array of {date, g1_usd, scraped_at}")
    days = []
    for item in doc:
        if not isinstance(item, dict) or not isinstance(item.get("date"), str) or \
                isinstance(item.get("g1_usd"), bool) or not isinstance(item.get("g1_usd"), (int, float)):
            raise ValueError(f"not a Goldback entry: {item!r:.80}")
        days.append(GoldbackDay(item["date"], float(item["g1_usd"]), str(item.get("scraped_at") or "")))
    return days


def day_from_spot_doc(doc: Any) -> GoldbackDay:
    if not isinstance(doc, dict) or not isinstance(doc.get("date"), str) or \
            not isinstance(doc.get("g1_usd"), (int, float)):
        raise ValueError("expected {date, g1_usd, scraped_at, ...}")
    return GoldbackDay(doc["date"], float(doc["g1_usd"]), str(doc.get("scraped_at") or ""),
                       str(doc.get("source") or PRIMARY_SOURCE))
