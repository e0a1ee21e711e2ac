"""Fetching pages: one module per fetcher behind one contract (`base.py`), listed once (`registry.py`),
the per-page walk over fetchers, URLs and the proxy (`walk.py`), and politeness (`politeness.py`)."""

from __future__ import annotations

from staktrakr.fetch.base import FailureKind, Fetcher, FetcherCapabilities, FetchResult
from staktrakr.fetch.browser import BrowserFetcher
from staktrakr.fetch.firecrawl import FirecrawlFetcher
from staktrakr.fetch.http import HttpFetcher
from staktrakr.fetch.registry import (
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
