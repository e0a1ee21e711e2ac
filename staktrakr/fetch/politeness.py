"""Politeness for a scrape cycle: vendors in parallel, one request in flight per vendor, gaps, retries.

A cycle is bounded by the slowest vendor's own queue (its targets x (gap + page time)), not by
the number of targets: every vendor runs its own lane concurrently. Transient failures
(timeouts, 5xx, connection resets) are retried with exponential backoff by tenacity; blocked,
not-found and every other kind are final at once.

Per-vendor circuit breaker: after SCRAPE_BREAKER_FAILURES consecutive connection-level
failures (DNS, refused, reset, TLS, timeout) on one route to a vendor (direct, through the home
proxy, or through Firecrawl), that route is open for the rest of the cycle: every later fetch
on it fails at once as `vendor_unreachable`, with no request, gap or retry. Any answer from the
vendor (even a 404) closes it again. With the network down a cycle ends in seconds, not after
30 s of retries per target.
"""

from __future__ import annotations

import asyncio
import random
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from tenacity import AsyncRetrying, RetryCallState, retry_if_result, stop_after_attempt, wait_exponential, wait_none

from staktrakr.fetch.base import FailureKind, FetchResult, failed
from staktrakr.settings import Settings

if TYPE_CHECKING:  # the catalog names its fetchers through fetch/registry.py: no import cycle at run time
    from staktrakr.catalog import Target

T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True)
class Politeness:
    """How hard a cycle may press one vendor (from settings: SCRAPE_GAP_*_S, SCRAPE_ATTEMPTS, SCRAPE_BACKOFF_S)."""

    gap_min_s: float
    gap_max_s: float
    attempts: int
    backoff_s: float
    breaker_failures: int = 3

    @classmethod
    def from_settings(cls, settings: Settings) -> Politeness:
        return cls(settings.scrape_gap_min_s, settings.scrape_gap_max_s, settings.scrape_attempts,
                   settings.scrape_backoff_s, settings.scrape_breaker_failures)


class VendorLane:
    """Serializes one vendor's requests and spaces them by a random gap (never two in flight)."""

    def __init__(self, politeness: Politeness, rng: random.Random) -> None:
        self._politeness = politeness
        self._rng = rng
        self._lock = asyncio.Lock()
        self._next_start = 0.0
        self.requests = 0
        self._failures_in_a_row: dict[str, int] = {}   # route -> consecutive connection-level failures
        self._last_failure: dict[str, str] = {}

    def unreachable(self, route: str) -> str | None:
        """Why the route is open (the vendor is not asked again this cycle), or None."""
        failures = self._failures_in_a_row.get(route, 0)
        if failures < self._politeness.breaker_failures:
            return None
        return f"{failures} connection failures in a row ({self._last_failure.get(route)}); not tried"

    def record(self, route: str, result: FetchResult) -> None:
        """Count connection-level failures per route; any answer from the vendor resets the count."""
        if result.failure is not None and result.failure.connection_level:
            self._failures_in_a_row[route] = self._failures_in_a_row.get(route, 0) + 1
            failure = result.failure.value
            self._last_failure[route] = f"{failure}: {result.detail}" if result.detail else failure
        elif result.failure is not FailureKind.VENDOR_UNREACHABLE:
            self._failures_in_a_row[route] = 0

    async def run(self, request: Callable[[], Awaitable[T]]) -> T:
        loop = asyncio.get_running_loop()
        async with self._lock:
            delay = self._next_start - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            self.requests += 1
            try:
                return await request()
            finally:
                gap = self._rng.uniform(self._politeness.gap_min_s, self._politeness.gap_max_s)
                self._next_start = loop.time() + gap


def _is_transient(result: FetchResult) -> bool:
    return result.failure is not None and result.failure.transient


async def fetch_with_retries(lane: VendorLane, politeness: Politeness,
                             fetch_once: Callable[[], Awaitable[FetchResult]], *, route: str = "direct",
                             fetcher: str = "http", url: str = "") -> FetchResult:
    """One fetch through the vendor's lane, retried with backoff while the failure is transient and
    the route's breaker stays closed; `vendor_unreachable` at once when it is open."""
    why = lane.unreachable(route)
    if why is not None:
        return failed(fetcher, url, FailureKind.VENDOR_UNREACHABLE, why, via_proxy=route == "proxy")

    async def attempt() -> FetchResult:
        why_now = lane.unreachable(route)
        if why_now is not None:
            return failed(fetcher, url, FailureKind.VENDOR_UNREACHABLE, why_now, via_proxy=route == "proxy")
        result = await lane.run(fetch_once)
        lane.record(route, result)
        return result

    wait = (wait_exponential(multiplier=politeness.backoff_s, min=politeness.backoff_s, max=politeness.backoff_s * 8)
            if politeness.backoff_s > 0 else wait_none())
    retrying = AsyncRetrying(
        stop=stop_after_attempt(politeness.attempts),
        wait=wait,
        retry=retry_if_result(lambda result: _is_transient(result) and lane.unreachable(route) is None),
        retry_error_callback=_last_result,  # give back the last failure
    )
    result: FetchResult = await retrying(attempt)
    return result


def _last_result(state: RetryCallState) -> FetchResult:
    """The last attempt's FetchResult, once the retries are spent."""
    outcome = state.outcome
    if outcome is None:
        raise RuntimeError("no attempt was made")
    result: FetchResult = outcome.result()
    return result


def by_vendor(targets: Sequence[Target]) -> OrderedDict[str, list[int]]:
    """Target indexes grouped per vendor, in catalog order."""
    groups: OrderedDict[str, list[int]] = OrderedDict()
    for index, target in enumerate(targets):
        groups.setdefault(target.vendor_id, []).append(index)
    return groups


async def run_per_vendor(targets: Sequence[Target], work: Callable[[Target, VendorLane], Awaitable[R]],
                         politeness: Politeness, rng: random.Random | None = None) -> list[R]:
    """Run `work` for every target: vendors concurrently, each vendor's targets one after another
    through its lane. Results come back in target order."""
    rng = rng or random.Random()
    results: list[R | None] = [None] * len(targets)

    async def vendor_worker(indexes: list[int]) -> None:
        lane = VendorLane(politeness, rng)
        for index in indexes:
            results[index] = await work(targets[index], lane)

    await asyncio.gather(*(vendor_worker(indexes) for indexes in by_vendor(targets).values()))
    return results  # type: ignore[return-value]
