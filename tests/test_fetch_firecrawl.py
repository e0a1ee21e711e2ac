"""The Firecrawl fetcher against an HTTP-level fake answering Firecrawl's documented shapes; an error
text echoing the key never carries it on."""

from __future__ import annotations

import asyncio

from staktrakr.fetch.base import FailureKind
from staktrakr.fetch.firecrawl import FirecrawlFetcher
from tests import scrape_fixtures
from tests.farm import page_text

DEALER = "https://www.apmex.example/product/ase"


def fetch(settings, url=DEALER, **options):
    return scrape_fixtures.fetch(FirecrawlFetcher(settings), url, **options)


def test_markdown_and_metadata_come_back(farm, farm_settings):
    fake = farm.firecrawl()
    fake.scrape_page(DEALER, page_text("tier_grid.md"))
    result = fetch(farm_settings(), wait_ms=6000, timeout_s=20)
    assert result.ok and result.fetcher == "firecrawl"
    assert result.markdown.startswith("# 2026 1 oz American Silver Eagle")
    assert (result.status, result.final_url) == (200, DEALER)
    assert fake.requests == [{"url": DEALER, "formats": ["markdown"], "onlyMainContent": True, "waitFor": 6000,
                              "timeout": 20000}]
    assert fake.auth_headers == ["Bearer fc-test-key"]


def test_no_key_sends_no_authorization(farm, farm_settings):
    fake = farm.firecrawl()
    fake.scrape_page(DEALER, page_text("tier_grid.md"))
    assert fetch(farm_settings(firecrawl_api_key=None)).ok
    assert fake.auth_headers == [None]


def test_disabled_without_base_url(farm_settings):
    result = fetch(farm_settings(firecrawl_base_url=None))
    assert (result.failure, result.detail) == (FailureKind.DISABLED, "FIRECRAWL_BASE_URL is not set")


def test_dealer_status_in_metadata(farm, farm_settings):
    fake = farm.firecrawl()
    fake.scrape_page(DEALER, "Access denied", status_code=403)
    assert (fetch(farm_settings()).failure, fetch(farm_settings()).detail) == (FailureKind.BLOCKED, "HTTP 403")
    assert fetch(farm_settings(), url=DEALER + "/missing").failure == FailureKind.NOT_FOUND


def test_unsuccessful_answer(farm, farm_settings):
    farm.firecrawl().forced_answer = (200, {"success": False, "error": "Failed to scrape URL."})
    result = fetch(farm_settings())
    assert (result.failure, result.detail) == (FailureKind.FETCHER_ERROR, "firecrawl: Failed to scrape URL.")


def test_bad_key_and_server_errors(farm, farm_settings):
    fake = farm.firecrawl()
    fake.forced_answer = (401, {"success": False, "error": "Unauthorized"})
    result = fetch(farm_settings())
    assert (result.failure, result.detail) == (FailureKind.FETCHER_ERROR, "firecrawl: HTTP 401 (check FIRECRAWL_API_KEY)")
    assert "fc-test-key" not in result.model_dump_json()
    fake.forced_answer = (502, {"success": False, "error": "Bad gateway"})
    assert fetch(farm_settings()).failure == FailureKind.SERVER_ERROR
    fake.forced_answer = (200, ["not", "an", "object"])
    assert fetch(farm_settings()).failure == FailureKind.FETCHER_ERROR


def test_firecrawl_error_echoing_the_key_is_redacted(farm, farm_settings):
    farm.firecrawl().forced_answer = (200, {"success": False, "error": "Invalid token: Bearer fc-test-key"})
    fetcher = FirecrawlFetcher(farm_settings())

    async def go():
        try:
            return await fetcher.fetch(DEALER)
        finally:
            await fetcher.aclose()

    result = asyncio.run(go())
    assert not result.ok and "Invalid token" in result.detail
    assert "fc-test-key" not in result.model_dump_json()


def test_empty_markdown_is_an_empty_page(farm, farm_settings):
    farm.firecrawl().scrape_page(DEALER, "")
    assert fetch(farm_settings()).failure == FailureKind.EMPTY_PAGE
