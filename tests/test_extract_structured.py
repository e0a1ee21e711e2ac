"""schema.org JSON-LD, microdata and product meta tags through extract_offer."""

from __future__ import annotations

import json

import pytest

from staktrakr.catalog import VendorRules
from staktrakr.extract import PageContent, extract_offer
from tests.extract_fixtures import ASE

RULES = VendorRules(cut_after=["Similar Products You May Like"])
URL = "https://dealer.test/p/2026-ase"


def jsonld_page(*blocks: object, body: str = "") -> str:
    scripts = "".join(f'<script type="application/ld+json">{json.dumps(block)}</script>' for block in blocks)
    return f"<html><head>{scripts}</head><body><h1>2026 1 oz American Silver Eagle</h1>{body}</body></html>"


def offer(price: object, availability: str = "https://schema.org/InStock", **extra: object) -> dict:
    return {"@type": "Offer", "price": price, "priceCurrency": "USD", "availability": availability, **extra}


def product(name: str, offers: object, **extra: object) -> dict:
    return {"@context": "https://schema.org", "@type": "Product", "name": name, "offers": offers, **extra}


def read(html: str, rules: VendorRules = RULES, spot: float | None = 80.0):
    return extract_offer(PageContent(url=URL, html=html), ASE, rules, spot)


@pytest.mark.parametrize(
    ("availability", "in_stock"),
    [
        ("https://schema.org/InStock", True),
        ("http://schema.org/OutOfStock", False),
        ("SoldOut", False),
        ("https://schema.org/BackOrder", False),
        ("https://schema.org/Discontinued", False),
        ("https://schema.org/LimitedAvailability", True),
    ],
)
def test_jsonld_offer_price_and_availability(availability, in_stock):
    finding = read(jsonld_page(product("2026 1 oz American Silver Eagle", offer("95.49", availability))))
    assert (finding.price, finding.in_stock, finding.rule, finding.failure) == (95.49, in_stock, "jsonld", None)


def test_jsonld_preorder_depends_on_the_vendor():
    page = jsonld_page(product("2026 1 oz American Silver Eagle", offer(95.49, "https://schema.org/PreOrder")))
    assert read(page).in_stock is False
    assert read(page, RULES.model_copy(update={"preorder_ok": True})).in_stock is True


def test_jsonld_availability_wins_over_page_words():
    page = jsonld_page(product("2026 1 oz American Silver Eagle", offer(95.49)), body="<p>Sold Out</p>")
    assert read(page).in_stock is True


def test_related_product_jsonld_in_the_carousel_is_not_read():
    related = product("2026 1 oz American Silver Eagle Proof", offer("139.00"))
    main = product("2026 1 oz American Silver Eagle", offer("95.49"))
    html = (
        "<html><body><h1>2026 1 oz American Silver Eagle</h1>"
        "<h2>Similar Products You May Like</h2>"
        f'<script type="application/ld+json">{json.dumps(related)}</script>'
        f'<script type="application/ld+json">{json.dumps(main)}</script></body></html>'
    )
    # Both scripts sit after the cut marker: neither is preferred for being kept; the name decides.
    assert read(html).price == 95.49
    # The main product's JSON-LD in the head (kept) beats related ones in the carousel (cut).
    head_main = html.replace(f'<script type="application/ld+json">{json.dumps(main)}</script>', "")
    head_main = head_main.replace("<html><body>", f'<html><head><script type="application/ld+json">'
                                  f'{json.dumps(product("Silver Eagle BU", offer("95.49")))}</script></head><body>')
    assert read(head_main).price == 95.49


def test_more_similar_name_wins_when_no_other_signal():
    related = product("2026 1 oz American Silver Eagle Proof", offer("139.00"))
    main = product("2026 1 oz American Silver Eagle", offer("95.49"))
    assert read(jsonld_page(related, main)).price == 95.49


def test_product_matching_the_page_url_wins():
    other = product("2026 1 oz American Silver Eagle", offer("139.00"), url="https://dealer.test/p/proof")
    mine = product("Silver Eagle", offer("95.49"), url=URL + "/")
    assert read(jsonld_page({"@graph": [other, mine]})).price == 95.49


def test_fractional_related_product_loses_to_the_full_ounce_one():
    tenth = product("2026 1/10 oz American Silver Eagle", offer("14.00"))
    main = product("2026 1 oz American Silver Eagle", offer("95.49"))
    assert read(jsonld_page([tenth, main])).price == 95.49


def test_offers_for_the_smallest_quantity_and_check_payment():
    offers = [
        offer("93.00", eligibleQuantity={"minValue": 25}),
        offer("99.31", acceptedPaymentMethod="http://purl.org/goodrelations/v1#MasterCard credit card"),
        offer("95.49", acceptedPaymentMethod="Check or wire transfer"),
    ]
    assert read(jsonld_page(product("2026 1 oz American Silver Eagle", offers))).price == 95.49


def test_offers_that_disagree_give_no_jsonld_price():
    offers = [offer("95.49"), offer("139.00")]
    finding = read(jsonld_page(product("2026 1 oz American Silver Eagle", offers), body="<p>Price: $96.10</p>"))
    assert (finding.price, finding.rule) == (96.10, "label")


def test_aggregate_offer_single_price_is_used_range_is_not():
    single = {"@type": "AggregateOffer", "lowPrice": "95.49", "highPrice": "95.49", "availability": "InStock"}
    assert read(jsonld_page(product("2026 1 oz American Silver Eagle", single))).price == 95.49
    ranged = {"@type": "AggregateOffer", "lowPrice": "91.00", "highPrice": "99.31", "availability": "OutOfStock"}
    finding = read(jsonld_page(product("2026 1 oz American Silver Eagle", ranged), body="<p>Price: $95.49</p>"))
    assert (finding.price, finding.rule, finding.in_stock) == (95.49, "label", False)


def test_price_specification_and_numeric_prices():
    spec = {"@type": "Offer", "priceSpecification": {"@type": "UnitPriceSpecification", "price": 95.49,
                                                      "priceCurrency": "USD"}, "availability": "InStock"}
    assert read(jsonld_page(product("2026 1 oz American Silver Eagle", spec))).price == 95.49


def test_product_offered_in_another_currency_is_a_wrong_currency_failure():
    """The page's own offer says EUR: a bare "$" beside it is not known to be US dollars."""
    euro = {"@type": "Offer", "price": "88.00", "priceCurrency": "EUR", "availability": "InStock"}
    finding = read(jsonld_page(product("2026 1 oz American Silver Eagle", euro), body="<p>Price: $95.49</p>"))
    assert (finding.price, finding.failure) == (None, "wrong_currency")
    assert finding.detail == "the product is priced in EUR (2026 1 oz American Silver Eagle: price 88.00 EUR), not US dollars"


def test_broken_jsonld_is_skipped():
    html = ('<html><head><script type="application/ld+json">{"@type": "Product", "offers": {</script></head>'
            "<body><h1>2026 1 oz American Silver Eagle</h1><p>Price: $95.49</p></body></html>")
    assert read(html).price == 95.49


def test_jsonld_main_entity_of_a_web_page():
    page = {"@type": "ItemPage", "mainEntity": product("2026 1 oz American Silver Eagle", offer("95.49"))}
    assert read(jsonld_page(page)).price == 95.49


def test_item_list_of_other_products_is_not_a_product():
    listing = {"@type": "ItemList", "itemListElement": [product("1/10 oz Gold Eagle", offer("569.00"))]}
    finding = read(jsonld_page(listing, body="<p>Price: $95.49</p>"))
    assert (finding.price, finding.rule) == (95.49, "label")


def test_microdata_price_and_availability():
    html = """<html><body><div itemscope itemtype="https://schema.org/Product">
      <h1 itemprop="name">2026 1 oz American Silver Eagle</h1>
      <div itemprop="offers" itemscope itemtype="https://schema.org/Offer">
        <meta itemprop="priceCurrency" content="USD"><span itemprop="price" content="95.49">$95.49</span>
        <link itemprop="availability" href="https://schema.org/OutOfStock">
      </div></div></body></html>"""
    finding = read(html)
    assert (finding.price, finding.in_stock, finding.rule) == (95.49, False, "microdata")


def test_product_meta_tags():
    html = """<html><head><meta property="product:price:amount" content="95.49">
      <meta property="product:price:currency" content="USD"><meta property="product:availability" content="instock">
      </head><body><h1>2026 1 oz American Silver Eagle</h1></body></html>"""
    finding = read(html)
    assert (finding.price, finding.in_stock, finding.rule) == (95.49, True, "meta")


def test_out_of_band_jsonld_falls_through_to_the_table():
    body = "<table><tr><th>Qty</th><th>Check/Wire</th></tr><tr><td>1-9</td><td>$95.49</td></tr></table>"
    finding = read(jsonld_page(product("2026 1 oz American Silver Eagle", offer("0.01")), body=body))
    assert (finding.price, finding.rule) == (95.49, "table")


def test_pricing_table_beats_product_meta_tags():
    html = """<html><head><meta property="product:price:amount" content="91.00"></head><body>
      <h1>2026 1 oz American Silver Eagle</h1>
      <table><tr><th>Qty</th><th>Check/Wire</th></tr><tr><td>1-9</td><td>$95.49</td></tr></table></body></html>"""
    assert (read(html).price, read(html).rule) == (95.49, "table")


def test_js_shell_with_jsonld_and_no_visible_text_is_read():
    html = ('<html><head><script type="application/ld+json">'
            + json.dumps(product("2026 1 oz American Silver Eagle", offer("95.49")))
            + '</script></head><body><div id="app"></div><script src="/app.js"></script></body></html>')
    finding = read(html)
    assert (finding.price, finding.in_stock, finding.rule) == (95.49, True, "jsonld")


def test_js_shell_with_fractional_jsonld_product_is_the_wrong_product():
    html = ('<html><head><script type="application/ld+json">'
            + json.dumps(product("2026 1/10 oz American Silver Eagle", offer("14.99")))
            + '</script></head><body><div id="app"></div></body></html>')
    assert read(html).failure == "wrong_product"
