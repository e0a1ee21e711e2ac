"""Numbers as the published API shows them: the upper median and JS-style money values.

The existing system's median is the upper median (element floor(n/2) of the sorted prices);
we keep it so the published series does not jump at the hand-over. Money is rounded to
cents and an integral value is written as an integer (5245, not 5245.0), like the old files.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from staktrakr.rules.scoring import upper_median as upper_median  # re-exported: one median definition


def money(value: float | int | None, places: int = 2) -> float | int | None:
    """Round to `places` decimals; integral results become ints (JSON `5245`, not `5245.0`)."""
    if value is None:
        return None
    number = float(value)
    if not math.isfinite(number):
        return None
    rounded = round(number, places)
    if rounded == int(rounded):
        return int(rounded)
    return rounded


def lowest(values: Iterable[float]) -> float | None:
    ordered = list(values)
    return min(ordered) if ordered else None
