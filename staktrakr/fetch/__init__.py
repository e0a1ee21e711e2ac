"""Page fetchers (one module each) behind one contract (`base.py`), opened together for a run."""

from __future__ import annotations

from staktrakr.fetch.base import FailureKind, FetchResult, Fetcher
from staktrakr.fetch.browser import BrowserFetcher
from staktrakr.fetch.firecrawl import FirecrawlFetcher
from staktrakr.fetch.http import HttpFetcher
from staktrakr.settings import Settings

# The `source` a price row names for each fetcher (DESIGN.md section 4: "playwright" for the browser).
SOURCE_OF_FETCHER = {"http": "http", "browser": "playwright", "firecrawl": "firecrawl"}
FETCHER_OF_SOURCE = {source: name for name, source in SOURCE_OF_FETCHER.items()}


class FetcherSet:
    """The run's fetchers, created lazily (the browser only launches if a vendor needs it)."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._fetchers: dict[str, Fetcher] = {}

    def get(self, name: str) -> Fetcher:
        fetcher = self._fetchers.get(name)
        if fetcher is None:
            factory = {"http": HttpFetcher, "browser": BrowserFetcher, "firecrawl": FirecrawlFetcher}[name]
            fetcher = factory(self._settings)
            self._fetchers[name] = fetcher
        return fetcher

    async def aclose(self) -> None:
        fetchers, self._fetchers = list(self._fetchers.values()), {}
        for fetcher in fetchers:
            await fetcher.aclose()


__all__ = ["FailureKind", "FetchResult", "Fetcher", "FetcherSet", "HttpFetcher", "BrowserFetcher",
           "FirecrawlFetcher", "SOURCE_OF_FETCHER", "FETCHER_OF_SOURCE"]
