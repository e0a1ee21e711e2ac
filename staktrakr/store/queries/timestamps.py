"""The two timestamp shapes of the shared database, read correctly by every query.

Rows hold ours (`2026-03-15T17:30:02.913Z`) and SQLite's `datetime('now')` default
(`2026-03-15 17:30:02`) on old rows. Comparing them as text is wrong on the boundary day (the
old dashboard's bug), so a time filter goes through `since()` and an hour grouping through
`HOUR_KEY`; both read either shape.
"""

from __future__ import annotations

from datetime import datetime

from staktrakr.timeutil import as_utc

# SQL expression: a timestamp_floor of either shape -> its UTC hour as "YYYY-MM-DDTHH".
HOUR_KEY = "substr(replace(timestamp_floor, ' ', 'T'), 1, 13)"


def since(column: str, cutoff: datetime) -> tuple[str, tuple[str, str]]:
    """SQL and args for `column >= cutoff` that holds for both timestamp shapes: a date-prefix
    test (both shapes start with YYYY-MM-DD, so it can use an index on the column) and an exact
    `julianday()` test. `cutoff` is made UTC first (a naive datetime is taken as UTC)."""
    cutoff = as_utc(cutoff)
    return (
        f"({column} >= ? AND julianday({column}) >= julianday(?))",
        (cutoff.strftime("%Y-%m-%d"), cutoff.strftime("%Y-%m-%d %H:%M:%S")),
    )
