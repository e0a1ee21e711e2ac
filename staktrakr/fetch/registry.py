"""The one list of page fetchers: name -> fetcher class, with the capabilities each class declares.

Everything that names fetchers derives from `FETCHER_CLASSES`: the catalog's `fetchers` lists
(`FetcherName`), `scrape --fetcher`, the `source` of price rows and its way back (retry), and
`FetcherSet`, which opens a run's fetchers. Adding a fetcher means one module and one line here.
"""

from __future__ import annotations

from typing import Annotated, Protocol

from pydantic import AfterValidator

from staktrakr.fetch.base import Fetcher, FetcherCapabilities
from staktrakr.fetch.browser import BrowserFetcher
from staktrakr.fetch.firecrawl import FirecrawlFetcher
from staktrakr.fetch.http import HttpFetcher
from staktrakr.settings import Settings


class FetcherClass(Protocol):
    """A fetcher class as the registry holds it: its name, its capabilities, built from the settings."""

    name: str
    capabilities: FetcherCapabilities

    def __call__(self, settings: Settings) -> Fetcher: ...


FETCHER_CLASSES: dict[str, FetcherClass] = {
    fetcher.name: fetcher for fetcher in (HttpFetcher, BrowserFetcher, FirecrawlFetcher)
}
FETCHER_NAMES: tuple[str, ...] = tuple(FETCHER_CLASSES)

# The `source` a price row names for each fetcher, and back (retry rotates by the failed row's source).
SOURCE_OF_FETCHER: dict[str, str] = {name: cls.capabilities.source_label for name, cls in FETCHER_CLASSES.items()}
FETCHER_OF_SOURCE: dict[str, str] = {source: name for name, source in SOURCE_OF_FETCHER.items()}


def capabilities_of(name: str) -> FetcherCapabilities:
    """The capabilities a registered fetcher declares; KeyError for a name the registry does not hold."""
    return FETCHER_CLASSES[name].capabilities


def expected_fetchers() -> str:
    """The registered names as a validation message lists them: "'http', 'browser' or 'firecrawl'"."""
    quoted = [f"'{name}'" for name in FETCHER_NAMES]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " or " + quoted[-1]


def _registered(name: str) -> str:
    if name not in FETCHER_CLASSES:
        raise ValueError(f"Input should be {expected_fetchers()}")
    return name


# A fetcher name in the catalog (`vendors.*.fetchers`, `sources.*.fetchers`): one the registry holds.
FetcherName = Annotated[str, AfterValidator(_registered)]


class FetcherSet:
    """The run's fetchers, created on first use (the browser only launches if a vendor needs it)."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._fetchers: dict[str, Fetcher] = {}

    def get(self, name: str) -> Fetcher:
        """The run's one fetcher of that name; KeyError for a name the registry does not hold."""
        fetcher = self._fetchers.get(name)
        if fetcher is None:
            fetcher = FETCHER_CLASSES[name](self._settings)
            self._fetchers[name] = fetcher
        return fetcher

    async def aclose(self) -> None:
        fetchers, self._fetchers = list(self._fetchers.values()), {}
        for fetcher in fetchers:
            await fetcher.aclose()
