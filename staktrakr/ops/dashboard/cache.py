"""Settled rows of the dashboard's three big reads, kept between refreshes.

Past days of prices, past hours of coverage and windows older than an hour do not change once
their scrapes are in, so each refresh reads only from the first period the cache lacks (the
current day, the last two hours, the last hour's windows once warm). The whole cache is dropped
every SETTLED_TTL_S, so rows that arrive late (an outbox replayed after an outage) show within
that time. Periods are keyed by their text ("YYYY-MM-DD", "YYYY-MM-DDTHH", window_start), whose
text order is time order.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta

from staktrakr.store.database import Rows
from staktrakr.store.queries.dashboard import DashboardRows, DashboardSpans
from staktrakr.timeutil import WINDOW, floor_window, window_start

SETTLED_TTL_S = 3600.0
LIVE_HOURS = 2                      # the current and the previous hour are read on every refresh
LIVE_WINDOWS = timedelta(hours=1)   # windows newer than this are read on every refresh


class SettledRows:
    """Rows grouped by period key for the keys before a moving `live_from` key."""

    def __init__(self, key_of: Callable[[dict[str, object]], str]) -> None:
        self._key_of = key_of
        self._rows: dict[str, Rows] = {}

    def clear(self) -> None:
        self._rows.clear()

    def read_from(self, span_keys: list[str], live_from: str) -> str:
        """The first key to read: the oldest settled key of the span not held, else `live_from`."""
        for key in span_keys:
            if key >= live_from:
                break
            if key not in self._rows:
                return key
        return live_from

    def merge(self, rows: Rows, read_from: str, span_keys: list[str], live_from: str) -> Rows:
        """Keep the settled keys read now (empty ones too), forget keys that left the span, and give
        the span's rows: the held settled ones, then the live ones read now, each in key order."""
        fresh: dict[str, Rows] = defaultdict(list)
        for row in rows:
            fresh[self._key_of(row)].append(row)
        for key in span_keys:
            if read_from <= key < live_from:
                self._rows[key] = fresh.get(key, [])
        for key in [key for key in self._rows if key < span_keys[0]]:
            del self._rows[key]
        settled = [row for key in span_keys if key < live_from for row in self._rows.get(key, [])]
        live = [row for key in sorted(fresh) if key >= live_from for row in fresh[key]]
        return settled + live


class DashboardCache:
    """The three settled caches (daily prices, priced hours, recent windows) behind one lock."""

    def __init__(self, ttl_s: float = SETTLED_TTL_S, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl_s = ttl_s
        self._clock = clock
        self._filled_at: float | None = None
        self.lock = threading.Lock()
        self.daily = SettledRows(lambda row: str(row["day"]))
        self.hours = SettledRows(lambda row: str(row["hour"]))
        self.windows = SettledRows(lambda row: str(row["window_start"]))

    @staticmethod
    def live_from(spans: DashboardSpans) -> tuple[str, str, str]:
        """The first live key of each read: today, the previous hour, the window an hour back."""
        now = spans.now
        hour = (now - timedelta(hours=LIVE_HOURS - 1)).strftime("%Y-%m-%dT%H")
        return now.strftime("%Y-%m-%d"), hour, window_start(floor_window(now) - LIVE_WINDOWS + WINDOW)

    def plan(self, spans: DashboardSpans) -> DashboardSpans:
        """`spans` with the three reads starting where the cache stops (dropped first when too old)."""
        if self._filled_at is None or self._clock() - self._filled_at > self.ttl_s:
            for part in (self.daily, self.hours, self.windows):
                part.clear()
            self._filled_at = self._clock()
        day, hour, window = self.live_from(spans)
        return replace(spans, daily_from=self.daily.read_from(spans.day_keys(), day),
                       hours_from=self.hours.read_from(spans.hour_keys(), hour),
                       windows_from=self.windows.read_from(spans.window_keys(), window))

    def merge(self, planned: DashboardSpans, rows: DashboardRows) -> DashboardRows:
        """`rows` (read from `planned`) completed with the held settled rows of each span."""
        day, hour, window = self.live_from(planned)
        rows.daily_prices = self.daily.merge(rows.daily_prices, planned.daily_from or "", planned.day_keys(), day)
        rows.priced_hours = self.hours.merge(rows.priced_hours, planned.hours_from or "", planned.hour_keys(), hour)
        rows.recent_windows = self.windows.merge(rows.recent_windows, planned.windows_from or "",
                                                 planned.window_keys(), window)
        return rows
