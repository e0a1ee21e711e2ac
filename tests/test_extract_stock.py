"""Stock status from buttons and phrases, and the failures when no price is shown."""

from __future__ import annotations

import pytest

from staktrakr.catalog import VendorRules
from staktrakr.extract import PageContent, extract_offer
from tests.extract_fixtures import ASE

RULES = VendorRules(cut_selectors=["header", "nav", "footer"], cut_after=["Similar Products You May Like"])


def read(body: str, rules: VendorRules = RULES, markdown: bool = False):
    if markdown:
        return extract_offer(PageContent(url="https://d.test/ase", markdown=body), ASE, rules, 80.0)
    html = f"<html><body><h1>2026 1 oz American Silver Eagle</h1>{body}</body></html>"
    return extract_offer(PageContent(url="https://d.test/ase", html=html), ASE, rules, 80.0)


@pytest.mark.parametrize(
    "phrase",
    ["Out of Stock", "SOLD OUT", "Currently unavailable", "Notify me when available", "Email when in stock",
     "Temporarily out of stock", "Back Order", "Backorder", "Not in stock"],
)
def test_out_of_stock_phrases_keep_the_price(phrase):
    finding = read(f"<div>Price: $95.49</div><p class='status'>{phrase}</p>")
    assert (finding.price, finding.in_stock, finding.failure) == (95.49, False, None)
    assert finding.stock_evidence == f"page text: {phrase}"


@pytest.mark.parametrize("phrase", ["Pre-Order", "Preorder now", "Pre order: ships 03/15", "Presale"])
def test_preorder_phrases(phrase):
    body = f"<div>Price: $95.49</div><p>{phrase}</p>"
    assert read(body).in_stock is False
    assert read(body, RULES.model_copy(update={"preorder_ok": True})).in_stock is True


def test_price_without_any_stock_signal_is_in_stock():
    finding = read("<div>Price: $95.49</div>")
    assert (finding.price, finding.in_stock, finding.stock_evidence) == (95.49, True, None)


def test_in_stock_words_are_the_evidence():
    assert read("<div>Price: $95.49</div><p>In Stock</p>").stock_evidence == "page text: In Stock"


def test_stock_words_in_nav_footer_and_carousel_are_cut():
    body = """<nav><a href="/sold-out">Sold Out Deals</a> <a href="/pre-order">Pre-Order</a></nav>
      <div>Price: $95.49</div>
      <h2>Similar Products You May Like</h2><div>1/2 oz Eagle $45.00 <span>Out of stock</span></div>
      <footer>Out of stock items ship when restocked</footer>"""
    finding = read(body)
    assert (finding.price, finding.in_stock) == (95.49, True)


def test_policy_sentence_mentioning_out_of_stock_is_not_the_status():
    body = ("<div>Price: $95.49</div><p>If an item you ordered is out of stock when we process your order, we "
            "will contact you to offer a refund or an equivalent product.</p>")
    assert read(body).in_stock is True


def test_back_in_stock_form_on_a_buyable_page_does_not_mark_it_out_of_stock():
    body = """<div>Price: $95.49</div><button class="add-to-cart">Add to Cart</button>
      <form class="price-alert"><p>Notify me when available in tubes</p><input type="email"></form>"""
    assert read(body).in_stock is True


def test_wait_list_phrase_without_a_cart_is_out_of_stock():
    assert read("<div>Price: $95.49</div><p>Notify me when available</p>").in_stock is False


def test_enabled_cart_button_outweighs_a_css_hidden_sold_out_badge():
    body = """<div>Price: $95.49</div><span class="badge price__badge-sold-out">Sold out</span>
      <button type="submit" name="add">Add to cart</button>"""
    finding = read(body)
    assert (finding.in_stock, finding.stock_evidence) == (True, "button: add to cart")


def test_hidden_elements_are_not_read():
    body = """<div>Price: $95.49</div><p hidden>Sold out</p><p style="display: none">Out of stock</p>"""
    assert read(body).in_stock is True


@pytest.mark.parametrize(
    ("button", "evidence"),
    [
        ("<button disabled>Add to Cart</button>", "disabled button: add to cart"),
        ("<button class='btn disabled'>Add to Cart</button>", "disabled button: add to cart"),
        ("<button>Notify Me</button>", "button: notify me"),
        ("<button>Sold Out</button>", "button: sold out"),
        ("<input type='submit' value='Out of Stock'>", "button: out of stock"),
    ],
)
def test_purchase_button_says_not_buyable(button, evidence):
    finding = read(f"<div>Price: $95.49</div>{button}")
    assert (finding.price, finding.in_stock, finding.stock_evidence) == (95.49, False, evidence)


def test_first_purchase_button_after_the_title_decides_not_the_carousel():
    body = """<div>Price: $95.49</div><button>Notify Me</button>
      <div class="related"><div>2026 1 oz Britannia $92.00 <button>Add to Cart</button></div></div>"""
    assert read(body).in_stock is False


def test_out_of_stock_without_a_price_is_an_out_of_stock_failure():
    finding = read("<p>Sold Out</p>")
    assert (finding.price, finding.in_stock, finding.failure) == (None, False, "out_of_stock")
    assert finding.detail == "out of stock, no price shown (page text: Sold Out)"
    assert (finding.rule, finding.evidence) == ("stock", "page text: Sold Out")


def test_preorder_without_a_price():
    finding = read("<p>Pre-Order</p>")
    assert (finding.price, finding.in_stock, finding.failure) == (None, False, "preorder")
    tolerated = read("<p>Pre-Order</p>", RULES.model_copy(update={"preorder_ok": True}))
    assert (tolerated.failure, tolerated.in_stock) == ("no_price", True)


def test_markdown_stock_phrases():
    markdown = "# 2026 1 oz American Silver Eagle\n\nPrice: $95.49\n\n**Sold Out**\n"
    finding = read(markdown, markdown=True)
    assert (finding.price, finding.in_stock) == (95.49, False)


def test_markdown_add_to_cart_link_outweighs_wait_list_text():
    markdown = ("# 2026 1 oz American Silver Eagle\n\nPrice: $95.49\n\n[Add to Cart](https://d.test/cart)\n\n"
                "Email me when in stock for other sizes\n")
    assert read(markdown, markdown=True).in_stock is True
