"""End to end through the real scrape job against the local dealer farm: exact price and stock,
or the exact failure reason, for every page style the catalog's vendors show; the sanity band
from the newest plausible stored spot."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from staktrakr.store import Store
from tests.farm import Page, make_target, page_text
from tests.scrape_fixtures import rows, scrape


def one(result):
    assert len(result.outcomes) == 1
    return result.outcomes[0]


@pytest.mark.parametrize(
    ("page", "coin", "expected_price", "expected_in_stock"),
    [
        ("html_table.html", "ase", 76.25, True),          # HTML tier grid: first tier, check/wire column
        ("jsonld_instock.html", "ase", 79.10, True),      # JSON-LD Offer InStock
        ("jsonld_outofstock.html", "maple-silver", 80.55, False),  # JSON-LD OutOfStock keeps the price, not in stock
        ("shopify.html", "ase", 77.40, True),             # Shopify "Regular price"
        ("spot_ticker.html", "ase", 82.15, True),         # header spot ticker is not the price
        ("carousel.html", "ase", 79.95, True),            # related-products fractional prices ignored
        ("as_low_as.html", "ase", 77.80, True),           # "As low as" is the bulk price, not the unit price
        ("sold_out.html", "ase", 78.00, False),           # sold out: price kept, out of stock
        ("gold_jsonld.html", "age", 3104.00, True),
    ],
)
def test_page_styles_give_exact_price_and_stock(farm, farm_settings, page, coin, expected_price, expected_in_stock):
    host = farm.host(page.split(".")[0])
    url = host.add("/product/1", page_text(page))
    settings = farm_settings()
    result = scrape(settings, [make_target(coin, "dealer", url)])
    outcome = one(result)
    assert outcome.reason is None
    assert outcome.price == expected_price
    assert outcome.in_stock is expected_in_stock
    assert outcome.source == "http"
    stored = rows(settings, "SELECT price, in_stock, is_failed, source, evidence FROM price_snapshots")
    assert [(r["price"], r["in_stock"], r["is_failed"], r["source"]) for r in stored] == [
        (expected_price, int(expected_in_stock), 0, "http")]
    evidence = json.loads(stored[0]["evidence"])
    assert evidence["fetcher"] == "http" and evidence["url"] == url and evidence["rule"]


def test_pipe_table_tier_grid_through_firecrawl(farm, farm_settings):
    dealer_url = "http://127.0.0.1:9/apmex/ase"      # never fetched directly: Firecrawl fetches it
    firecrawl = farm.firecrawl()
    firecrawl.scrape_page(dealer_url, page_text("tier_grid.md"))
    settings = farm_settings()
    outcome = one(scrape(settings, [make_target("ase", "apmex", dealer_url, fetchers=["firecrawl"], wait_ms=1500)]))
    assert (outcome.price, outcome.in_stock, outcome.source) == (78.49, True, "firecrawl")
    assert firecrawl.requests == [{"url": dealer_url, "formats": ["markdown"], "onlyMainContent": True,
                                   "waitFor": 1500, "timeout": 5000}]
    assert firecrawl.auth_headers == ["Bearer fc-test-key"]


def test_price_rendered_by_javascript_needs_the_browser(farm, farm_settings):
    url = farm.host("herobullion").add("/ase", page_text("js_rendered.html"))
    settings = farm_settings()
    target = make_target("ase", "herobullion", url, fetchers=["http", "browser"], wait_selector=".product-price .price",
                         wait_ms=5000)
    outcome = one(scrape(settings, [target]))
    assert (outcome.price, outcome.in_stock, outcome.source) == (81.20, True, "playwright")
    assert [attempt.fetcher for attempt in outcome.attempts] == ["http", "browser"]
    assert outcome.attempts[0].reason.startswith("no_price")
    stored = rows(settings, "SELECT price, source, is_failed FROM price_snapshots")
    assert stored == [{"price": 81.20, "source": "playwright", "is_failed": 0}]


def test_preorder_tolerated_by_the_vendor_is_in_stock(farm, farm_settings):
    url = farm.host("jm").add("/ase", page_text("preorder.html"))
    outcome = one(scrape(farm_settings(), [make_target("ase", "jmbullion", url, preorder_ok=True)]))
    assert (outcome.price, outcome.in_stock) == (83.00, True)


def test_preorder_not_tolerated_is_out_of_stock(farm, farm_settings):
    url = farm.host("other").add("/ase", page_text("preorder.html"))
    outcome = one(scrape(farm_settings(), [make_target("ase", "other", url, preorder_ok=False)]))
    assert (outcome.price, outcome.in_stock) == (83.00, False)


def test_fractional_product_for_a_one_ounce_url_is_the_wrong_product(farm, farm_settings):
    url = farm.host("apmex").add("/age-1oz", page_text("fractional.html"))
    settings = farm_settings()
    outcome = one(scrape(settings, [make_target("age", "apmex", url)]))
    assert outcome.price is None
    assert outcome.reason == ("wrong_product: page title names 1/10 oz but age is 1 oz: "
                              "2026 1/10 oz American Gold Eagle Coin BU")
    stored = rows(settings, "SELECT price, is_failed FROM price_snapshots")
    assert stored == [{"price": None, "is_failed": 1}]
    failures = rows(settings, "SELECT coin_slug, vendor_id, url, error FROM provider_failures")
    assert failures == [{"coin_slug": "age", "vendor_id": "apmex", "url": url,
                         "error": f"{outcome.reason} (page: {outcome.evidence_path})"}]


def test_a_5_mb_page_is_read(farm, farm_settings):
    filler = "<script>window.__CATALOG__ = \"" + "x" * (5 * 1024 * 1024) + "\";</script>"
    page = page_text("jsonld_instock.html").replace("</body>", filler + "</body>")
    url = farm.host("big").add("/ase", page)
    outcome = one(scrape(farm_settings(), [make_target("ase", "big", url)]))
    assert (outcome.price, outcome.in_stock) == (79.10, True)


@pytest.mark.parametrize(
    ("page", "attempts", "reason", "hits"),
    [
        (Page("<html><body>Forbidden</body></html>", status=403), 3, "blocked: HTTP 403", 1),
        (Page("<html><body>Gone</body></html>", status=404), 3, "not_found: HTTP 404", 1),
        (Page("", status=200), 3, "empty_page: empty page", 1),
        (Page("   \n  ", status=200), 3, "empty_page: empty page", 1),
        (Page("<html>oops</html>", status=503), 3, "server_error: HTTP 503", 3),     # transient: retried
        (Page("<html>slow</html>", delay_s=3), 2, "timeout: no answer within 1 s", 2),  # transient: retried
    ],
)
def test_fetch_failures_give_exact_reasons(farm, farm_settings, page, attempts, reason, hits):
    host = farm.host("failing")
    url = host.add("/ase", page)
    settings = farm_settings(scrape_attempts=attempts)
    result = scrape(settings, [make_target("ase", "failing", url, timeout_s=1)])
    outcome = one(result)
    assert outcome.price is None
    assert outcome.reason == reason
    assert host.hits["/ase"] == hits
    assert result.status == "error"
    stored = rows(settings, "SELECT price, is_failed, source FROM price_snapshots")
    assert stored == [{"price": None, "is_failed": 1, "source": "http"}]
    assert rows(settings, "SELECT error FROM provider_failures") == [{"error": reason}]
    run = rows(settings, "SELECT status, total, captured, failures, error FROM poller_runs")
    assert run == [{"status": "error", "total": 1, "captured": 0, "failures": 1, "error": "every target failed"}]


def test_blocked_page_is_fetched_again_through_the_home_proxy(farm, farm_settings):
    host = farm.host("guarded")
    url = host.add("/ase", Page(page_text("jsonld_instock.html"), block_direct=True))
    proxy = farm.proxy()
    settings = farm_settings(home_proxy_url=proxy.url(""))
    outcome = one(scrape(settings, [make_target("ase", "guarded", url, proxy="fallback")]))
    assert (outcome.price, outcome.in_stock) == (79.10, True)
    assert [(a.via_proxy, a.reason) for a in outcome.attempts] == [(False, "blocked: HTTP 403"), (True, None)]
    assert proxy.total_hits == 1


def test_proxy_never_means_direct_only(farm, farm_settings):
    url = farm.host("guarded").add("/ase", Page(page_text("jsonld_instock.html"), block_direct=True))
    proxy = farm.proxy()
    settings = farm_settings(home_proxy_url=proxy.url(""))
    outcome = one(scrape(settings, [make_target("ase", "guarded", url, proxy="never")]))
    assert outcome.reason == "blocked: HTTP 403"
    assert proxy.total_hits == 0


def test_next_fetcher_is_tried_after_a_failure_and_the_first_reason_is_kept(farm, farm_settings):
    url = farm.host("nf").add("/ase", Page("<html>Forbidden</html>", status=403))
    settings = farm_settings(firecrawl_base_url=None)
    outcome = one(scrape(settings, [make_target("ase", "nf", url, fetchers=["http", "firecrawl"])]))
    # Firecrawl is disabled (no base URL), so the reason is the real fetcher's.
    assert outcome.reason == "blocked: HTTP 403"
    assert [a.reason for a in outcome.attempts] == ["blocked: HTTP 403", "disabled: FIRECRAWL_BASE_URL is not set"]


@pytest.mark.parametrize(("page", "reason"), [
    ("<html><head><script type='application/ld+json'>{\"@type\": \"Product\", \"name\": \"American Silver Eagle\", "
     "\"offers\": {\"@type\": \"Offer\", \"price\": \"118.40\", \"priceCurrency\": \"CAD\"}}</script></head>"
     "<body><h1>American Silver Eagle</h1><p>Regular price $118.40</p></body></html>", "wrong_currency"),
    ("<html><body><h1>American Silver Eagle</h1><table><tr><th>Qty</th><th>Check/Wire</th></tr><tr><td>1-19</td>"
     "<td>$76.25</td></tr></table><p>Price: $79.00</p></body></html>", "conflicting_prices"),
])
def test_a_page_refused_on_principle_is_not_read_again_by_another_fetcher(farm, farm_settings, page, reason):
    """Firecrawl's markdown of the same page lacks what decided (currency, table): it must not guess."""
    url = farm.host("settled").add("/ase", page)
    farm.firecrawl().scrape_page(url, "# American Silver Eagle\n\nRegular price $118.40\n")
    outcome = one(scrape(farm_settings(), [make_target("ase", "settled", url, fetchers=["http", "firecrawl"])]))
    assert (outcome.price, outcome.reason.split(":")[0]) == (None, reason)
    assert [a.fetcher for a in outcome.attempts] == ["http"] and farm.firecrawl().requests == []


def test_fetcher_option_forces_one_fetcher(farm, farm_settings):
    dealer_url = farm.host("apmex").add("/ase", page_text("html_table.html"))
    farm.firecrawl().scrape_page(dealer_url, page_text("tier_grid.md"))
    settings = farm_settings()
    outcome = one(scrape(settings, [make_target("ase", "apmex", dealer_url, fetchers=["http", "firecrawl"])],
                         fetcher="firecrawl"))
    assert (outcome.price, outcome.source) == (78.49, "firecrawl")
    assert farm.hosts["apmex"].total_hits == 0


def test_dry_run_writes_nothing(farm, farm_settings):
    url = farm.host("d").add("/ase", page_text("jsonld_instock.html"))
    settings = farm_settings()
    result = scrape(settings, [make_target("ase", "d", url)], dry_run=True)
    assert one(result).price == 79.10
    assert result.stored_rows == 0 and result.queued_rows == 0
    assert not (settings.var_dir / "staktrakr.db").exists() or rows(
        settings, "SELECT COUNT(*) AS n FROM sqlite_master WHERE name = 'price_snapshots'") == [{"n": 0}]


def test_sanity_band_comes_from_the_stored_spot_price(farm, farm_settings):
    from staktrakr.models import SpotPrice
    from staktrakr.store import Store

    settings = farm_settings()
    with Store.open(settings) as store:
        store.migrate()
        store.write([SpotPrice(metal="silver", spot=20.0, poller_id="local", timestamp="2026-03-15 17:30:00",
                               timestamp_floor="2026-03-15 17:30:00", scraped_at="2026-03-15T17:30:02.913Z")])
    url = farm.host("d").add("/ase", page_text("jsonld_instock.html"))
    outcome = one(scrape(settings, [make_target("ase", "d", url)]))
    # 79.10 is plausible under the fixed silver band (40-200) but not at 3x a $20 spot (18-60)
    assert outcome.price is None
    assert outcome.reason == "out_of_band: price 79.10 (jsonld) outside band 18.00-60.00 (spot) for ase"


def test_scrape_sanity_spot_skips_an_implausible_newest_row(make_settings, tmp_path: Path) -> None:
    """The shared table also receives rows from other writers (the old pollers' INSERT OR REPLACE wrote
    silver $0.01 on 2026-02-27). latest_spot() took the newest row of each metal whatever its value, so
    the scrape's melt band for silver became $0.01-$0.03 x weight and every silver price was refused;
    a per-gram gold figure would likewise move the band onto wrong prices. The newest plausible value
    (inside the metal's spot band) is the one to use."""
    settings = make_settings(turso_database_url=f"file:{tmp_path / 'db.sqlite'}")
    with Store.open(settings) as store:
        store.migrate()
        store.db.batch([(
            "INSERT INTO spot_prices (metal, spot, source, poller_id, timestamp, timestamp_floor) VALUES (?,?,?,?,?,?)",
            (metal, spot, "metalprice-api", "fly-spot", slot, slot))
            for metal, spot, slot in (("silver", 80.12, "2026-03-15T19:45:00Z"), ("silver", 0.01, "2026-03-15T20:00:00Z"),
                                      ("gold", 5018.96, "2026-03-15T19:45:00Z"), ("gold", 161.36, "2026-03-15T20:00:00Z"))])
        from staktrakr.store.queries.spot import latest_spot
        assert latest_spot(store) == {"silver": 80.12, "gold": 5018.96}


def test_out_of_stock_without_a_price(farm, farm_settings):
    url = farm.host("d").add("/ase", "<html><body><main><h1>2026 1 oz American Silver Eagle Coin</h1>"
                                     "<p>Currently Unavailable</p></main></body></html>")
    outcome = one(scrape(farm_settings(), [make_target("ase", "d", url)]))
    assert (outcome.price, outcome.in_stock) == (None, False)
    assert outcome.reason.startswith("out_of_stock: out of stock, no price shown")
