"""Goldback rules as data: the plausibility band for the G1 rate and the publisher's effective date.

Band: a Goldback holds 1/1000 troy oz of gold, and its exchange rate has sat at about 2x melt
(G1 $10.06 with gold $5,019 in March 2026). With a known gold spot the rate must lie within
MIN_MELT_MULTIPLE..MAX_MELT_MULTIPLE x melt; without one, within FIXED_BAND_USD.

Effective date: goldback.com updates the rate on business days (Mon-Fri) at 10:00 Mountain
time (America/Denver, so MST in winter, MDT in summer). Before 10:00 on a business day, and all
weekend, the rate on the page is the previous business day's. US holidays are not modelled:
the page is read as published, so a holiday stores the unchanged rate under its own date.
"""

from __future__ import annotations

import math
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from staktrakr.rules.retail_band import GOLDBACK_GOLD_OZ_PER_UNIT
from staktrakr.timeutil import as_utc

MIN_MELT_MULTIPLE = 1.2
MAX_MELT_MULTIPLE = 4.0
FIXED_BAND_USD = (2.0, 50.0)

MOUNTAIN = ZoneInfo("America/Denver")
UPDATE_TIME = time(10, 0)
# Right after 10:00 the page may still show yesterday's rate; an unchanged rate read in this
# window is not stored (a later run stores it), so yesterday's value is never filed under today.
UPDATE_GRACE = timedelta(minutes=45)


def goldback_band(gold_spot_usd: float | None) -> tuple[float, float, str]:
    """(low, high, basis) for a plausible G1 rate; `basis` says which rule made the band."""
    if gold_spot_usd is not None and math.isfinite(gold_spot_usd) and gold_spot_usd > 0:
        melt = gold_spot_usd * GOLDBACK_GOLD_OZ_PER_UNIT
        return (round(melt * MIN_MELT_MULTIPLE, 2), round(melt * MAX_MELT_MULTIPLE, 2),
                f"{MIN_MELT_MULTIPLE:g}-{MAX_MELT_MULTIPLE:g}x melt at gold ${gold_spot_usd:,.2f}")
    low, high = FIXED_BAND_USD
    return low, high, "fixed band (no gold spot known)"


def is_business_day(day: date) -> bool:
    return day.weekday() < 5


def previous_business_day(day: date) -> date:
    day -= timedelta(days=1)
    while not is_business_day(day):
        day -= timedelta(days=1)
    return day


def effective_date(moment: datetime) -> date:
    """The publisher's date for the rate shown at `moment` (naive = UTC)."""
    local = as_utc(moment).astimezone(MOUNTAIN)
    if is_business_day(local.date()) and local.time() >= UPDATE_TIME:
        return local.date()
    return previous_business_day(local.date())


def in_update_grace(moment: datetime) -> bool:
    """True in the first UPDATE_GRACE after a business day's 10:00 Mountain update."""
    local = as_utc(moment).astimezone(MOUNTAIN)
    if not is_business_day(local.date()):
        return False
    update = datetime.combine(local.date(), UPDATE_TIME, MOUNTAIN)
    return update <= local < update + UPDATE_GRACE
