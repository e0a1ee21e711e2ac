"""The plain HTTP fetcher: httpx with browser-like headers, HTTP/2, redirects, a size cap.

Cheapest fetcher, tried first for most vendors. Never raises for page trouble: every outcome is
a FetchResult with a typed failure kind. One client per egress (direct, proxy) per run.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any, ClassVar

import httpx

from staktrakr.fetch.base import (
    MAX_PAGE_BYTES,
    FailureKind,
    FetcherCapabilities,
    FetchResult,
    failed,
    failure_for_content,
    failure_for_status,
)
from staktrakr.log import shorten
from staktrakr.settings import Settings

BROWSER_HEADERS = {
    "User-Agent": (
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/124.0.0.0 Safari/537.36"
    ),
    "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8",
    "Accept-Language": "en-US,en;q=0.9",
    "Accept-Encoding": "gzip, deflate, br",
    "Upgrade-Insecure-Requests": "1",
    "Sec-Fetch-Dest": "document",
    "Sec-Fetch-Mode": "navigate",
    "Sec-Fetch-Site": "none",
}


class HttpFetcher:
    """Fetch a page with httpx; one AsyncClient per egress, reused across the run."""

    name: ClassVar[str] = "http"
    capabilities: ClassVar[FetcherCapabilities] = FetcherCapabilities(source_label="http", supports_proxy=True)

    def __init__(self, settings: Settings, *, max_bytes: int = MAX_PAGE_BYTES) -> None:
        self._timeout_s = settings.fetch_timeout_s
        self._proxy_url = settings.home_proxy_url.get_secret_value() if settings.home_proxy_url else None
        self._max_bytes = max_bytes
        self._clients: dict[bool, httpx.AsyncClient] = {}

    @property
    def disabled_reason(self) -> str | None:
        return None

    def _client(self, use_proxy: bool) -> httpx.AsyncClient:
        client = self._clients.get(use_proxy)
        if client is None:
            client = httpx.AsyncClient(
                http2=True,
                follow_redirects=True,
                max_redirects=10,
                headers=BROWSER_HEADERS,
                proxy=self._proxy_url if use_proxy else None,
                limits=httpx.Limits(max_connections=32, max_keepalive_connections=16),
            )
            self._clients[use_proxy] = client
        return client

    async def fetch(self, url: str, *, wait_ms: int = 0, wait_selector: str | None = None,
                    timeout_s: float | None = None, use_proxy: bool = False,
                    screenshot: bool = False) -> FetchResult:
        """GET the URL; the whole fetch (connect + body) is bounded by the timeout."""
        use_proxy = use_proxy and self._proxy_url is not None
        limit_s = timeout_s or self._timeout_s
        started = time.monotonic()
        try:
            return await asyncio.wait_for(self._get(url, limit_s, use_proxy, started), timeout=limit_s)
        except (TimeoutError, httpx.TimeoutException):
            return failed(self.name, url, FailureKind.TIMEOUT, f"no answer within {limit_s:g} s",
                          elapsed_ms=_ms_since(started), via_proxy=use_proxy)
        except httpx.TooManyRedirects:
            return failed(self.name, url, FailureKind.HTTP_ERROR, "too many redirects",
                          elapsed_ms=_ms_since(started), via_proxy=use_proxy)
        except (httpx.ConnectError, httpx.ReadError, httpx.WriteError, httpx.RemoteProtocolError,
                httpx.ProxyError, httpx.NetworkError) as exc:
            return failed(self.name, url, FailureKind.CONNECTION, _one_line(exc) or type(exc).__name__,
                          elapsed_ms=_ms_since(started), via_proxy=use_proxy)
        except httpx.HTTPError as exc:
            return failed(self.name, url, FailureKind.FETCHER_ERROR, _one_line(exc) or type(exc).__name__,
                          elapsed_ms=_ms_since(started), via_proxy=use_proxy)

    async def _get(self, url: str, limit_s: float, use_proxy: bool, started: float) -> FetchResult:
        timeout = httpx.Timeout(limit_s, connect=min(limit_s, 10.0))
        async with self._client(use_proxy).stream("GET", url, timeout=timeout) as response:
            common: dict[str, Any] = {"final_url": str(response.url), "status": response.status_code,
                                      "via_proxy": use_proxy}
            kind = failure_for_status(response.status_code)
            if kind is not None:
                return failed(self.name, url, kind, f"HTTP {response.status_code}",
                              elapsed_ms=_ms_since(started), **common)
            declared = int(response.headers.get("content-length") or 0)
            if declared > self._max_bytes:
                return failed(self.name, url, FailureKind.TOO_LARGE, _size_detail(declared, self._max_bytes),
                              elapsed_ms=_ms_since(started), **common)
            body = bytearray()
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) > self._max_bytes:
                    return failed(self.name, url, FailureKind.TOO_LARGE, _size_detail(len(body), self._max_bytes),
                                  elapsed_ms=_ms_since(started), **common)
            text = bytes(body).decode(response.charset_encoding or "utf-8", errors="replace")
        trouble = failure_for_content(text)
        if trouble is not None:
            shown = text if trouble[0] is FailureKind.BLOCKED else None  # the bot-check page itself: evidence
            return failed(self.name, url, trouble[0], trouble[1], elapsed_ms=_ms_since(started), html=shown, **common)
        return FetchResult(fetcher=self.name, url=url, html=text, elapsed_ms=_ms_since(started), **common)

    async def aclose(self) -> None:
        clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            await client.aclose()


def _ms_since(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


def _size_detail(size: int, limit: int) -> str:
    return f"page over the {limit / (1024 * 1024):g} MB limit (at least {size} bytes)"


def _one_line(exc: BaseException) -> str:
    """The exception text on one line, without any proxy credentials it might echo (redacted, then cut)."""
    return shorten(exc, 200)
