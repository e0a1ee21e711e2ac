"""Rows the jobs write, as pydantic models shared by jobs, store and outbox.

Each model is exactly what one table row holds (plus the columns our migrations add), so the
outbox can keep them as JSON and replay them through the same idempotent statements.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

DEMO_POLLER_ID = "demo"  # the poller id of `staktrakr demo`'s sample rows; publish refuses them

SpotMetal = Literal["gold", "silver", "platinum", "palladium"]
SPOT_METALS: tuple[SpotMetal, ...] = ("gold", "silver", "platinum", "palladium")


def spot_metal(name: str) -> SpotMetal:
    """`name` as a spot metal; ValueError for anything else (a row must never name another metal)."""
    for metal in SPOT_METALS:
        if metal == name:
            return metal
    raise ValueError(f"not a spot metal: {name!r}")
RunStatus = Literal["running", "ok", "error", "interrupted"]


class _Row(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class PriceObservation(_Row):
    """One price_snapshots row: a price (is_failed 0) or a failed target (price NULL, is_failed 1)."""

    scraped_at: str
    window_start: str
    coin_slug: str
    vendor: str
    price: float | None
    source: str
    confidence: int | None = None
    is_failed: bool = False
    in_stock: bool = True
    poller_id: str
    run_id: str | None = None
    evidence: str | None = None

    @field_validator("price")
    @classmethod
    def _price_positive(cls, value: float | None) -> float | None:
        if value is not None and not (value > 0 and value < 1e9):
            raise ValueError(f"price must be a positive finite number (got {value!r})")
        return value


class ProviderFailure(_Row):
    coin_slug: str
    vendor_id: str
    url: str | None
    error: str
    failed_at: str
    run_id: str | None = None
    poller_id: str | None = None


def new_run_id(poller_id: str, job: str, started: datetime) -> str:
    """`<poller>-<job>-YYYYMMDDTHHMMSSmmm`: the existing run_id shape plus the job name (one
    shape for every job, so status and metrics can read them alike)."""
    return f"{poller_id}-{job}-{started.strftime('%Y%m%dT%H%M%S')}{started.microsecond // 1000:03d}"


class PollerRun(_Row):
    """A poller_runs row; written once at start (running) and upserted at the end: `ok`, `error`,
    or `interrupted` (stopped by a signal, or recovered from the journal of a killed process)."""

    run_id: str
    poller_id: str
    job: str
    started_at: str
    finished_at: str | None = None
    status: RunStatus = "running"
    total: int | None = None
    captured: int | None = None
    failures: int | None = None
    fbp_filled: int | None = None
    error: str | None = None
    vision: str | None = None   # the scrape's vision counters as JSON (calls, reused, agreed, ...), or None


class SpotPrice(_Row):
    """A spot_prices row: `timestamp_floor` is the 15-minute slot, `scraped_at` the real fetch time."""

    metal: SpotMetal
    spot: float = Field(gt=0)
    source: str = "metalprice-api"
    poller_id: str
    timestamp: str
    timestamp_floor: str
    scraped_at: str
    provider_timestamp: str | None = None


class GoldbackRate(_Row):
    date: str
    g1_usd: float = Field(gt=0)
    source: str = "goldback.com"
    scraped_at: str
    poller_id: str | None = None
