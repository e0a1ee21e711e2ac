"""The fetcher contract: every fetcher returns one immutable FetchResult, never raises for page trouble.

Failure kinds are typed (`FailureKind`) and shown verbatim in the scrape table and in
`provider_failures.error`. Transient kinds are retried with backoff; blocked/not_found are not.
"""

from __future__ import annotations

from enum import Enum
from typing import ClassVar, Protocol

from pydantic import BaseModel, ConfigDict


class FailureKind(str, Enum):
    TIMEOUT = "timeout"
    CONNECTION = "connection"          # refused, reset, DNS
    SERVER_ERROR = "server_error"      # 5xx
    BLOCKED = "blocked"                # 401/403/429 or a bot-check page
    NOT_FOUND = "not_found"            # 404/410
    HTTP_ERROR = "http_error"          # any other non-2xx
    EMPTY_PAGE = "empty_page"
    TOO_LARGE = "too_large"
    DISABLED = "disabled"              # fetcher not configured (e.g. no FIRECRAWL_BASE_URL)
    FETCHER_ERROR = "fetcher_error"    # the fetcher itself failed (browser crash, bad API answer)
    VENDOR_UNREACHABLE = "vendor_unreachable"  # not tried: the vendor failed at connection level N times in a row

    @property
    def transient(self) -> bool:
        return self in (FailureKind.TIMEOUT, FailureKind.CONNECTION, FailureKind.SERVER_ERROR)

    @property
    def connection_level(self) -> bool:
        """The vendor could not be reached at all (DNS, refused, reset, TLS, timeout): what trips
        the per-vendor circuit breaker (fetch/politeness.py)."""
        return self in (FailureKind.TIMEOUT, FailureKind.CONNECTION)


class FetchResult(BaseModel):
    """What one fetch of one URL produced: content (html and/or markdown) or a failure kind."""

    model_config = ConfigDict(frozen=True)

    fetcher: str                      # the fetcher's name in fetch/registry.py
    url: str                          # requested URL
    final_url: str | None = None      # after redirects
    status: int | None = None         # HTTP status when known
    html: str | None = None
    markdown: str | None = None
    elapsed_ms: int = 0
    via_proxy: bool = False
    failure: FailureKind | None = None
    detail: str | None = None         # one line: why (no secrets)
    screenshot: bytes | None = None   # JPEG of the rendered page, when asked for and the fetcher can take one

    @property
    def ok(self) -> bool:
        return self.failure is None


class FetcherCapabilities(BaseModel):
    """What a fetcher can do, declared on its class: the walk (fetch/walk.py) reads `supports_proxy`,
    price rows name the fetcher by `source_label`."""

    model_config = ConfigDict(frozen=True)

    source_label: str      # the `source` a price row names when this fetcher read the page (DESIGN.md section 4)
    supports_proxy: bool   # its requests can go out through HOME_PROXY_URL; False: it has its own egress
                           # (Firecrawl's servers), which is also its own circuit-breaker route
    screenshots: bool = False  # `fetch(screenshot=True)` gives a JPEG of the page it rendered (vision cross-check);
                               # the browser's `fetch(..., screenshot_to=path)` also saves a PNG (diagnose)


class Fetcher(Protocol):
    """A page fetcher. Implementations live one per module (http.py, browser.py, firecrawl.py) and are
    listed once, in fetch/registry.py."""

    name: ClassVar[str]
    capabilities: ClassVar[FetcherCapabilities]

    @property
    def disabled_reason(self) -> str | None:
        """Why this fetcher cannot run with the current settings (one line, e.g. "FIRECRAWL_BASE_URL is
        not set"), or None. A disabled fetcher is skipped without a request, a gap or a retry."""

    async def fetch(self, url: str, *, wait_ms: int = 0, wait_selector: str | None = None,
                    timeout_s: float | None = None, use_proxy: bool = False,
                    screenshot: bool = False) -> FetchResult:
        """Fetch the URL; `screenshot` asks for `FetchResult.screenshot` (ignored unless
        `capabilities.screenshots`)."""

    async def aclose(self) -> None: ...


# Shared classification, so every fetcher names the same trouble the same way. ---------------

BLOCKED_STATUSES = frozenset({401, 403, 429})
NOT_FOUND_STATUSES = frozenset({404, 410})
BOT_CHECK_MARKERS = (
    "just a moment...",
    "attention required! | cloudflare",
    "cf-browser-verification",
    "verify you are human",
    "are you a robot",
    "px-captcha",
    "access to this page has been denied",
)
MAX_PAGE_BYTES = 8 * 1024 * 1024


def failure_for_status(status: int | None) -> FailureKind | None:
    """The failure kind an HTTP status means for a product page (None for 2xx/3xx or unknown)."""
    if status is None or status < 400:
        return None
    if status in BLOCKED_STATUSES:
        return FailureKind.BLOCKED
    if status in NOT_FOUND_STATUSES:
        return FailureKind.NOT_FOUND
    if status >= 500:
        return FailureKind.SERVER_ERROR
    return FailureKind.HTTP_ERROR


def failure_for_content(text: str | None) -> tuple[FailureKind, str] | None:
    """An empty body or a bot-check interstitial is a failure even with HTTP 200."""
    if text is None or not text.strip():
        return FailureKind.EMPTY_PAGE, "empty page"
    if len(text) > 64_000:          # interstitials are small; a real product page is not one
        return None
    head = text[:20_000].lower()
    for marker in BOT_CHECK_MARKERS:
        if marker in head:
            return FailureKind.BLOCKED, f"bot check page ({marker!r})"
    return None


def failed(fetcher: str, url: str, kind: FailureKind, detail: str, **fields: object) -> FetchResult:
    """A FetchResult for a failure (one line of detail, no secrets)."""
    return FetchResult(fetcher=fetcher, url=url, failure=kind, detail=detail, **fields)  # type: ignore[arg-type]
