"""The walk over a page's URLs, fetchers and egress (fetch/walk.py) and the fetcher registry it reads,
against the dealer farm, the fake Firecrawl and a real forward proxy: what is fetched, through which
egress, and where the walk stops."""

from __future__ import annotations

import asyncio

import pytest
from pydantic import ValidationError

from staktrakr.catalog import VendorRules
from staktrakr.fetch.base import FailureKind, FetchResult
from staktrakr.fetch.registry import FETCHER_CLASSES, FETCHER_NAMES, FETCHER_OF_SOURCE, SOURCE_OF_FETCHER
from staktrakr.fetch.walk import FetchRun, PageVerdict, Walk, route_for
from tests.cli_helpers import run_cli
from tests.farm import Page, page_text


def rules(**fields) -> VendorRules:
    return VendorRules(**{"timeout_s": 5, "proxy": "never", **fields})


async def read_any_page(page: FetchResult) -> PageVerdict[str]:
    return PageVerdict(page.url, accepted=True)


def walk(settings, urls, page_rules, read=read_any_page, order=None) -> tuple[Walk, int]:
    """One walk on a fresh lane; returns it and how many requests went through the vendor's lane."""

    async def go() -> tuple[Walk, int]:
        run = FetchRun(settings)
        lane = run.lane()
        try:
            return await run.walk(urls, page_rules, lane, read, order), lane.requests
        finally:
            await run.aclose()

    return asyncio.run(go())


def test_registry_is_the_one_list_the_catalog_and_the_cli_accept(tmp_path):
    assert FETCHER_NAMES == ("http", "browser", "firecrawl")
    assert SOURCE_OF_FETCHER == {"http": "http", "browser": "playwright", "firecrawl": "firecrawl"}
    assert {FETCHER_OF_SOURCE[source]: source for source in FETCHER_OF_SOURCE} == SOURCE_OF_FETCHER
    assert VendorRules(fetchers=list(FETCHER_NAMES)).fetchers == list(FETCHER_NAMES)
    with pytest.raises(ValidationError, match="Input should be 'http', 'browser' or 'firecrawl'"):
        VendorRules(fetchers=["curl"])
    bad = run_cli(["scrape", "--fetcher", "curl"], var_dir=tmp_path)
    assert bad.exit_code == 2 and f"expected one of {', '.join(FETCHER_NAMES)}" in bad.output
    stored_name = run_cli(["scrape", "--fetcher", "playwright"], var_dir=tmp_path)  # the database's name points home
    assert stored_name.exit_code == 2 and "names fetcher browser" in stored_name.output
    # the proxy and the breaker's routes come from the classes' capabilities
    assert [name for name, cls in FETCHER_CLASSES.items() if not cls.capabilities.supports_proxy] == ["firecrawl"]
    routes = {name: (route_for(name, cls.capabilities, False), route_for(name, cls.capabilities, True))
              for name, cls in FETCHER_CLASSES.items()}
    assert routes == {"http": ("direct", "proxy"), "browser": ("direct", "proxy"), "firecrawl": ("firecrawl",) * 2}


def test_a_fetcher_without_proxy_support_never_goes_through_the_proxy(farm, farm_settings):
    dealer_url = "http://127.0.0.1:9/guarded/ase"        # only Firecrawl's servers fetch it
    firecrawl, proxy = farm.firecrawl(), farm.proxy()
    firecrawl.scrape_page(dealer_url, "# blocked", status_code=403)
    settings = farm_settings(home_proxy_url=proxy.url(""))
    for mode in ("always", "fallback"):
        done, requests = walk(settings, [dealer_url], rules(fetchers=["firecrawl"], proxy=mode))
        assert [(s.page.fetcher, s.page.via_proxy, s.page.failure) for s in done.steps] == [
            ("firecrawl", False, FailureKind.BLOCKED)], mode
        assert requests == 1 and not done.steps[0].proxy_next
    assert proxy.total_hits == 0 and len(firecrawl.requests) == 2


def test_blocked_direct_fetch_is_retried_once_through_the_proxy(farm, farm_settings):
    url = farm.host("guarded").add("/ase", Page(page_text("jsonld_instock.html"), block_direct=True))
    proxy = farm.proxy()
    done, requests = walk(farm_settings(home_proxy_url=proxy.url("")), [url], rules(fetchers=["http"], proxy="fallback"))
    assert [(s.page.via_proxy, s.page.failure, s.proxy_next) for s in done.steps] == [
        (False, FailureKind.BLOCKED, True), (True, None, False)]
    assert done.answer is not None and done.answer[0].via_proxy and requests == 2 and proxy.total_hits == 1


def test_a_disabled_fetcher_is_a_step_without_a_request(farm, farm_settings):
    url = farm.host("d").add("/ase", page_text("jsonld_instock.html"))
    done, requests = walk(farm_settings(firecrawl_base_url=None), [url], rules(fetchers=["firecrawl", "http"]))
    assert [(s.page.fetcher, s.page.failure) for s in done.steps] == [
        ("firecrawl", FailureKind.DISABLED), ("http", None)]
    assert done.steps[0].page.detail == "FIRECRAWL_BASE_URL is not set"
    assert requests == 1                                   # no lane slot, gap or retry spent on it


def test_the_walk_goes_on_to_the_next_url_and_stops_at_a_settled_page(farm, farm_settings):
    host = farm.host("d")
    gone = host.add("/gone", Page("<html>gone</html>", status=404))
    refused, spare = host.add("/refused", page_text("jsonld_instock.html")), host.add("/spare", "<html>x</html>")

    async def settle(page: FetchResult) -> PageVerdict[str]:
        return PageVerdict("refused on principle", accepted=False, settled=True)

    done, _ = walk(farm_settings(), [gone, refused, spare], rules(fetchers=["http"]), read=settle)
    assert [s.page.url for s in done.steps] == [gone, refused]
    assert done.steps[1].verdict.reading == "refused on principle" and done.answer is None
    assert host.hits.get("/spare", 0) == 0


def test_the_order_given_overrides_the_rules(farm, farm_settings):
    dealer_url = farm.host("apmex").add("/ase", page_text("html_table.html"))
    farm.firecrawl().scrape_page(dealer_url, page_text("tier_grid.md"))
    done, _ = walk(farm_settings(), [dealer_url], rules(fetchers=["http", "firecrawl"]), order=["firecrawl"])
    assert [s.page.fetcher for s in done.steps] == ["firecrawl"] and farm.hosts["apmex"].total_hits == 0
