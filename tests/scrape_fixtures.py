"""Fixtures for scrape tests: the dealer farm, settings pointing at it, and functions running the
real job or one fetcher. Registered for every test by tests/conftest.py (`pytest_plugins`)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Sequence
from typing import Any

import pytest

from staktrakr.catalog import Target
from staktrakr.fetch.base import FetchResult
from staktrakr.jobs.scrape import ScrapeOptions, ScrapeResult, run_scrape
from staktrakr.settings import Settings
from staktrakr.store import Store
from tests.farm import Farm


@pytest.fixture
def farm() -> Iterator[Farm]:
    dealers = Farm()
    yield dealers
    dealers.stop()


@pytest.fixture
def farm_settings(make_settings, farm: Farm):
    """Settings with gaps 0, no backoff, the fake Firecrawl as FIRECRAWL_BASE_URL."""

    def _make(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "firecrawl_base_url": farm.firecrawl().url(""),
            "firecrawl_api_key": "fc-test-key",
            "scrape_backoff_s": 0,
            "fetch_timeout_s": 5,
        }
        values.update(overrides)
        return make_settings(**values)

    return _make


def scrape(settings: Settings, targets: Sequence[Target], **options: Any) -> ScrapeResult:
    """Run the real scrape job on its own store (opened and closed like the CLI does)."""
    with Store.open(settings) as store:
        return run_scrape(settings, store, targets, ScrapeOptions(**options))


def fetch(fetcher: Any, url: str, **options: Any) -> FetchResult:
    """One fetch of `url` on `fetcher` (any fetcher of staktrakr/fetch/; options as a target passes
    them: wait_ms, timeout_s, use_proxy...), then the fetcher closed, as a run closes it."""

    async def go() -> FetchResult:
        try:
            return await fetcher.fetch(url, **options)
        finally:
            await fetcher.aclose()
    return asyncio.run(go())


def rows(settings: Settings, sql: str, args: Sequence[Any] = ()) -> list[dict[str, Any]]:
    with Store.open(settings) as store:
        return store.db.query(sql, args)
