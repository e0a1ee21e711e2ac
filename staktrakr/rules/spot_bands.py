"""Per-metal plausibility bands for spot prices (USD per troy ounce), one place for every job.

The spot job refuses to store, and publish refuses to publish, any value outside its metal's
band: this is what keeps a 0, a NaN, an un-inverted rate (0.0002) or a per-gram figure out of
the database and the API. Defaults hold for March 2026 (gold ~$5,000, silver ~$80, platinum
~$2,000, palladium ~$1,500) with room of several times either way; the SPOT_BANDS setting
overrides single metals, e.g. `SPOT_BANDS="gold=2000:30000,silver=20:800"`.
"""

from __future__ import annotations

import math
from typing import Mapping

from staktrakr.errors import ConfigError

Band = tuple[float, float]

SPOT_BANDS_USD_PER_OZ: dict[str, Band] = {
    "gold": (1000.0, 20000.0),
    "silver": (10.0, 500.0),
    "platinum": (300.0, 8000.0),
    "palladium": (200.0, 8000.0),
}

METALS: tuple[str, ...] = tuple(SPOT_BANDS_USD_PER_OZ)


def parse_band_overrides(text: str | None) -> dict[str, Band]:
    """Parse `metal=low:high[,metal=low:high]`; a malformed entry is a ConfigError naming SPOT_BANDS."""
    overrides: dict[str, Band] = {}
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
            raise ConfigError(f"SPOT_BANDS: '{entry}' is not metal=low:high (e.g. gold=1000:20000)") from None
        if metal not in SPOT_BANDS_USD_PER_OZ:
            raise ConfigError(f"SPOT_BANDS: unknown metal '{metal}' (expected one of {', '.join(METALS)})")
        if not (math.isfinite(low) and math.isfinite(high) and 0 < low < high):
            raise ConfigError(f"SPOT_BANDS: '{entry}' needs 0 < low < high")
        overrides[metal] = (low, high)
    return overrides


def spot_bands(overrides: str | Mapping[str, Band] | None = None) -> dict[str, Band]:
    """The effective bands: the defaults with any overrides (a SPOT_BANDS string or a mapping) applied."""
    bands = dict(SPOT_BANDS_USD_PER_OZ)
    if isinstance(overrides, str) or overrides is None:
        bands.update(parse_band_overrides(overrides))
    else:
        bands.update({metal.lower(): (float(low), float(high)) for metal, (low, high) in overrides.items()})
    return bands


def spot_in_band(metal: str, value: object, bands: Mapping[str, Band] | None = None) -> bool:
    """True only for a finite, positive number inside the metal's band; unknown metals are refused."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    number = float(value)
    if not math.isfinite(number) or number <= 0:
        return False
    band = (bands or SPOT_BANDS_USD_PER_OZ).get(metal.lower())
    if band is None:
        return False
    low, high = band
    return low <= number <= high


def band_problem(metal: str, value: object, bands: Mapping[str, Band] | None = None) -> str | None:
    """None when the value is plausible, else a short reason for the one-line error."""
    if spot_in_band(metal, value, bands):
        return None
    band = (bands or SPOT_BANDS_USD_PER_OZ).get(metal.lower())
    if band is None:
        return f"{metal}: unknown metal"
    return f"{metal} {value!r} outside the band {band[0]:g}-{band[1]:g} USD/oz"
