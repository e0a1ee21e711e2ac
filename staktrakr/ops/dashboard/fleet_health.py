"""The other pollers' `/healthz`, checked from this server (FLEET_HEALTH_URLS), at most once per
FLEET_HEALTH_INTERVAL_S however many browsers are open: replaces the old Fly check script.

Each check is a GET with a short timeout; the result keeps the HTTP status, the verdict the
remote /healthz gives (`ok`, `stale`, `degraded`), the latency in milliseconds and the poller id
it reports. The URL shown is stripped of any user:password part and query.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

from staktrakr.store.database import display_url
from staktrakr.timeutil import iso_z, utcnow

FLEET_HEALTH_INTERVAL_S = 60.0
FLEET_HEALTH_TIMEOUT_S = 5.0


@dataclass(frozen=True)
class HostHealth:
    url: str                   # shown form: no credentials, no query
    checked_at: str
    status_code: int | None    # None when no answer (refused, DNS, timeout)
    verdict: str | None        # the remote /healthz "status" field
    poller: str | None
    latency_ms: float | None
    error: str | None


def healthz_url(base: str) -> str:
    """`base` + /healthz, unless it already names a path ending in /healthz."""
    return base if urlsplit(base).path.rstrip("/").endswith("/healthz") else base.rstrip("/") + "/healthz"


async def check_one(client: httpx.AsyncClient, base: str) -> HostHealth:
    """One GET of the host's /healthz; an error becomes a result with `error` set, never an exception."""
    url = healthz_url(base)
    started = time.perf_counter()
    try:
        response = await client.get(url)
    except httpx.HTTPError as exc:
        return HostHealth(display_url(url), iso_z(utcnow()), None, None, None, None,
                          f"{type(exc).__name__}: no answer")
    latency = round((time.perf_counter() - started) * 1000, 1)
    verdict = poller = None
    try:
        body = response.json()
        if isinstance(body, dict):
            verdict = str(body["status"]) if body.get("status") is not None else None
            poller = str(body["poller"]) if body.get("poller") is not None else None
    except ValueError:
        pass
    error = None if response.status_code in (200, 503) and verdict else f"HTTP {response.status_code}"
    return HostHealth(display_url(url), iso_z(utcnow()), response.status_code, verdict, poller, latency, error)


class FleetHealth:
    """The cached results; `current()` re-checks every URL when the cache is older than the interval."""

    def __init__(self, urls: list[str], interval_s: float = FLEET_HEALTH_INTERVAL_S,
                 timeout_s: float = FLEET_HEALTH_TIMEOUT_S) -> None:
        self.urls = urls
        self.interval_s = interval_s
        self.timeout_s = timeout_s
        self._results: list[HostHealth] = []
        self._checked: float | None = None
        self._lock = asyncio.Lock()

    async def current(self) -> list[dict[str, Any]]:
        if not self.urls:
            return []
        async with self._lock:
            if self._checked is None or time.monotonic() - self._checked >= self.interval_s:
                async with httpx.AsyncClient(timeout=self.timeout_s, follow_redirects=False) as client:
                    self._results = list(await asyncio.gather(*(check_one(client, url) for url in self.urls)))
                self._checked = time.monotonic()
        return [asdict(result) for result in self._results]
