"""Fetching pages: one module per fetcher behind one contract (`base.py`), listed once (`registry.py`),
the per-page walk over fetchers, URLs and the proxy (`walk.py`), and politeness (`politeness.py`)."""

from __future__ import annotations

from staktrakr import deferred

# The fetchers use httpx only when they fetch; the catalog (publish, status) imports this package
# for the fetcher names alone and never pays for httpx (staktrakr/deferred.py).
deferred.defer("httpx")

from staktrakr.fetch.base import FailureKind, Fetcher, FetcherCapabilities, FetchResult  # noqa: E402
from staktrakr.fetch.browser import BrowserFetcher  # noqa: E402
from staktrakr.fetch.firecrawl import FirecrawlFetcher  # noqa: E402
from staktrakr.fetch.http import HttpFetcher  # noqa: E402
from staktrakr.fetch.registry import (  # noqa: E402
                                      FETCHER_CLASSES,
                                      FETCHER_NAMES,
                                      FETCHER_OF_SOURCE,
                                      SOURCE_OF_FETCHER,
                                      FetcherName,
                                      FetcherSet,
                                      capabilities_of,
)

__all__ = [
                                      "FETCHER_CLASSES",
                                      "FETCHER_NAMES",
                                      "FETCHER_OF_SOURCE",
                                      "SOURCE_OF_FETCHER",
                                      "BrowserFetcher",
                                      "FailureKind",
                                      "FetchResult",
                                      "Fetcher",
                                      "FetcherCapabilities",
                                      "FetcherName",
                                      "FetcherSet",
                                      "FirecrawlFetcher",
                                      "HttpFetcher",
                                      "capabilities_of",
]
