"""The browser fetcher driving the real system Chromium against local pages."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from staktrakr.fetch.base import FailureKind
from staktrakr.fetch.browser import BrowserFetcher
from tests.farm import Page, page_text

pytestmark = pytest.mark.skipif(not Path("/usr/bin/chromium").exists(), reason="needs Debian chromium")


def run_fetches(settings, *calls):
    """Run fetches concurrently on ONE fetcher (one browser), like a scrape cycle does."""
    fetcher = BrowserFetcher(settings)

    async def go():
        try:
            return await asyncio.gather(*(fetcher.fetch(url, **options) for url, options in calls))
        finally:
            await fetcher.aclose()
    return asyncio.run(go())


def test_javascript_price_is_rendered_and_images_are_blocked(farm, farm_settings):
    host = farm.host("hero")
    page = page_text("js_rendered.html").replace("<main", '<img src="/photo.png"><main')
    url = host.add("/ase", page)
    host.add("/photo.png", Page(b"\x89PNG", content_type="image/png"))
    [result] = run_fetches(farm_settings(), (url, {"wait_selector": ".product-price .price", "wait_ms": 5000}))
    assert result.ok and result.fetcher == "browser" and result.status == 200
    assert "Price: $81.20" in result.html
    assert host.hits["/photo.png"] == 0


def test_fixed_wait_without_selector(farm, farm_settings):
    host = farm.host("hero")
    url = host.add("/ase", page_text("js_rendered.html"))                    # renders the price after 0.3 s
    # the unwaited read must not race the script on a loaded machine: there it renders after 2 s
    late = host.add("/late", page_text("js_rendered.html").replace("}, 300);", "}, 2000);"))
    [waited, not_waited] = run_fetches(farm_settings(), (url, {"wait_ms": 1500}), (late, {}))
    assert '<span class="loading">' not in waited.html      # the script replaced the placeholder
    assert '<span class="loading">' in not_waited.html


@pytest.mark.parametrize(("status", "kind"), [(403, FailureKind.BLOCKED), (404, FailureKind.NOT_FOUND)])
def test_status_codes(farm, farm_settings, status, kind):
    url = farm.host("d").add("/x", Page("<html><body>no</body></html>", status=status))
    [result] = run_fetches(farm_settings(), (url, {}))
    assert (result.failure, result.detail) == (kind, f"HTTP {status}")


def test_page_pool_is_bounded(farm, farm_settings):
    host = farm.host("slow")
    urls = [host.add(f"/p{n}", Page(page_text("shopify.html"), delay_s=0.4)) for n in range(5)]
    results = run_fetches(farm_settings(browser_pages=2), *((url, {}) for url in urls))
    assert all(result.ok for result in results)
    assert host.max_in_flight <= 2


def test_timeout(farm, farm_settings):
    url = farm.host("d").add("/slow", Page("<html>late</html>", delay_s=4))
    [result] = run_fetches(farm_settings(), (url, {"timeout_s": 1}))
    assert result.failure == FailureKind.TIMEOUT


def test_missing_chromium_is_a_clear_fetcher_error(farm, farm_settings, tmp_path):
    url = farm.host("d").add("/x", page_text("shopify.html"))
    [result] = run_fetches(farm_settings(chromium_path=tmp_path / "no-chromium"), (url, {}))
    assert result.failure == FailureKind.FETCHER_ERROR
    assert result.detail == f"chromium not found at {tmp_path / 'no-chromium'} (install chromium or set CHROMIUM_PATH)"
