"""Realistic dealer pages (tests/pages/, see its README) through extract_offer with the real
catalog rules: the exact price, stock and rule, or the exact failure reason."""

from __future__ import annotations

import pytest

from staktrakr.extract import Finding, PageContent, extract_offer
from tests.extract_fixtures import CATALOG, PAGES

GOLD_SPOT, SILVER_SPOT = 5019.50, 80.59
SPOT_FOR_METAL = {"gold": GOLD_SPOT, "silver": SILVER_SPOT, "goldback": GOLD_SPOT}


def read_page(name: str, slug: str, vendor: str, spot: float | str | None = "default", **rule_changes) -> Finding:
    text = (PAGES / name).read_text(encoding="utf-8")
    content = {"markdown": text} if name.endswith(".md") else {"html": text}
    coin = CATALOG.coins[slug]
    rules = CATALOG.rules_for(vendor).model_copy(update=rule_changes)
    spot_usd = SPOT_FOR_METAL[coin.metal] if spot == "default" else spot
    return extract_offer(PageContent(url=f"https://www.{vendor}.com/{slug}", **content), coin, rules, spot_usd)


@pytest.mark.parametrize(
    ("name", "slug", "vendor", "price", "in_stock", "rule"),
    [
        ("jmbullion_age.html", "age", "jmbullion", 5219.87, True, "grid"),  # the DOM grid; the flattened text agrees
        ("jmbullion_age.md", "age", "jmbullion", 5219.87, True, "tier_text"),
        ("apmex_ase.md", "ase", "apmex", 88.49, True, "table"),
        ("apmex_ase.html", "ase", "apmex", 88.49, True, "table"),
        ("gainesvillecoins_age.html", "age", "gainesvillecoins", 5189.42, True, "jsonld"),
        ("providentmetals_maple_oos.html", "maple-silver", "providentmetals", 86.25, False, "jsonld"),
        ("summitmetals_ase.html", "ase", "summitmetals", 89.95, True, "label"),
        ("sdbullion_ase_soldout.html", "ase", "sdbullion", 87.19, False, "label"),
        ("monumentmetals_ase.html", "ase", "monumentmetals", 89.49, True, "table"),
        ("bullionexchanges_ase.html", "ase", "bullionexchanges", 88.95, True, "prose"),
        ("sdbullion_goldback_g1.html", "goldback-nevada-g1", "sdbullion", 10.49, True, "label"),
        ("apmex_goldback_g1.md", "goldback-utah-g1", "apmex", 10.29, True, "table"),
    ],
)
def test_vendor_pages_give_exact_price_stock_and_rule(name, slug, vendor, price, in_stock, rule):
    finding = read_page(name, slug, vendor)
    assert (finding.price, finding.in_stock, finding.rule, finding.failure) == (price, in_stock, rule, None)
    assert finding.ok
    assert f"{price:,.2f}" in finding.evidence or f"{price:.2f}" in finding.evidence
    assert len(finding.evidence) <= 120


@pytest.mark.parametrize(
    ("name", "slug", "vendor"),
    [
        ("jmbullion_age.html", "age", "jmbullion"),
        ("apmex_ase.md", "ase", "apmex"),
        ("summitmetals_ase.html", "ase", "summitmetals"),
        ("sdbullion_goldback_g1.html", "goldback-nevada-g1", "sdbullion"),
    ],
)
def test_pages_read_the_same_without_spot(name, slug, vendor):
    """The fixed per-oz bands (no spot known) accept the same prices."""
    with_spot, without = read_page(name, slug, vendor), read_page(name, slug, vendor, spot=None)
    assert (without.price, without.in_stock) == (with_spot.price, with_spot.in_stock)


def test_jmbullion_ticker_date_line_and_carousel_are_not_read():
    finding = read_page("jmbullion_age.html", "age", "jmbullion")
    assert finding.price == 5219.87  # not the ticker's 5,019.50, not the carousel's 569.99 / 2,699.99
    assert "5,019.50" not in finding.evidence and "Feb 21" not in finding.evidence


def test_ticker_and_carousel_stay_out_even_without_cut_rules():
    """Defence in depth: with no cut rules at all, the title-anchored main region and the
    ticker guard still keep 'Gold Ask $5,019.50' and the carousel prices out."""
    finding = read_page("jmbullion_age.html", "age", "jmbullion", cut_patterns=[], cut_selectors=[], cut_after=[])
    assert finding.price == 5219.87


def test_preorder_not_tolerated_keeps_the_price_but_not_in_stock():
    jm = read_page("jmbullion_age.html", "age", "jmbullion", preorder_ok=False)
    assert (jm.price, jm.in_stock, jm.failure) == (5219.87, False, None)
    assert "pre-order" in jm.stock_evidence.lower()
    monument = read_page("monumentmetals_ase.html", "ase", "monumentmetals", preorder_ok=False)
    assert (monument.price, monument.in_stock, monument.failure) == (89.49, False, None)


def test_preorder_tolerated_is_in_stock():
    monument = read_page("monumentmetals_ase.html", "ase", "monumentmetals")
    assert CATALOG.rules_for("monumentmetals").preorder_ok
    assert (monument.price, monument.in_stock) == (89.49, True)
    assert monument.stock_evidence == "button: pre-order now"


def test_bulk_only_page_fails_rather_than_guessing():
    finding = read_page("herobullion_ase_bulk_only.html", "ase", "herobullion")
    assert (finding.price, finding.failure) == (None, "no_price")
    assert finding.detail == "only a bulk price (As low as $86.10) found; not a unit price"
    assert not finding.ok


def test_fractional_product_for_a_one_ounce_coin_is_the_wrong_product():
    finding = read_page("apmex_age_fractional.html", "age", "apmex")
    assert (finding.price, finding.failure, finding.rule) == (None, "wrong_product", "title")
    assert finding.detail == (
        "page title names 1/10 oz but age is 1 oz: 2026 1/10 oz American Gold Eagle Coin BU"
    )


def test_sold_out_page_with_price_is_out_of_stock_not_a_failure():
    finding = read_page("sdbullion_ase_soldout.html", "ase", "sdbullion")
    assert (finding.price, finding.in_stock, finding.failure) == (87.19, False, None)
    assert finding.stock_evidence == "disabled button: add to cart"


def test_shopify_sale_price_wins_and_hidden_sold_out_badge_is_ignored():
    finding = read_page("summitmetals_ase.html", "ase", "summitmetals")
    # One line as a browser shows it (the source's line breaks inside the price box are spaces).
    assert (finding.price, finding.evidence) == (89.95, "Regular price $91.50 USD Sale price $89.95 USD")
    assert finding.in_stock is True


def test_aggregate_offer_range_is_not_a_unit_price_but_gives_stock():
    finding = read_page("apmex_ase.html", "ase", "apmex")
    assert finding.price == 88.49 and finding.stock_evidence == "jsonld in_stock"


def test_goldback_out_of_band_when_gold_spot_halves():
    """G1 at $10.49 is more than 4x melt when gold is $2,500 (melt 2.50, band 2.50-10.00)."""
    finding = read_page("sdbullion_goldback_g1.html", "goldback-nevada-g1", "sdbullion", spot=2500.0)
    assert (finding.price, finding.failure) == (None, "out_of_band")
    assert finding.detail == "price 10.49 (label) outside band 2.50-10.00 (spot) for goldback-nevada-g1"


def test_html_and_markdown_together_agree():
    html = (PAGES / "jmbullion_age.html").read_text()
    markdown = (PAGES / "jmbullion_age.md").read_text()
    coin = CATALOG.coins["age"]
    finding = extract_offer(
        PageContent(url="https://www.jmbullion.com/age", html=html, markdown=markdown),
        coin, CATALOG.rules_for("jmbullion"), GOLD_SPOT,
    )
    assert (finding.price, finding.in_stock, finding.rule) == (5219.87, True, "grid")
