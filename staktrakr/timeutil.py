"""Time formats of the contract (DESIGN.md section 4): one place, so every writer agrees.

- window_start: 15-minute UTC floor, `YYYY-MM-DDTHH:MM:00Z`
- scraped_at:   ISO-8601 UTC with milliseconds and `Z`, e.g. `2026-03-15T17:30:02.913Z`
- spot file timestamp: `YYYY-MM-DD HH:MM:SS` (UTC, no zone marker)
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import lru_cache

UTC = UTC
WINDOW = timedelta(minutes=15)


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(moment: datetime) -> datetime:
    """Naive datetimes are taken as UTC (the database stores UTC only)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def floor_window(moment: datetime) -> datetime:
    moment = as_utc(moment)
    return moment.replace(minute=moment.minute - moment.minute % 15, second=0, microsecond=0)


def window_start(moment: datetime) -> str:
    """The 15-minute window a moment falls in, in the stored format."""
    return floor_window(moment).strftime("%Y-%m-%dT%H:%M:00Z")


def iso_z(moment: datetime) -> str:
    """ISO-8601 UTC with milliseconds and Z (the `scraped_at` format)."""
    moment = as_utc(moment)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def spot_timestamp(moment: datetime) -> str:
    return as_utc(moment).strftime("%Y-%m-%d %H:%M:%S")


@lru_cache(maxsize=1 << 16)  # publish meets each scraped_at of the last day several times
def parse_time(text: str) -> datetime:
    """Parse any timestamp the database holds (ISO with Z, fractions, or SQLite's `YYYY-MM-DD HH:MM:SS`)
    as an aware UTC datetime; ValueError when it is none of those."""
    cleaned = text.strip().replace(" ", "T")
    if cleaned.endswith("Z"):
        cleaned = cleaned[:-1] + "+00:00"
    return as_utc(datetime.fromisoformat(cleaned))
