"""Plausibility bands: the one `Band` type and the three rules that make bands.

A band is the inclusive USD range a value must fall in to be believed; a value outside it is a
misread (a spot quote read as a coin price, a per-gram figure, an un-inverted rate, a 0) and is
refused, never stored or published. Three kinds, each in its own unit:

- retail price band (`price_band`): USD per unit of a coin, used by extraction;
- spot bands (`SPOT_BANDS_USD_PER_OZ`, `parse_spot_bands`, `spot_in_band`): USD per troy oz of
  each metal, used by the spot jobs, publish, merge and every reader of stored spot;
- Goldback rate band (`goldback_rate_band`): USD per G1, the goldback.com exchange rate.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from staktrakr.catalog import Coin


@dataclass(frozen=True)
class Band:
    """Inclusive [low, high] in USD (per coin unit, per troy oz or per G1, by kind) and how it was derived.

    `basis` says which rule made the bounds, in words the job output and failure reasons show:
    "spot" or "fixed" (retail), "default" or "SPOT_BANDS" (spot), "1.2-4x melt at gold $5,018.96"
    or "fixed band (no gold spot known)" (Goldback rate)."""

    low: float
    high: float
    basis: str

    def contains(self, value: float) -> bool:
        """True for low <= value <= high; NaN is never inside."""
        return self.low <= value <= self.high

    def describe(self) -> str:
        """The band for a one-line failure reason, e.g. "72.00-240.00 (spot)"."""
        return f"{self.low:,.2f}-{self.high:,.2f} ({self.basis})"


def usable_spot(spot_usd_per_oz: float | None) -> float | None:
    """A spot price worth trusting: positive and finite; 0/NaN/inf mean 'unknown'."""
    if spot_usd_per_oz is None or not math.isfinite(spot_usd_per_oz) or spot_usd_per_oz <= 0:
        return None
    return float(spot_usd_per_oz)


def _melt_band(melt_usd: float, multiples: tuple[float, float], basis: str) -> Band:
    """The band between two multiples of a melt value, in cents."""
    low_multiple, high_multiple = multiples
    return Band(round(melt_usd * low_multiple, 2), round(melt_usd * high_multiple, 2), basis)


# Retail price band ------------------------------------------------------------------------------
#
# A band relative to melt value follows the metal as it moves; fixed dollar bands age. Bullion
# sells between a little under melt (dealer buy-backs, sales) and ~3x melt (small fractional
# coins at worst); anything outside is a misread (a spot quote, a bulk box, a per-gram figure).
#
# Goldback: a G-unit holds 1/1000 oz of gold, so melt = gold spot x G-units / 1000. Goldbacks
# sell at a currency-like premium: the G1 retails near $10 with gold near $5,000 (melt $5, so
# 2x melt). GOLDBACK_SPOT_MULTIPLES allows 1x to 4x melt.

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


def melt_value(coin: Coin, spot_usd_per_oz: float) -> float:
    """Metal content value in USD: spot x troy oz (Goldback: gold spot x G-units / 1000)."""
    if coin.metal == "goldback":
        return spot_usd_per_oz * coin.weight_oz * GOLDBACK_GOLD_OZ_PER_UNIT
    return spot_usd_per_oz * coin.weight_oz


def price_band(coin: Coin, spot_usd_per_oz: float | None) -> Band:
    """The band for one unit of `coin` in USD: melt multiples with a usable spot (basis "spot"),
    else the fixed per-oz band times the coin's weight (basis "fixed")."""
    spot = usable_spot(spot_usd_per_oz)
    if spot is not None:
        multiples = GOLDBACK_SPOT_MULTIPLES if coin.metal == "goldback" else BULLION_SPOT_MULTIPLES
        return _melt_band(melt_value(coin, spot), multiples, "spot")
    low_per_oz, high_per_oz = FIXED_BANDS_PER_OZ[coin.metal]
    return Band(round(low_per_oz * coin.weight_oz, 2), round(high_per_oz * coin.weight_oz, 2), "fixed")


# Spot bands -------------------------------------------------------------------------------------
#
# The spot job refuses to store, and publish refuses to publish, any value outside its metal's
# band: this is what keeps a 0, a NaN, an un-inverted rate (0.0002) or a per-gram figure out of
# the database and the API. Defaults hold for March 2026 (gold ~$5,000, silver ~$80, platinum
# ~$2,000, palladium ~$1,500) with room of several times either way; the SPOT_BANDS setting
# overrides single metals, e.g. `SPOT_BANDS="gold=2000:30000,silver=20:800"`. Settings parses it
# once at start (`Settings.spot_bands`); every job passes that mapping on.

SpotBands = Mapping[str, Band]
"""Metal (lower case) -> its band in USD per troy oz."""

SPOT_BANDS_USD_PER_OZ: dict[str, Band] = {
    "gold": Band(1000.0, 20000.0, "default"),
    "silver": Band(10.0, 500.0, "default"),
    "platinum": Band(300.0, 8000.0, "default"),
    "palladium": Band(200.0, 8000.0, "default"),
}

METALS: tuple[str, ...] = tuple(SPOT_BANDS_USD_PER_OZ)


def parse_spot_bands(text: str | None) -> dict[str, Band]:
    """The effective spot bands: the defaults with SPOT_BANDS `metal=low:high[,metal=low:high]` applied.

    Raises ValueError with a one-line reason (Settings reports it as `SPOT_BANDS: <reason>`)."""
    bands = dict(SPOT_BANDS_USD_PER_OZ)
    for entry in (text or "").split(","):
        entry = entry.strip()
        if not entry:
            continue
        metal, _, bounds = entry.partition("=")
        metal = metal.strip().lower()
        low_text, _, high_text = bounds.partition(":")
        try:
            low, high = float(low_text), float(high_text)
        except ValueError:
            raise ValueError(f"'{entry}' is not metal=low:high (e.g. gold=1000:20000)") from None
        if metal not in SPOT_BANDS_USD_PER_OZ:
            raise ValueError(f"unknown metal '{metal}' (expected one of {', '.join(METALS)})")
        if not (math.isfinite(low) and math.isfinite(high) and 0 < low < high):
            raise ValueError(f"'{entry}' needs 0 < low < high")
        bands[metal] = Band(low, high, "SPOT_BANDS")
    return bands


def spot_in_band(metal: str, value: object, bands: SpotBands | None = None) -> bool:
    """True only for a finite, positive number inside the metal's band (the defaults when `bands`
    is None); unknown metals are refused."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    number = float(value)
    if not math.isfinite(number) or number <= 0:
        return False
    band = (bands or SPOT_BANDS_USD_PER_OZ).get(metal.lower())
    return band is not None and band.contains(number)


def band_problem(metal: str, value: object, bands: SpotBands | None = None) -> str | None:
    """None when the spot value is plausible, else a short reason for the one-line error."""
    if spot_in_band(metal, value, bands):
        return None
    band = (bands or SPOT_BANDS_USD_PER_OZ).get(metal.lower())
    if band is None:
        return f"{metal}: unknown metal"
    return f"{metal} {value!r} outside the band {band.low:g}-{band.high:g} USD/oz"


# Goldback rate band -----------------------------------------------------------------------------
#
# A Goldback holds 1/1000 troy oz of gold, and its exchange rate has sat at about 2x melt (G1
# $10.06 with gold $5,019 in March 2026). With a known gold spot the rate must lie within
# GOLDBACK_RATE_MELT_MULTIPLES x melt; without one, within GOLDBACK_RATE_FIXED_BAND_USD.

GOLDBACK_RATE_MELT_MULTIPLES = (1.2, 4.0)
GOLDBACK_RATE_FIXED_BAND_USD = (2.0, 50.0)


def goldback_rate_band(gold_spot_usd: float | None) -> Band:
    """The band for a plausible G1 rate in USD; `basis` says which rule made it."""
    gold = usable_spot(gold_spot_usd)
    if gold is not None:
        low_multiple, high_multiple = GOLDBACK_RATE_MELT_MULTIPLES
        return _melt_band(gold * GOLDBACK_GOLD_OZ_PER_UNIT, GOLDBACK_RATE_MELT_MULTIPLES,
                          f"{low_multiple:g}-{high_multiple:g}x melt at gold ${gold:,.2f}")
    low, high = GOLDBACK_RATE_FIXED_BAND_USD
    return Band(low, high, "fixed band (no gold spot known)")
