"""The http fetcher against real local servers: statuses, redirects, size cap, timeouts, bot checks, proxy."""

from __future__ import annotations

import pytest

from staktrakr.fetch.base import FailureKind
from staktrakr.fetch.http import HttpFetcher
from tests.conftest import free_port
from tests.farm import Page, page_text
from tests.scrape_fixtures import fetch


def test_page_with_redirect_gives_html_and_final_url(farm, farm_settings):
    host = farm.host("dealer")
    final = host.add("/product/ase", page_text("jsonld_instock.html"))
    start = host.add("/ase", Page("", status=301, headers={"Location": "/product/ase"}))
    result = fetch(HttpFetcher(farm_settings()), start)
    assert result.ok and result.failure is None
    assert (result.status, result.final_url, result.url, result.fetcher) == (200, final, start, "http")
    assert '"price": "79.10"' in result.html


@pytest.mark.parametrize(("status", "kind"), [(401, FailureKind.BLOCKED), (403, FailureKind.BLOCKED),
                                              (429, FailureKind.BLOCKED), (404, FailureKind.NOT_FOUND),
                                              (410, FailureKind.NOT_FOUND), (500, FailureKind.SERVER_ERROR),
                                              (418, FailureKind.HTTP_ERROR)])
def test_status_codes_map_to_failure_kinds(farm, farm_settings, status, kind):
    url = farm.host("dealer").add("/x", Page("<html>no</html>", status=status))
    result = fetch(HttpFetcher(farm_settings()), url)
    assert (result.failure, result.detail, result.status) == (kind, f"HTTP {status}", status)
    assert result.failure.transient is (kind == FailureKind.SERVER_ERROR)


def test_page_over_the_size_cap_is_too_large(farm, farm_settings):
    url = farm.host("dealer").add("/big", Page("<html>" + "x" * (5 * 1024 * 1024) + "</html>"))
    result = fetch(HttpFetcher(farm_settings(), max_bytes=1024 * 1024), url)
    assert result.failure == FailureKind.TOO_LARGE
    assert result.detail.startswith("page over the 1 MB limit")
    assert fetch(HttpFetcher(farm_settings()), url).ok          # the default 8 MB cap reads it


def test_slow_server_is_a_timeout(farm, farm_settings):
    url = farm.host("dealer").add("/slow", Page("<html>late</html>", delay_s=3))
    result = fetch(HttpFetcher(farm_settings()), url, timeout_s=0.5)
    assert (result.failure, result.detail) == (FailureKind.TIMEOUT, "no answer within 0.5 s")


def test_refused_connection(farm_settings):
    result = fetch(HttpFetcher(farm_settings()), f"http://127.0.0.1:{free_port()}/ase")
    assert result.failure == FailureKind.CONNECTION and result.failure.transient


def test_bot_check_page_is_blocked(farm, farm_settings):
    url = farm.host("dealer").add("/cf", "<html><head><title>Just a moment...</title></head><body></body></html>")
    result = fetch(HttpFetcher(farm_settings()), url)
    assert result.failure == FailureKind.BLOCKED and "bot check" in result.detail


def test_empty_page(farm, farm_settings):
    url = farm.host("dealer").add("/e", Page(""))
    assert fetch(HttpFetcher(farm_settings()), url).failure == FailureKind.EMPTY_PAGE


def test_proxy_is_used_only_when_asked(farm, farm_settings):
    url = farm.host("dealer").add("/p", Page(page_text("jsonld_instock.html"), block_direct=True))
    proxy = farm.proxy()
    settings = farm_settings(home_proxy_url=proxy.url(""))
    direct = fetch(HttpFetcher(settings), url)
    assert direct.failure == FailureKind.BLOCKED and not direct.via_proxy and proxy.total_hits == 0
    proxied = fetch(HttpFetcher(settings), url, use_proxy=True)
    assert proxied.ok and proxied.via_proxy and proxy.total_hits == 1


def test_browser_like_headers_are_sent(farm, farm_settings):
    seen = {}
    host = farm.host("dealer")
    original = host.respond

    def recording(handler):
        seen.update({k.lower(): v for k, v in handler.headers.items()})
        original(handler)

    host.respond = recording
    fetch(HttpFetcher(farm_settings()), host.add("/h", page_text("shopify.html")))
    assert "Chrome/" in seen["user-agent"] and seen["accept-language"].startswith("en-US")
