"""The decision over readings, one test per kind of mistake: other currencies, other products'
scopes, struck/was/list prices, card columns, thresholds and savings, glued and split text,
stock words on controls, and disagreements that must fail rather than guess."""

from __future__ import annotations

import json

import pytest

from staktrakr.catalog import Coin, VendorRules
from staktrakr.extract import PageContent, extract_offer
from tests.extract_fixtures import AGE, ASE

RULES = VendorRules()
URL = "https://dealer.test/products/ase"
TITLE = "<h1>American Silver Eagle</h1>"
TABLE = ("<table><tr><th>Qty</th><th>Check/Wire</th><th>Card/PayPal</th></tr>"
         "<tr><td>1-19</td><td>$86.39</td><td>$89.85</td></tr><tr><td>20+</td><td>$85.10</td><td>$88.50</td></tr></table>")


def read(body: str, head: str = "", coin: Coin = ASE, spot: float | None = 50.0):
    html = f"<html><head>{head}</head><body>{body}</body></html>"
    return extract_offer(PageContent(url=URL, html=html), coin, RULES, spot)


def jsonld(offers: object, name: str = "American Silver Eagle", **extra: object) -> str:
    product = {"@context": "https://schema.org", "@type": "Product", "name": name, "offers": offers, **extra}
    return f'<script type="application/ld+json">{json.dumps(product)}</script>'


# Currency --------------------------------------------------------------------------------------


@pytest.mark.parametrize("amount", ["C$118.40", "CA$118.40", "CAD $118.40", "$118.40 CAD", "A$118.40",
                                    "AU$118.40", "$118.40 AUD", "NZ$118.40", "MX$118.40", "€86,39", "86,39 €",
                                    "£70.10", "EUR 86.39"])
def test_an_amount_in_another_currency_is_never_a_dollar_price(amount):
    finding = read(f"{TITLE}<p>Price: {amount}</p>")
    assert (finding.price, finding.failure) == (None, "wrong_currency")


def test_structured_offer_in_another_currency_fails_even_beside_a_bare_dollar_sign():
    offer = {"@type": "Offer", "price": "118.40", "priceCurrency": "CAD"}
    finding = read(f"{TITLE}<p>$118.40</p>", head=jsonld(offer))
    assert finding.failure == "wrong_currency" and "CAD" in finding.detail


def test_explicit_us_dollars_beside_a_converted_price_is_read():
    finding = read(f"{TITLE}<p>Price: $86.39 USD</p><p>Approx. C$118.40</p>")
    assert (finding.price, finding.failure) == (86.39, None)


def test_usd_offer_is_read_and_a_price_in_us_dollars_prefix():
    assert read(f"{TITLE}<p>Price: US$86.39</p>").price == 86.39
    offer = {"@type": "Offer", "price": "86.39", "priceCurrency": "USD"}
    assert read(TITLE, head=jsonld(offer)).price == 86.39


# Which product ---------------------------------------------------------------------------------


def test_another_products_microdata_before_the_title_is_not_this_product():
    card = ("<div itemscope itemtype='https://schema.org/Product'><span itemprop='name'>Silver Buffalo Round</span>"
            "<span itemprop='price' content='84.19'>$84.19</span></div>")
    finding = read(f"<div class='col'>{card}</div>{TITLE}<p>Price: $86.39</p>")
    assert (finding.price, finding.rule) == (86.39, "label")
    seen = {(r["amount"], r["verdict"]) for r in finding.readings}
    assert (84.19, "not this product (other_product)") in seen


def test_two_candidate_products_with_different_prices_are_not_guessed_between():
    scope = ("<div itemscope itemtype='https://schema.org/Product'><span itemprop='name'>American Silver Eagle</span>"
             "<span itemprop='price' content='{0}'>${0}</span></div>")
    finding = read(TITLE + scope.format("86.39") + scope.format("91.75"))
    assert finding.price is None and finding.failure is not None


def test_rdfa_product_scope_is_read():
    body = ("<div vocab='https://schema.org/' typeof='Product'><h1 property='name'>American Silver Eagle</h1>"
            "<div property='offers' typeof='Offer'><span property='price' content='86.39'>$86.39</span>"
            "<link property='availability' href='https://schema.org/OutOfStock'></div></div>")
    finding = read(body)
    assert (finding.price, finding.rule, finding.in_stock) == (86.39, "rdfa", False)


def test_microdata_attribute_disagreeing_with_its_text_loses_to_the_text():
    body = f"{TITLE}<div itemscope itemtype='https://schema.org/Offer'><span itemprop='price' content='8639'>$86.39</span></div>"
    finding = read(body)
    assert (finding.price, finding.rule) == (86.39, "microdata")
    assert "content=8639 disagrees" in finding.evidence


def test_related_products_container_is_not_read_even_without_catalog_rules():
    related = "<section class='related-products'><h2>More</h2><div>Buffalo Round</div><div>Price: $84.19</div></section>"
    finding = read(f"{TITLE}{related}<div>Price: $86.39</div>")
    assert finding.price == 86.39


# Was, sale, list and card prices ---------------------------------------------------------------


@pytest.mark.parametrize("price_spec_type", ["StrikethroughPrice", "ListPrice", "MSRP", "SRP"])
def test_price_specification_of_a_not_asking_type_is_never_the_price(price_spec_type):
    offer = {"@type": "Offer", "priceSpecification": [
        {"@type": "UnitPriceSpecification", "priceType": f"https://schema.org/{price_spec_type}", "price": "95.00",
         "priceCurrency": "USD"},
        {"@type": "UnitPriceSpecification", "price": "91.75", "priceCurrency": "USD"}]}
    assert read(TITLE, head=jsonld(offer)).price == 91.75


@pytest.mark.parametrize("body", [
    "<p class='price'><del>$95.00</del> <ins>$91.75</ins></p>",                            # WooCommerce
    "<div class='price-box'><span class='old-price'>Regular Price $95.00</span>"
    "<span class='special-price'>Special Price $91.75</span></div>",                      # Magento
    "<div><span class='price price--rrp'>MSRP: $95.00</span>"
    "<span class='price price--withoutTax'>$91.75</span></div>",                           # BigCommerce
    "<div>Regular price<s>$95.00</s>Sale price<b>$91.75</b></div>",                        # minified Shopify
    "<div>Sale price<b>$91.75</b>Regular price<s>$95.00</s></div>",
    "<div><span style='text-decoration: line-through'>$95.00</span> $91.75</div>",
    "<div>Was: $95.00</div><div>Now: $91.75</div>",
])
def test_the_sale_price_wins_over_the_was_price(body):
    finding = read(TITLE + body)
    assert (finding.price, finding.failure) == (91.75, None)


def test_structured_price_equal_to_the_card_column_gives_way_to_check_wire():
    finding = read(TITLE + TABLE, head=jsonld({"@type": "Offer", "price": "89.85", "priceCurrency": "USD"}))
    assert (finding.price, finding.rule) == (86.39, "table")
    assert "equals the card price" in finding.decision


def test_structured_price_equal_to_a_larger_tier_gives_way_to_the_first_tier():
    finding = read(TITLE + TABLE, head=jsonld({"@type": "Offer", "price": "85.10", "priceCurrency": "USD"}))
    assert finding.price == 86.39


def test_labelled_card_price_explains_a_structured_price():
    body = f"{TITLE}<div>Check/Wire price: $86.39</div><div>Card price: $89.85</div>"
    finding = read(body, head=jsonld({"@type": "Offer", "price": "89.85"}))
    assert finding.price in (86.39, None)  # never the card price


def test_trusted_readings_that_disagree_fail_naming_both():
    finding = read(TITLE + TABLE, head=jsonld({"@type": "Offer", "price": "91.00", "priceCurrency": "USD"}))
    assert (finding.price, finding.failure) == (None, "conflicting_prices")
    assert "jsonld unit 91.00" in finding.detail and "table check_wire 86.39" in finding.detail


# Amounts that are not prices -------------------------------------------------------------------


@pytest.mark.parametrize("noise", [
    "Orders $99+ ship free", "Free shipping on orders over $99", "Spend $99 and ship free",
    "Save $3.00 today", "$4.10 over spot", "Premium: $4.10", "Cart total: $99.00", "Subtotal $99.00",
    "Shipping: $7.95", "We buy at $80.10", "Earn $2.00 in rewards", "Compare at $99.00",
])
def test_thresholds_premiums_savings_and_totals_are_never_the_price(noise):
    finding = read(f"{TITLE}<div>{noise}</div><div>$86.39</div>")
    assert (finding.price, finding.failure) == (86.39, None)


# Text assembly ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("body", "price"), [
    ("<div>Price:</div><div>$<span>5,163</span><sup>42</sup></div>", 5163.42),
    ("<div>Price: $5,163<sup>42</sup></div>", 5163.42),
    ("<div>Price: <span>$</span><span>5,163</span><span>.42</span></div>", 5163.42),
    ("<div>Price:<span class='currency'>$</span><span class='amount'>5163.42</span></div>", 5163.42),
])
def test_money_split_across_elements_is_put_back_together(body, price):
    assert read(f"<h1>American Gold Eagle</h1>{body}", coin=AGE, spot=4000.0).price == price


def test_glued_inline_elements_read_as_separate_tokens():
    finding = read(f"{TITLE}<div><span>In stock</span><span>Price:</span><span>$86.39</span><span>Card:</span>"
                   "<span>$89.85</span></div>")
    assert finding.price == 86.39


# Stock from the purchase control ---------------------------------------------------------------


@pytest.mark.parametrize("noise", [
    "<ul class='variants'><li>Single</li><li class='variant'>Tube of 20 <span>Out of stock</span></li></ul>",
    "<select name='qty'><option>1 coin</option><option disabled>Monster box - Sold out</option></select>",
    "<div class='reviews'><p>It was out of stock for a month but worth the wait.</p></div>",
    "<div class='swatches'><span class='swatch'>2025 - Sold Out</span></div>",
])
def test_stock_words_on_options_reviews_and_swatches_do_not_decide(noise):
    finding = read(f"{TITLE}<div>Price: $86.39</div>{noise}")
    assert (finding.price, finding.in_stock) == (86.39, True)


def test_the_disabled_buy_button_decides_not_an_in_stock_variant():
    finding = read(f"{TITLE}<div>Price: $86.39</div><ul class='variants'><li>Tube - In stock</li></ul>"
                   "<button disabled>Add to Cart</button>")
    assert (finding.price, finding.in_stock) == (86.39, False)
