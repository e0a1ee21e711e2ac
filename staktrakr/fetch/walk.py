"""The walk over one page's URLs, fetchers and egress: the one fetch engine of scrape, retry and goldback.

For each URL in turn, each fetcher in the page's order (DESIGN.md section 6): fetch through the
vendor's lane (politeness.py: one request in flight, gaps, transient retries, a circuit breaker per
route), then, after a proxy-worthy failure, the same request once more through HOME_PROXY_URL when
the rules allow a fallback and the fetcher can use a proxy (`supports_proxy`); a page that came
back goes to the caller's reader. The walk ends at the first page the reader accepts, or at one it
refuses on principle (`settled`: another rendering of that page must not overrule it). Every fetch
is a `Step`, so a failure can say exactly what each fetcher saw.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Generic, TypeVar

from staktrakr.fetch.base import FailureKind, FetcherCapabilities, FetchResult, failed
from staktrakr.fetch.politeness import Politeness, VendorLane, fetch_with_retries
from staktrakr.fetch.registry import FetcherSet
from staktrakr.settings import Settings

if TYPE_CHECKING:
    from staktrakr.catalog.model import VendorRules

R = TypeVar("R")

# Failures after which the same request is worth one more try through the home proxy.
PROXY_WORTHY = frozenset({FailureKind.BLOCKED, FailureKind.CONNECTION, FailureKind.VENDOR_UNREACHABLE})


@dataclass(frozen=True)
class PageVerdict(Generic[R]):
    """What the caller's reader made of one fetched page: its reading, and whether the walk ends."""

    reading: R
    accepted: bool              # the page gave what the caller wants: the walk ends here
    settled: bool = False       # read and refused on principle: the walk ends without an answer


PageReader = Callable[[FetchResult], Awaitable[PageVerdict[R]]]


@dataclass(frozen=True)
class Step(Generic[R]):
    """One fetch (after its transient retries) and, when a page came back, the reader's verdict."""

    page: FetchResult
    verdict: PageVerdict[R] | None = None
    proxy_next: bool = False    # a proxy-worthy failure: the same request follows through HOME_PROXY_URL


@dataclass(frozen=True)
class Walk(Generic[R]):
    """Every step of one walk, in order; `answer` is the page the reader accepted, with its reading."""

    steps: tuple[Step[R], ...]

    @property
    def answer(self) -> tuple[FetchResult, R] | None:
        last = self.steps[-1] if self.steps else None
        if last is None or last.verdict is None or not last.verdict.accepted:
            return None
        return last.page, last.verdict.reading


def route_for(name: str, capabilities: FetcherCapabilities, via_proxy: bool) -> str:
    """The circuit breaker's key for a fetch: the egress its requests leave through ("direct",
    "proxy", or the fetcher's own servers, named after it)."""
    if not capabilities.supports_proxy:
        return name
    return "proxy" if via_proxy else "direct"


class FetchRun:
    """What every walk of one job run shares: the run's fetchers (opened on first use), the
    politeness from the settings and whether HOME_PROXY_URL is set. Close it with `aclose()`."""

    def __init__(self, settings: Settings) -> None:
        self.fetchers = FetcherSet(settings)
        self.politeness = Politeness.from_settings(settings)
        self.proxy_configured = settings.home_proxy_url is not None

    def lane(self, rng: random.Random | None = None) -> VendorLane:
        """A lane for a vendor walked on its own (a cycle's lanes come from `run_per_vendor`)."""
        return VendorLane(self.politeness, rng or random.Random())

    async def walk(self, urls: Sequence[str], rules: VendorRules, lane: VendorLane, read: PageReader[R],
                   order: Sequence[str] | None = None, screenshot: bool = False) -> Walk[R]:
        """Walk the URLs x fetchers (`order`, default `rules.fetchers`) until `read` accepts a page or
        settles it; `screenshot` asks fetchers that can (the browser) for a JPEG of each page they
        render. Never raises for page trouble: every failure is a step."""
        steps: list[Step[R]] = []
        for url in urls:
            for name in order if order is not None else rules.fetchers:
                page = await self._fetch(name, url, rules, lane, steps, screenshot)
                if not page.ok:
                    steps.append(Step(page))
                    continue
                verdict = await read(page)
                steps.append(Step(page, verdict))
                if verdict.accepted or verdict.settled:
                    return Walk(tuple(steps))
        return Walk(tuple(steps))

    async def render_screenshot(self, page: FetchResult) -> bytes | None:
        """A browser screenshot of a page another fetcher read, from its HTML (no request for the page
        itself); None without HTML or when the browser cannot take one."""
        render = getattr(self.fetchers.get("browser"), "screenshot_html", None)
        if render is None or not page.html:
            return None
        image: bytes | None = await render(page.html, page.final_url or page.url)
        return image

    async def screenshot(self, url: str, rules: VendorRules, lane: VendorLane) -> FetchResult:
        """The browser's rendering of one page with its screenshot (for a page another fetcher read),
        through the vendor's lane like any request to the vendor."""
        return await self._fetch("browser", url, rules, lane, [], screenshot=True)

    async def _fetch(self, name: str, url: str, rules: VendorRules, lane: VendorLane,
                     steps: list[Step[R]], screenshot: bool = False) -> FetchResult:
        """One fetcher on one URL: direct (or through the proxy when the rules say always), then the
        proxy fallback. A disabled fetcher answers at once, without the lane."""
        fetcher = self.fetchers.get(name)
        why_disabled = fetcher.disabled_reason
        if why_disabled is not None:
            return failed(name, url, FailureKind.DISABLED, why_disabled)
        proxy_usable = self.proxy_configured and fetcher.capabilities.supports_proxy

        async def fetch_once(use_proxy: bool) -> FetchResult:
            return await fetcher.fetch(url, wait_ms=rules.wait_ms, wait_selector=rules.wait_selector,
                                       timeout_s=rules.timeout_s, use_proxy=use_proxy,
                                       screenshot=screenshot and fetcher.capabilities.screenshots)

        via_proxy = rules.proxy == "always" and proxy_usable
        page = await fetch_with_retries(lane, self.politeness, lambda: fetch_once(via_proxy),
                                        route=route_for(name, fetcher.capabilities, via_proxy), fetcher=name, url=url)
        if not page.ok and page.failure in PROXY_WORTHY and rules.proxy == "fallback" and proxy_usable:
            steps.append(Step(page, proxy_next=True))
            page = await fetch_with_retries(lane, self.politeness, lambda: fetch_once(True),
                                            route=route_for(name, fetcher.capabilities, True), fetcher=name, url=url)
        return page

    async def aclose(self) -> None:
        await self.fetchers.aclose()
