"""The Goldback calendar: which publisher's date the rate on goldback.com belongs to.

goldback.com updates the rate on business days (Mon-Fri) at 10:00 Mountain time
(America/Denver, so MST in winter, MDT in summer). Before 10:00 on a business day, and all
weekend, the rate on the page is the previous business day's. US holidays are not modelled:
the page is read as published, so a holiday stores the unchanged rate under its own date.
The plausibility band for the rate is `goldback_rate_band` in rules/bands.py.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from staktrakr.timeutil import as_utc

MOUNTAIN = ZoneInfo("America/Denver")
UPDATE_TIME = time(10, 0)
# Right after 10:00 the page may still show yesterday's rate; an unchanged rate read in this
# window is not stored (a later run stores it), so yesterday's value is never filed under today.
UPDATE_GRACE = timedelta(minutes=45)


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
