"""The browser fetcher: Playwright driving the system Chromium, for pages whose price needs JavaScript.

One browser per run (launched on first use, so runs that never need it never start it), a
bounded pool of pages (BROWSER_PAGES, default 2), images/fonts/media blocked, and a per-vendor
wait (selector or fixed milliseconds) for the price to render. Never downloads a browser:
Chromium comes from CHROMIUM_PATH (Debian's /usr/bin/chromium).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import shutil
import subprocess
import time
from html import escape
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import urlsplit

from staktrakr.fetch.base import (
    FailureKind,
    FetcherCapabilities,
    FetchResult,
    failed,
    failure_for_content,
    failure_for_status,
)
from staktrakr.fetch.http import BROWSER_HEADERS
from staktrakr.log import shorten
from staktrakr.settings import Settings

log = logging.getLogger(__name__)

LAUNCH_ARGS = [
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
]


def _read_proc(path: str) -> str | None:
    try:
        with open(path, encoding="ascii") as handle:
            return handle.read().strip()
    except OSError:
        return None


@functools.cache
def sandbox_available() -> bool:
    """Whether Chromium's namespace sandbox can start here: not as root (Chromium refuses it), and
    this process may create a user namespace and chroot in it (what the sandbox does; see Chromium's
    docs/linux/sandboxing.md). Probed once with util-linux `unshare`, which also catches a seccomp
    filter or a systemd unit that forbids it; without `unshare`, the kernel's switches decide
    (`kernel.unprivileged_userns_clone`, `user.max_user_namespaces`, Ubuntu's AppArmor restriction)."""
    if os.geteuid() == 0:
        return False
    unshare = shutil.which("unshare")
    if unshare:
        try:
            probe = subprocess.run([unshare, "--user", "--map-root-user", "chroot", "/", "true"],
                                   capture_output=True, timeout=10, check=False)
        except (OSError, subprocess.TimeoutExpired):
            return False
        return probe.returncode == 0
    if _read_proc("/proc/sys/kernel/unprivileged_userns_clone") == "0":
        return False
    if _read_proc("/proc/sys/user/max_user_namespaces") == "0":
        return False
    return _read_proc("/proc/sys/kernel/apparmor_restrict_unprivileged_userns") != "1"


def launch_args() -> list[str]:
    """Chromium's flags: the sandbox stays on where the kernel allows it, `--no-sandbox` elsewhere."""
    return LAUNCH_ARGS if sandbox_available() else ["--no-sandbox", *LAUNCH_ARGS]


BLOCKED_RESOURCES = frozenset({"image", "font", "media"})
# The vision cross-check reads a screenshot of the first screen at this size (the old system's).
SCREENSHOT_VIEWPORT = {"width": 1280, "height": 900}
SCREENSHOT_MIME_TYPE = "image/jpeg"   # JPEG: encoded in half the time of PNG, text stays legible at 85
SCREENSHOT_JPEG_QUALITY = 85


class BrowserFetcher:
    """Render a page in Chromium and return its HTML after the vendor's wait."""

    name: ClassVar[str] = "browser"
    # DESIGN.md section 4 names the browser's rows "playwright"
    capabilities: ClassVar[FetcherCapabilities] = FetcherCapabilities(source_label="playwright", supports_proxy=True,
                                                                      screenshots=True)

    def __init__(self, settings: Settings) -> None:
        self._chromium_path = settings.chromium_path
        self._timeout_s = settings.fetch_timeout_s
        self._proxy_url = settings.home_proxy_url.get_secret_value() if settings.home_proxy_url else None
        self._pages = asyncio.Semaphore(settings.browser_pages)
        self._start_lock = asyncio.Lock()
        self._playwright: Any = None
        self._browser: Any = None
        self._contexts: dict[bool, Any] = {}
        self._launch_error: str | None = None
        self._render_page: Any = None          # screenshot_html's own page (beside the BROWSER_PAGES pool)
        self._render_lock = asyncio.Lock()

    @property
    def disabled_reason(self) -> str | None:
        return None  # a missing chromium is a fetcher_error on the first fetch, with the path to fix

    async def _context(self, use_proxy: bool) -> Any:
        """The shared browser (launched once) and one context per egress."""
        async with self._start_lock:
            if self._launch_error:
                raise _LaunchFailed(self._launch_error)
            if self._browser is None:
                await self._launch()
            context = self._contexts.get(use_proxy)
            if context is None:
                options: dict[str, Any] = {
                    "user_agent": BROWSER_HEADERS["User-Agent"],
                    "locale": "en-US",
                    "viewport": {"width": 1366, "height": 900},
                    "java_script_enabled": True,
                }
                if use_proxy and self._proxy_url:
                    options["proxy"] = _playwright_proxy(self._proxy_url)
                context = await self._browser.new_context(**options)
                await context.route("**/*", _block_heavy_resources)
                self._contexts[use_proxy] = context
            return context

    async def _launch(self) -> None:
        if not self._chromium_path.exists():
            self._launch_error = f"chromium not found at {self._chromium_path} (install chromium or set CHROMIUM_PATH)"
            raise _LaunchFailed(self._launch_error)
        try:
            from playwright.async_api import async_playwright

            self._playwright = await async_playwright().start()
            self._browser = await self._playwright.chromium.launch(
                executable_path=str(self._chromium_path), headless=True, args=launch_args(),
            )
        except Exception as exc:  # Playwright raises its own Error and OS errors alike
            self._launch_error = f"chromium failed to start: {shorten(exc, 200)}"
            await self._stop_playwright()
            raise _LaunchFailed(self._launch_error) from exc

    async def fetch(self, url: str, *, wait_ms: int = 0, wait_selector: str | None = None,
                    timeout_s: float | None = None, use_proxy: bool = False,
                    screenshot_to: Path | None = None, screenshot: bool = False) -> FetchResult:
        """Open the URL in a pooled page, wait for the price to render, return the page's HTML (and, with
        `screenshot_to`, save a full-page PNG there: what the operator's diagnosis shows; with
        `screenshot`, also a JPEG of the first 1280x900 screen taken from that same page before it
        closes, for the vision cross-check: None when taking it failed, the page itself is still read)."""
        use_proxy = use_proxy and self._proxy_url is not None
        limit_s = timeout_s or self._timeout_s
        started = time.monotonic()
        try:
            context = await self._context(use_proxy)
        except _LaunchFailed as exc:
            return failed(self.name, url, FailureKind.FETCHER_ERROR, str(exc), via_proxy=use_proxy)
        async with self._pages:
            page = await context.new_page()
            try:
                return await asyncio.wait_for(
                    self._render(page, url, limit_s, wait_ms, wait_selector, use_proxy, started, screenshot_to,
                                 screenshot),
                    timeout=limit_s + wait_ms / 1000 + 5,
                )
            except TimeoutError:
                return failed(self.name, url, FailureKind.TIMEOUT, f"no page within {limit_s:g} s",
                              elapsed_ms=_ms_since(started), via_proxy=use_proxy)
            except Exception as exc:
                return _failure_from_error(self.name, url, exc, limit_s, started, use_proxy)
            finally:
                try:
                    await page.close()
                except Exception:
                    pass

    async def screenshot_html(self, html: str, url: str, timeout_s: float = 15.0) -> bytes | None:
        """A screenshot (JPEG, first 1280x900 screen) of a page another fetcher read: its HTML laid out
        at its own URL (`<base>`) with the vendor's stylesheets and nothing else loaded, so the vendor
        sees no second page request. One page of its own, reused, renders these one at a time. None
        when Chromium cannot render it."""
        async with self._render_lock:
            try:
                page = await self._renderer()
                await asyncio.wait_for(page.set_content(_with_base(html, url), wait_until="load",
                                                        timeout=timeout_s * 1000), timeout=timeout_s + 5)
                return await _screenshot(page, url, resize=False)
            except Exception as exc:  # a screenshot is extra: never fail the cycle for it
                log.info("browser: no screenshot of %s (%s)", url, shorten(exc, 200))
                await self._drop_renderer()
                return None

    async def _renderer(self) -> Any:
        """The page screenshot_html lays HTML out in (stylesheets only, the screenshot viewport)."""
        if self._render_page is None:
            context = await self._context(False)
            page = await context.new_page()
            await page.route("**/*", _stylesheets_only)
            await page.set_viewport_size(SCREENSHOT_VIEWPORT)
            self._render_page = page
        return self._render_page

    async def _drop_renderer(self) -> None:
        page, self._render_page = self._render_page, None
        if page is not None:
            try:
                await page.close()
            except Exception:
                pass

    async def _render(self, page: Any, url: str, limit_s: float, wait_ms: int, wait_selector: str | None,
                      use_proxy: bool, started: float, screenshot_to: Path | None = None,
                      screenshot: bool = False) -> FetchResult:
        response = await page.goto(url, wait_until="domcontentloaded", timeout=limit_s * 1000)
        status = response.status if response is not None else None
        common = {"final_url": page.url, "status": status, "via_proxy": use_proxy}
        kind = failure_for_status(status)
        if kind is not None:
            return failed(self.name, url, kind, f"HTTP {status}", elapsed_ms=_ms_since(started), **common)
        if wait_selector:
            try:
                await page.wait_for_selector(wait_selector, state="attached", timeout=wait_ms or limit_s * 1000)
            except Exception:
                log.info("browser: %s did not show %r in time; reading the page as it is", url, wait_selector)
        elif wait_ms:
            await page.wait_for_timeout(wait_ms)
        html = await page.content()
        if screenshot_to is not None:
            try:
                await page.screenshot(path=str(screenshot_to), full_page=True)
            except Exception as exc:  # a screenshot is a bonus: its failure never fails the fetch
                log.info("browser: no screenshot of %s: %s", url, shorten(exc, 200))
        trouble = failure_for_content(_visible_text_hint(html))
        if trouble is not None:
            shown = html if trouble[0] is FailureKind.BLOCKED else None  # the bot-check page itself: evidence
            return failed(self.name, url, trouble[0], trouble[1], elapsed_ms=_ms_since(started), html=shown, **common)
        image = await _screenshot(page, url) if screenshot else None
        return FetchResult(fetcher=self.name, url=url, html=html, elapsed_ms=_ms_since(started), screenshot=image,
                           **common)

    async def aclose(self) -> None:
        await self._drop_renderer()
        for context in list(self._contexts.values()):
            try:
                await context.close()
            except Exception:
                pass
        self._contexts = {}
        if self._browser is not None:
            try:
                await self._browser.close()
            except Exception:
                pass
            self._browser = None
        await self._stop_playwright()

    async def _stop_playwright(self) -> None:
        if self._playwright is not None:
            try:
                await self._playwright.stop()
            except Exception:
                pass
            self._playwright = None


class _LaunchFailed(Exception):
    pass


async def _screenshot(page: Any, url: str, resize: bool = True) -> bytes | None:
    """The first screen (SCREENSHOT_VIEWPORT) of the open page as JPEG; None when Chromium cannot take it."""
    try:
        if resize:
            await page.set_viewport_size(SCREENSHOT_VIEWPORT)
        image: bytes = await page.screenshot(type="jpeg", quality=SCREENSHOT_JPEG_QUALITY, full_page=False,
                                             timeout=10_000)
        return image
    except Exception as exc:  # a screenshot is extra: never fail the page for it
        log.info("browser: no screenshot of %s (%s)", url, shorten(exc, 200))
        return None


async def _block_heavy_resources(route: Any) -> None:
    if route.request.resource_type in BLOCKED_RESOURCES:
        await route.abort()
    else:
        await route.continue_()


async def _stylesheets_only(route: Any) -> None:
    if route.request.resource_type == "stylesheet":
        await route.continue_()
    else:
        await route.abort()


def _with_base(html: str, url: str) -> str:
    """The HTML with `<base href=url>` first in its head, so relative stylesheet links resolve."""
    base = f'<base href="{escape(url, quote=True)}">'
    lowered = html[:4000].lower()
    at = lowered.find("<head")
    if at >= 0:
        end = html.find(">", at)
        if end >= 0:
            return html[: end + 1] + base + html[end + 1:]
    return base + html


def _playwright_proxy(proxy_url: str) -> dict[str, str]:
    """Playwright wants credentials apart from the server address."""
    parts = urlsplit(proxy_url)
    server = f"{parts.scheme}://{parts.hostname}" + (f":{parts.port}" if parts.port else "")
    proxy = {"server": server}
    if parts.username:
        proxy["username"] = parts.username
        proxy["password"] = parts.password or ""
    return proxy


def _visible_text_hint(html: str) -> str | None:
    """An empty document renders as `<html><head></head><body></body></html>`: treat it as empty."""
    stripped = html.replace("<html>", "").replace("</html>", "").replace("<head></head>", "")
    stripped = stripped.replace("<body>", "").replace("</body>", "").strip()
    return html if stripped else None


def _failure_from_error(fetcher: str, url: str, exc: Exception, limit_s: float, started: float,
                        use_proxy: bool) -> FetchResult:
    text = " ".join(str(exc).split())
    name = type(exc).__name__
    if name == "TimeoutError" or "Timeout" in text[:80]:
        kind, detail = FailureKind.TIMEOUT, f"no page within {limit_s:g} s"
    elif "net::ERR_" in text:
        code = text[text.index("net::ERR_"):].split()[0]
        kind = FailureKind.TIMEOUT if "TIMED_OUT" in code else FailureKind.CONNECTION
        detail = code
    else:
        kind, detail = FailureKind.FETCHER_ERROR, f"{name}: {shorten(text, 200)}"
    return failed(fetcher, url, kind, detail, elapsed_ms=_ms_since(started), via_proxy=use_proxy)


def _ms_since(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
