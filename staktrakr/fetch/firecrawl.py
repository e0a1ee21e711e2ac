"""The Firecrawl fetcher: POST {FIRECRAWL_BASE_URL}/v1/scrape, markdown back (self-hosted or cloud).

Markdown keeps pricing tables that rendered text loses, and Firecrawl's browser gets past some
bot checks. Disabled (FailureKind.DISABLED) when FIRECRAWL_BASE_URL is unset. The API key goes
in the Authorization header only, never in a URL or a log line.
"""

from __future__ import annotations

import time
from typing import Any, ClassVar

import httpx

from staktrakr.fetch.base import (
    FailureKind,
    FetcherCapabilities,
    FetchResult,
    failed,
    failure_for_content,
    failure_for_status,
)
from staktrakr.log import shorten
from staktrakr.settings import Settings

# Firecrawl's own answers that mean "fix the configuration", not "the dealer blocked us".
CONFIG_STATUSES = frozenset({401, 402, 403, 404})


class FirecrawlFetcher:
    """Ask a Firecrawl server to scrape a page as markdown (main content only)."""

    name: ClassVar[str] = "firecrawl"
    # Firecrawl's servers fetch the page: HOME_PROXY_URL cannot apply, and its failures are its own route
    capabilities: ClassVar[FetcherCapabilities] = FetcherCapabilities(source_label="firecrawl", supports_proxy=False)

    def __init__(self, settings: Settings) -> None:
        self._base_url = settings.firecrawl_base_url
        self._api_key = settings.firecrawl_api_key.get_secret_value() if settings.firecrawl_api_key else None
        self._timeout_s = settings.fetch_timeout_s
        self._client: httpx.AsyncClient | None = None

    @property
    def disabled_reason(self) -> str | None:
        return None if self._base_url else "FIRECRAWL_BASE_URL is not set"

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            headers = {"Content-Type": "application/json"}
            if self._api_key:
                headers["Authorization"] = f"Bearer {self._api_key}"
            self._client = httpx.AsyncClient(headers=headers)
        return self._client

    async def fetch(self, url: str, *, wait_ms: int = 0, wait_selector: str | None = None,
                    timeout_s: float | None = None, use_proxy: bool = False,
                    screenshot: bool = False) -> FetchResult:
        """One scrape request; Firecrawl does its own egress, so `use_proxy` does not apply."""
        if self.disabled_reason:
            return failed(self.name, url, FailureKind.DISABLED, self.disabled_reason)
        limit_s = timeout_s or self._timeout_s
        payload = {"url": url, "formats": ["markdown"], "onlyMainContent": True, "waitFor": wait_ms,
                   "timeout": int(limit_s * 1000)}
        started = time.monotonic()
        try:
            response = await self._http().post(f"{self._base_url}/v1/scrape", json=payload,
                                               timeout=limit_s + wait_ms / 1000 + 5)
        except httpx.TimeoutException:
            return failed(self.name, url, FailureKind.TIMEOUT, f"firecrawl: no answer within {limit_s:g} s",
                          elapsed_ms=_ms_since(started))
        except httpx.HTTPError as exc:
            return failed(self.name, url, FailureKind.CONNECTION, f"firecrawl: {type(exc).__name__}",
                          elapsed_ms=_ms_since(started))
        return self._read_answer(url, response, started)

    def _read_answer(self, url: str, response: httpx.Response, started: float) -> FetchResult:
        elapsed = _ms_since(started)
        if response.status_code in CONFIG_STATUSES:
            hint = " (check FIRECRAWL_API_KEY)" if response.status_code in (401, 403) else ""
            return failed(self.name, url, FailureKind.FETCHER_ERROR,
                          f"firecrawl: HTTP {response.status_code}{hint}", elapsed_ms=elapsed)
        if response.status_code == 429 or response.status_code >= 500:
            return failed(self.name, url, FailureKind.SERVER_ERROR, f"firecrawl: HTTP {response.status_code}",
                          elapsed_ms=elapsed)
        try:
            answer: Any = response.json()
        except ValueError:
            answer = None
        if not isinstance(answer, dict):
            return failed(self.name, url, FailureKind.FETCHER_ERROR, "firecrawl: answer is not a JSON object",
                          elapsed_ms=elapsed)
        if not answer.get("success") or response.status_code >= 400:
            # a server that echoes the bad key must not put it in our rows and output: redact, then cut
            reason = shorten(answer.get("error") or f"HTTP {response.status_code}", 200,
                             [self._api_key] if self._api_key else [])
            return failed(self.name, url, FailureKind.FETCHER_ERROR, f"firecrawl: {reason}", elapsed_ms=elapsed)
        data: dict[str, Any] = answer["data"] if isinstance(answer.get("data"), dict) else {}
        metadata: dict[str, Any] = data["metadata"] if isinstance(data.get("metadata"), dict) else {}
        site_status = metadata.get("statusCode")
        site_status = site_status if isinstance(site_status, int) else None
        final_url = metadata.get("sourceURL") or metadata.get("url") or url
        common: dict[str, Any] = {"final_url": str(final_url), "status": site_status, "elapsed_ms": elapsed}
        kind = failure_for_status(site_status)
        if kind is not None:
            return failed(self.name, url, kind, f"HTTP {site_status}", **common)
        markdown = data.get("markdown") if isinstance(data.get("markdown"), str) else None
        html = data.get("html") if isinstance(data.get("html"), str) else None
        trouble = failure_for_content(markdown or html)
        if trouble is not None:
            return failed(self.name, url, trouble[0], trouble[1], **common)
        return FetchResult(fetcher=self.name, url=url, markdown=markdown, html=html, **common)

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None


def _ms_since(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
