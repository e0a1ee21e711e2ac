"""Money parsing, labelled prices, bulk labels and the guarded prose fallback."""

from __future__ import annotations

import pytest

from staktrakr.catalog import VendorRules
from staktrakr.extract import PageContent, extract_offer
from staktrakr.extract.money import find_amounts, parse_money
from tests.extract_fixtures import ASE

RULES = VendorRules()


def read(body: str, spot: float | None = 80.0, title: str = "<h1>2026 1 oz American Silver Eagle</h1>"):
    html = f"<html><body>{title}{body}</body></html>"
    return extract_offer(PageContent(url="https://d.test/ase", html=html), ASE, RULES, spot)


@pytest.mark.parametrize(
    ("text", "value"),
    [("$5,019.50", 5019.50), ("$ 95", 95.0), ("US$95.49 each", 95.49), ("only $1,234,567.00", 1234567.0),
     ("$95.4", 95.4), ("Price $88", 88.0), ("$1,0", None), ("$12345678", None), ("no money", None),
     ("Gold $5,019.50", None), ("Silver Ask: $80.59", None), ("GOLD SPOT PRICE $5,019", None)],
)
def test_parse_money(text, value):
    assert parse_money(text) == value


def test_ticker_quotes_are_skipped_but_the_product_price_on_the_line_is_kept():
    amounts = find_amounts("Silver $80.59 Gold $5,019.50 | Our price $95.49")
    assert [amount.value for amount in amounts] == [95.49]


@pytest.mark.parametrize(
    ("body", "price", "evidence"),
    [
        ("<div>Regular price $91.50 Sale price $89.95</div>", 89.95, "Regular price $91.50 Sale price $89.95"),
        ("<div>Sale price</div><div>$89.95</div><div>Regular price $91.50</div>", 89.95, "Sale price $89.95"),
        ("<div>Regular price</div><div>$91.50 USD</div>", 91.50, "Regular price $91.50 USD"),
        ("<div>Our Price: $95.49</div>", 95.49, "Our Price: $95.49"),
        ("<div>Your price $95.49</div>", 95.49, "Your price $95.49"),
        ("<td>Price:</td><td>$95.49</td>", 95.49, "Price: $95.49"),
        ("<div>Price</div><div>$95.49</div>", 95.49, "Price $95.49"),
    ],
)
def test_labelled_prices(body, price, evidence):
    finding = read(body)
    assert (finding.price, finding.rule, finding.evidence) == (price, "label", evidence)


def test_sale_price_out_of_band_falls_back_to_the_regular_price_of_the_same_product():
    finding = read("<div>Sale price $0.00</div><div>Regular price $91.50</div>")
    assert (finding.price, finding.rule) == (91.50, "label")


@pytest.mark.parametrize(
    "noise",
    ["<div>Silver spot price: $80.59</div>", "<div>Compare at price: $99.99</div>", "<div>Card price: $99.31</div>",
     "<div>Unit price $0.03 per gram</div>", "<div>Price: As low as $86.10</div>"],
)
def test_labels_of_other_numbers_are_not_the_price(noise):
    finding = read(f"{noise}<div>Our price $95.49</div>")
    assert (finding.price, finding.rule) == (95.49, "label")


def test_as_low_as_next_to_the_unit_price():
    finding = read("<div class='price'>$95.49</div><div>As low as $91.00</div>")
    assert (finding.price, finding.rule) == (95.49, "prose")
    label = read("<div>As Low As $91.00</div><div>Price: $95.49</div>")
    assert (label.price, label.rule) == (95.49, "label")


def test_bulk_price_alone_is_never_the_unit_price():
    finding = read("<div>As Low As</div><div>$91.00</div>")
    assert (finding.price, finding.failure, finding.rule) == (None, "no_price", "bulk")
    assert finding.detail == "only a bulk price (As Low As $91.00) found; not a unit price"


def test_prose_needs_one_unambiguous_amount():
    one = read("<p>2026 series, BU condition.</p><p>$95.49</p><p>Ships in 1-2 days.</p>")
    assert (one.price, one.rule, one.evidence) == (95.49, "prose", "$95.49")
    two = read("<p>$95.49</p><p>$98.12</p>")
    assert (two.price, two.failure) == (None, "no_price")
    assert two.detail == "several plausible amounts near the title ($95.49, $98.12); not guessing"


def test_prose_ignores_promotions_shipping_and_out_of_band_amounts():
    body = ("<p>$95.49</p><p>Free shipping on orders over $199</p><p>Save $5 today</p>"
            "<p>Earn $2.00 cash back</p><p>$1.99 capsule</p>")
    assert read(body).price == 95.49


def test_prose_near_the_add_to_cart_button_without_a_title():
    body = "<div>Lots of text</div>" * 30 + "<div>$95.49</div><button>Add to Cart</button>"
    finding = read(body, title="")
    assert (finding.price, finding.rule) == (95.49, "prose")


def test_prose_is_not_used_after_an_out_of_band_labelled_price():
    finding = read("<div>Price: $31.20</div><p>$95.49</p>")
    assert (finding.price, finding.failure) == (None, "out_of_band")
    assert finding.detail == "price 31.20 (label) outside band 72.00-240.00 (spot) for ase"


def test_no_price_at_all():
    finding = read("<p>A fine coin.</p>")
    assert (finding.price, finding.failure) == (None, "no_price")
    assert finding.detail == "no price found (structured data, tables, labels, text near the title)"
