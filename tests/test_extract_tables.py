"""Pricing tables: first quantity tier, preferred payment column, in every shape dealers use."""

from __future__ import annotations

import pytest

from staktrakr.catalog import VendorRules
from staktrakr.extract.readings import Reading, Role
from staktrakr.extract.regions import prepare_html
from staktrakr.extract.tables import html_table_readings, markdown_table_readings, parse_tier, read_grid
from staktrakr.extract.tier_text import flat_tier_readings
from staktrakr.extract.views import markdown_view

RULES = VendorRules()


def chosen(readings: list[Reading]) -> Reading | None:
    """A grid's chosen cell is its first reading."""
    return readings[0] if readings else None


def flat_tier_candidate(lines: list[str], rules: VendorRules) -> Reading | None:
    return chosen(flat_tier_readings(lines, rules))


def md_price(markdown: str, rules: VendorRules = RULES) -> float | None:
    view = markdown_view(markdown, rules)
    found = chosen(markdown_table_readings(view.main_lines, rules))
    return found.amount if found else None


def html_price(body: str, rules: VendorRules = RULES) -> float | None:
    page = prepare_html(f"<html><body><h1>1 oz Silver Eagle</h1>{body}</body></html>", rules)
    found = chosen(html_table_readings(page.tree, rules))
    return found.amount if found else None


@pytest.mark.parametrize(
    ("cell", "lowest"),
    [("1-9", 1), ("1 - 24", 1), ("1–19", 1), ("1 to 9", 1), ("1+", 1), ("Qty 1-19", 1), ("(1-9)", 1),
     ("1-9 coins", 1), ("25+", 25), ("500 or more", 500), ("Any Qty", 1), ("10-24", 10)],
)
def test_tier_cells(cell, lowest):
    assert parse_tier(cell).lowest_quantity == lowest


@pytest.mark.parametrize("cell", ["1 oz", "2026", "$95.49", "Check/Wire", "", "1/10 oz", "Year 1-9 of the series"])
def test_not_tier_cells(cell):
    assert parse_tier(cell) is None


def test_markdown_grid_picks_check_wire_even_when_card_comes_first():
    markdown = """# Eagle
| Qty | Card/PayPal | (e)Check/Wire |
|---|---|---|
| 1-9 | $99.31 | $95.49 |
| 10+ | $98.00 | $94.00 |
"""
    assert md_price(markdown) == 95.49


def test_markdown_grid_takes_the_first_tier_even_when_listed_last():
    markdown = """# Eagle
| Quantity | Check/Wire |
|---|---|
| 500+ | $90.00 |
| 1-19 | $95.49 |
"""
    assert md_price(markdown) == 95.49


def test_price_columns_order_is_the_preference():
    markdown = """# Eagle
| Qty | Bitcoin | Check |
|---|---|---|
| 1-9 | $93.00 | $95.49 |
"""
    assert md_price(markdown) == 95.49
    assert md_price(markdown, VendorRules(price_columns=["bitcoin", "check"])) == 93.00


def test_html_grid_with_header_missing_the_quantity_cell():
    body = """<table><tr><th>Check/Wire</th><th>Credit Card</th></tr>
    <tr><td>1-24</td><td>$95.49</td><td>$99.31</td></tr></table>"""
    assert html_price(body) == 95.49


def test_html_grid_without_payment_headers_gives_no_unit_price_from_two_columns():
    """Two price columns and no payment headers: either could be the card column."""
    body = """<table><tr><td>1-19</td><td>$95.49</td><td>$99.31</td></tr>
    <tr><td>20+</td><td>$94.49</td><td>$98.27</td></tr></table>"""
    page = prepare_html(f"<html><body><h1>1 oz Silver Eagle</h1>{body}</body></html>", RULES)
    assert {reading.role for reading in html_table_readings(page.tree, RULES)} == {Role.OTHER_CELL}
    one_column = body.replace("<td>$99.31</td>", "").replace("<td>$98.27</td>", "")
    assert html_price(one_column) == 95.49


def test_html_grid_with_only_avoided_columns_gives_nothing():
    body = """<table><tr><th>Qty</th><th>Credit Card</th><th>PayPal</th></tr>
    <tr><td>1-24</td><td>$99.31</td><td>$99.99</td></tr></table>"""
    assert html_price(body) is None


def test_transposed_grid_tiers_as_columns():
    body = """<table>
    <tr><th>Payment</th><th>1-9</th><th>10-49</th><th>50+</th></tr>
    <tr><td>Credit Card</td><td>$99.31</td><td>$98.27</td><td>$97.00</td></tr>
    <tr><td>Check/Wire</td><td>$95.49</td><td>$94.49</td><td>$93.27</td></tr>
    </table>"""
    assert html_price(body) == 95.49


def test_quantity_header_allows_bare_integer_tiers():
    body = """<table><tr><th>Quantity</th><th>Wire</th></tr>
    <tr><td>1</td><td>$95.49</td></tr><tr><td>20</td><td>$94.00</td></tr></table>"""
    assert html_price(body) == 95.49


def test_spec_and_spot_tables_are_not_price_grids():
    body = """<table><tr><th>Year</th><td>2026</td></tr><tr><th>Weight</th><td>1 oz</td></tr></table>
    <table><tr><td>Gold</td><td>$5,019.50</td></tr><tr><td>Silver</td><td>$80.59</td></tr></table>"""
    assert html_price(body) is None


def test_nested_tables_read_their_own_rows():
    body = """<table><tr><td><table><tr><th>Qty</th><th>Check</th></tr><tr><td>1-9</td><td>$95.49</td></tr></table>
    </td></tr></table>"""
    assert html_price(body) == 95.49


def test_flattened_grid_one_price_per_column():
    lines = ["Quantity", "(e)Check/Wire", "Crypto", "Card/PayPal", "1-9", "$95.49", "$95.49", "$99.31",
             "10-24", "$94.99", "$94.99", "$98.79"]
    found = flat_tier_candidate(lines, RULES)
    assert (found.amount, found.rule) == (95.49, "tier_text")


def test_flattened_grid_card_column_first():
    lines = ["Card/PayPal", "(e)Check/Wire", "1-9", "$99.31", "$95.49"]
    assert flat_tier_candidate(lines, RULES).amount == 95.49


def test_flattened_grid_tier_and_prices_on_one_line():
    lines = ["(e)Check/Wire", "1-9 $95.49", "10-24 $94.99"]
    assert flat_tier_candidate(lines, RULES).amount == 95.49


def test_flattened_grid_with_mismatched_counts_only_trusts_the_first_column():
    assert flat_tier_candidate(["(e)Check/Wire", "Card/PayPal", "1-9", "$95.49"], RULES).amount == 95.49
    assert flat_tier_candidate(["Card/PayPal", "(e)Check/Wire", "1-9", "$99.31"], RULES) is None


def test_read_grid_ignores_blank_rows():
    rows = [["", ""], ["Qty", "Check/Wire"], ["1-9", "$95.49"]]
    found = chosen(read_grid(rows, RULES, "table"))
    assert (found.amount, found.evidence, found.role) == (95.49, "1-9 | Check/Wire: $95.49", Role.CHECK_WIRE)
