"""Reads of `goldback_rates`: one G1 rate (USD per Goldback) per effective date `YYYY-MM-DD`."""

from __future__ import annotations

from staktrakr.export.model import GoldbackDay
from staktrakr.export.retail import normal_time
from staktrakr.store.session import Store


def read_goldback(store: Store) -> list[GoldbackDay]:
    """Every stored positive rate, oldest date first (scraped_at normalised to ISO-8601 with Z; a
    row without a source is from goldback.com).
    Raises StoreUnavailable / StatementRejected (publish needs the database)."""
    rows = store.db.query("SELECT date, g1_usd, scraped_at, source FROM goldback_rates WHERE g1_usd > 0 ORDER BY date")
    return [GoldbackDay(row["date"], float(row["g1_usd"]), normal_time(row["scraped_at"]),
                        row["source"] or "goldback.com") for row in rows]


def rates_on(store: Store, *dates: str) -> dict[str, float]:
    """date -> stored G1 rate (USD) for those of `dates` that have one; empty when the database
    cannot be reached or has no tables yet."""
    marks = ", ".join("?" for _ in dates)
    rows = store.query_if_available(f"SELECT date, g1_usd FROM goldback_rates WHERE date IN ({marks})", list(dates))
    return {row["date"]: float(row["g1_usd"]) for row in rows or []}


def newest_goldback_date(store: Store) -> str | None:
    """The newest effective date with a positive rate; None when there is none."""
    rows = store.db.query("SELECT MAX(date) AS newest FROM goldback_rates WHERE g1_usd > 0")
    return rows[0]["newest"] if rows else None
