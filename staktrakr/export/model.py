"""What the builders take: plain values read from the database by publish, or rebuilt from the
published files of several branches by merge. Builders never see SQL rows or git objects.
"""

from __future__ import annotations

from dataclasses import dataclass, field

LAST_KNOWN_SOURCE = "turso_last_known"


@dataclass(frozen=True)
class WindowPrice:
    """A vendor's newest non-failed observation in one 15-minute window."""

    vendor: str
    window_start: str  # "YYYY-MM-DDTHH:MM:00Z"
    scraped_at: str  # ISO-8601 with Z
    price: float | None
    in_stock: bool
    confidence: int | None
    source: str


@dataclass(frozen=True)
class VendorQuote:
    """One vendor as a coin's latest.json shows it: live, or carried over (`stale_since` set)."""

    price: float
    confidence: int | None
    source: str
    observed_at: str  # when it was seen: scraped_at (publish) or the file's window (merge)
    stale_since: str | None = None

    @property
    def stale(self) -> bool:
        return self.stale_since is not None


@dataclass
class CoinSnapshot:
    """Everything a coin's latest.json says, before medians are computed."""

    slug: str
    window_start: str
    quotes: dict[str, VendorQuote] = field(default_factory=dict)
    availability: dict[str, bool] = field(default_factory=dict)
    availability_seen: dict[str, str] = field(default_factory=dict)  # vendor -> time of the deciding row
    last_known_price: dict[str, float] = field(default_factory=dict)
    last_available_date: dict[str, str] = field(default_factory=dict)
    windows: dict[str, dict[str, float]] = field(default_factory=dict)  # window_start -> vendor -> price
    is_stale: bool = False


@dataclass(frozen=True)
class VendorDay:
    """One vendor's prices on one date: average and minimum of in-stock prices (or of any price
    when it was never in stock that day), with the in-stock sample count."""

    avg: float
    low: float | None
    in_stock: bool
    samples: int


@dataclass(frozen=True)
class SpotEntry:
    """One metal's spot in one 15-minute slot (USD/oz)."""

    metal: str  # lowercase: gold, silver, platinum, palladium
    spot: float
    timestamp: str  # "YYYY-MM-DD HH:MM:SS"
    provider: str = "StakTrakr"


@dataclass(frozen=True)
class GoldbackDay:
    date: str
    g1_usd: float
    scraped_at: str
    source: str = "goldback.com"
