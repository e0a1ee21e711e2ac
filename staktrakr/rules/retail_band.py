"""The plausibility band a unit price must fall in, from spot when known, else fixed per-oz bands.

A band relative to melt value follows the metal as it moves; fixed dollar bands age. Bullion
sells between a little under melt (dealer buy-backs, sales) and ~3x melt (small fractional
coins at worst); anything outside is a misread (a spot quote, a bulk box, a per-gram figure).

Goldback: a G-unit holds 1/1000 oz of gold, so melt = gold spot x G-units / 1000. Goldbacks
sell at a currency-like premium: the G1 retails near $10 with gold near $5,000 (melt $5, so
2x melt). GOLDBACK_SPOT_MULTIPLES allows 1x to 4x melt.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from staktrakr.catalog import Coin

# Unit price must lie within these multiples of melt value (spot x weight).
BULLION_SPOT_MULTIPLES = (0.9, 3.0)
GOLDBACK_SPOT_MULTIPLES = (1.0, 4.0)
GOLDBACK_GOLD_OZ_PER_UNIT = 0.001

# Without spot: fixed USD bands per troy ounce (per G-unit for Goldback), early 2026 prices.
FIXED_BANDS_PER_OZ = {
    "silver": (40.0, 200.0),
    "gold": (1_500.0, 15_000.0),
    "platinum": (500.0, 6_000.0),
    "palladium": (300.0, 6_000.0),
    "goldback": (5.0, 25.0),
}


@dataclass(frozen=True)
class Band:
    """Inclusive [low, high] in USD for one unit of the coin, and how it was derived."""

    low: float
    high: float
    basis: str  # "spot" or "fixed"

    def contains(self, price: float) -> bool:
        return self.low <= price <= self.high

    def describe(self) -> str:
        return f"{self.low:,.2f}-{self.high:,.2f} ({self.basis})"


def melt_value(coin: Coin, spot_usd_per_oz: float) -> float:
    """Metal content value in USD: spot x troy oz (Goldback: gold spot x G-units / 1000)."""
    if coin.metal == "goldback":
        return spot_usd_per_oz * coin.weight_oz * GOLDBACK_GOLD_OZ_PER_UNIT
    return spot_usd_per_oz * coin.weight_oz


def usable_spot(spot_usd_per_oz: float | None) -> float | None:
    """A spot price worth trusting: positive and finite; 0/NaN/inf mean 'unknown'."""
    if spot_usd_per_oz is None or not math.isfinite(spot_usd_per_oz) or spot_usd_per_oz <= 0:
        return None
    return float(spot_usd_per_oz)


def price_band(coin: Coin, spot_usd_per_oz: float | None) -> Band:
    """The band for one unit of `coin`: melt multiples with a usable spot, else the fixed band."""
    spot = usable_spot(spot_usd_per_oz)
    if spot is not None:
        low_multiple, high_multiple = GOLDBACK_SPOT_MULTIPLES if coin.metal == "goldback" else BULLION_SPOT_MULTIPLES
        melt = melt_value(coin, spot)
        return Band(round(melt * low_multiple, 2), round(melt * high_multiple, 2), "spot")
    low_per_oz, high_per_oz = FIXED_BANDS_PER_OZ[coin.metal]
    return Band(round(low_per_oz * coin.weight_oz, 2), round(high_per_oz * coin.weight_oz, 2), "fixed")
