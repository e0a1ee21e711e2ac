"""Cut regions, fractional titles (wrong product), sanity bands, empty pages."""

from __future__ import annotations

import math

import pytest
from pydantic import ValidationError

from staktrakr.catalog import Coin, VendorRules
from staktrakr.extract import PageContent, extract_offer
from staktrakr.extract.regions import prepare_html
from staktrakr.extract.views import markdown_view
from staktrakr.extract.weights import fractional_weight, names_fraction_of_full_ounce
from staktrakr.rules.bands import FIXED_BANDS_PER_OZ, price_band
from tests.extract_fixtures import AGE, ASE

TENTH_AGE = Coin(slug="age-tenth", name="American Gold Eagle 1/10 oz", metal="gold", weight_oz=0.1, providers=[])
BAR = Coin(slug="bar", name="Generic Silver Bar 10 oz", metal="silver", weight_oz=10, providers=[])
G1 = Coin(slug="goldback-utah-g1", name="G1 Utah Goldback", metal="goldback", weight_oz=1, providers=[])
JM_DATE_LINE = r"^.*\b[A-Z][a-z]{2} \d{1,2}, \d{4} at \d{1,2}:\d{2} (EST|EDT)\b.*$"


DEFAULT_RULES = VendorRules()


def read(html: str, coin: Coin = ASE, rules: VendorRules = DEFAULT_RULES, spot: float | None = 80.0):
    return extract_offer(PageContent(url="https://d.test/x", html=html), coin, rules, spot)


# Cutting ------------------------------------------------------------------------------------


def test_cut_selectors_remove_the_header_ticker():
    html = """<html><body><div class="spot-ticker-bar">Spot $80.59 today</div>
      <h1>2026 1 oz American Silver Eagle</h1><p>$95.49</p></body></html>"""
    view = prepare_html(html, VendorRules(cut_selectors=["[class*=spot-ticker]"])).view
    assert view.lines == ["2026 1 oz American Silver Eagle", "$95.49"]


def test_bad_css_selector_is_refused_by_the_catalog_and_skipped_by_extraction():
    with pytest.raises(ValidationError, match="bad CSS selector"):
        VendorRules(cut_selectors=["[[bad"])
    unvalidated = VendorRules.model_construct(**{**VendorRules().model_dump(), "cut_selectors": ["[[bad", "p"]})
    page = prepare_html("<html><body><h1>T</h1><p>x</p></body></html>", unvalidated)
    assert page.view.lines == ["T"]


def test_cut_patterns_drop_the_jmbullion_date_line_from_html_and_markdown():
    rules = VendorRules(cut_patterns=[JM_DATE_LINE])
    html = "<html><body><div>Silver $80.59 Feb 21, 2026 at 13:30 EST</div><h1>Eagle</h1><p>x</p></body></html>"
    assert prepare_html(html, rules).view.lines == ["Eagle", "x"]
    markdown = "Feb 21, 2026 at 13:30 EST\n\n# Eagle\n\nx\n"
    assert markdown_view(markdown, rules).lines == ["Eagle", "x"]


def test_cut_after_drops_everything_after_the_marker():
    html = """<html><body><main><h1>Eagle</h1><p>$95.49</p>
      <section><div><h2>Similar Products You May Like</h2><p>1/10 oz $569</p></div><p>more</p></section>
      <p>after section</p></main><p>after main</p></body></html>"""
    page = prepare_html(html, VendorRules(cut_after=["similar products you may like"]))
    assert page.view.lines == ["Eagle", "$95.49"]
    assert page.view.cut_markers == ["similar products you may like"]


def test_cut_after_marker_above_the_title_is_ignored():
    html = """<html><body><div><h3>Recently Viewed</h3><p>1/10 oz $569</p></div>
      <h1>Eagle</h1><p>$95.49</p><h2>Recently Viewed</h2><p>1/2 oz $45</p></body></html>"""
    page = prepare_html(html, VendorRules(cut_after=["Recently Viewed"]))
    assert page.view.lines == ["Recently Viewed", "1/10 oz $569", "Eagle", "$95.49"]
    assert page.view.main_lines == ["Eagle", "$95.49"]


def test_cut_after_ignores_sentences_that_merely_mention_the_marker():
    html = """<html><body><h1>Eagle</h1><p>See our related products section below for tubes, rolls and monster
      boxes of this coin.</p><p>$95.49</p></body></html>"""
    assert "$95.49" in prepare_html(html, VendorRules(cut_after=["related products"])).view.lines


def test_markdown_cut_after_and_header_region():
    markdown = "Gold $5,019.50\n\n# Eagle\n\n$95.49\n\n## Customers Also Purchased\n\n$569.99\n"
    view = markdown_view(markdown, VendorRules(cut_after=["Customers Also Purchased"]))
    assert view.main_lines == ["Eagle", "$95.49"]
    assert view.cut_markers == ["Customers Also Purchased"]


def test_related_carousel_prices_are_not_the_price():
    html = """<html><body><h1>2026 1 oz American Silver Eagle</h1><p>Call for price</p>
      <h2>Similar Products You May Like</h2><div>2026 1 oz Silver Britannia <span>$92.10</span></div>
      </body></html>"""
    cut = read(html, rules=VendorRules(cut_after=["Similar Products You May Like"]))
    assert (cut.price, cut.failure) == (None, "no_price")
    uncut = read(html)  # without the cut, the card's line is a name with an amount, not a price standing alone
    assert (uncut.price, uncut.failure) == (None, "no_price")
    assert [r["verdict"] for r in uncut.readings if r["amount"] == 92.10] == ["not a unit price (mention)"]


# Wrong product --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("title", "fraction"),
    [("2026 1/10 oz American Gold Eagle", 0.1), ("1/2oz Gold Buffalo", 0.5), ("½ oz Gold Maple", 0.5),
     ("Half Ounce Gold Eagle", 0.5), ("Tenth-Ounce Gold Eagle", 0.1), ("0.25 oz Platinum Eagle", 0.25),
     ("1/4 Troy Oz Gold Krugerrand", 0.25), ("Gold Eagle 1/20 ozt", 0.05)],
)
def test_fractional_titles(title, fraction):
    assert fractional_weight(title)[0] == fraction


@pytest.mark.parametrize(
    "title", ["2026 1 oz American Gold Eagle", "10 oz Silver Bar", "2 oz Silver Round", "1 Kilo Silver Bar",
              "Goldback 1 - Utah (1/1000th oz 24K Gold)", "Eagle 2026/2027 Edition 1 oz"],
)
def test_full_weight_titles(title):
    assert fractional_weight(title) is None


def test_fraction_only_matters_for_full_ounce_coins():
    assert names_fraction_of_full_ounce("1/10 oz Gold Eagle", 1.0)
    assert names_fraction_of_full_ounce("1/2 oz Silver Bar", 10.0)
    assert not names_fraction_of_full_ounce("1/10 oz Gold Eagle", 0.1)


def test_wrong_product_page_and_not_for_fractional_coins():
    html = "<html><body><h1>2026 1/10 oz American Gold Eagle</h1><p>Price: $569.99</p></body></html>"
    wrong = read(html, coin=AGE, spot=5000.0)
    assert (wrong.price, wrong.failure) == (None, "wrong_product")
    right = read(html, coin=TENTH_AGE, spot=5000.0)
    assert (right.price, right.failure) == (569.99, None)


def test_nav_links_to_fractional_coins_are_not_the_title():
    html = """<html><body><nav><a>1/10 oz Gold Eagles</a></nav><h1>2026 1 oz American Gold Eagle</h1>
      <p>Price: $5,189.00</p></body></html>"""
    assert read(html, coin=AGE, rules=VendorRules(cut_selectors=["nav"]), spot=5000.0).price == 5189.00


def test_wrong_product_from_markdown_title():
    markdown = "# 1/4 oz American Gold Eagle\n\nPrice: $1,379.00\n"
    finding = extract_offer(PageContent(url="https://d.test/x", markdown=markdown), AGE, VendorRules(), 5000.0)
    assert finding.failure == "wrong_product"


# Sanity bands -----------------------------------------------------------------------------------


def test_spot_bands():
    assert (price_band(ASE, 80.0).low, price_band(ASE, 80.0).high) == (72.00, 240.00)
    assert (price_band(BAR, 80.0).low, price_band(BAR, 80.0).high) == (720.00, 2400.00)
    g1 = price_band(G1, 5000.0)  # melt = 5000 / 1000 = 5.00; 1x-4x
    assert (g1.low, g1.high, g1.basis) == (5.00, 20.00, "spot")


@pytest.mark.parametrize("spot", [None, 0.0, -5.0, math.nan, math.inf])
def test_fixed_bands_without_a_usable_spot(spot):
    for metal, (low, high) in FIXED_BANDS_PER_OZ.items():
        coin = Coin(slug="c", name="c", metal=metal, weight_oz=2, providers=[])
        band = price_band(coin, spot)
        assert (band.low, band.high, band.basis) == (low * 2, high * 2, "fixed")


@pytest.mark.parametrize(("price", "ok"), [("72.00", True), ("240.00", True), ("71.99", False), ("240.01", False)])
def test_band_edges_are_inclusive(price, ok):
    finding = read(f"<html><body><h1>2026 1 oz American Silver Eagle</h1><p>Price: ${price}</p></body></html>")
    assert finding.ok is ok
    if not ok:
        assert finding.failure == "out_of_band"


def test_out_of_band_names_price_and_band():
    finding = read("<html><body><h1>Eagle</h1><p>Price: $5,019.50</p></body></html>")
    assert finding.detail == "price 5,019.50 (label) outside band 72.00-240.00 (spot) for ase"
    fixed = read("<html><body><h1>Eagle</h1><p>Price: $31.20</p></body></html>", spot=None)
    assert fixed.detail == "price 31.20 (label) outside band 40.00-200.00 (fixed) for ase"


def test_goldback_g1_at_ten_dollars():
    html = "<html><body><h1>Utah Goldback 1</h1><p>Price: $10.00</p></body></html>"
    assert read(html, coin=G1, spot=5000.0).price == 10.00
    assert read(html, coin=G1, spot=None).price == 10.00
    assert read(html.replace("$10.00", "$4.99"), coin=G1, spot=5000.0).failure == "out_of_band"


# Empty pages ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content",
    [{"html": ""}, {"html": "   "}, {"html": "<html><body></body></html>"}, {"markdown": ""},
     {"html": "<html><body><script>var p = '$95.49';</script></body></html>"}, {}],
)
def test_empty_pages_have_no_price(content):
    finding = extract_offer(PageContent(url="https://d.test/x", **content), ASE, VendorRules(), 80.0)
    assert (finding.price, finding.failure) == (None, "no_price")
    assert finding.detail == "page is empty (no visible text)"
