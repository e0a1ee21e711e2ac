"""More pages of each failure kind, written from an outside attack on the extraction: each row is
a page a careful human reads one way; the reader must agree or fail honestly."""

from __future__ import annotations

import json

import pytest

from staktrakr.catalog import Coin, VendorRules
from staktrakr.extract import PageContent, extract_offer
from tests.extract_fixtures import AGE, ASE, CATALOG

RULES = CATALOG.rules_for("apmex").model_copy(update={"preorder_ok": False})
TITLE = "<h1>American Silver Eagle 1 oz Coin (BU)</h1>"
BUY = "<button>Add to Cart</button>"
FAIL = None


def read(body: str = "", head: str = "", markdown: str | None = None, coin: Coin = ASE, rules: VendorRules = RULES):
    html = f"<html><head>{head}</head><body>{TITLE}{body}{BUY}</body></html>" if markdown is None else None
    spot = 80.0 if coin.metal == "silver" else 5000.0
    return extract_offer(PageContent(url="https://dealer.test/p/ase", html=html, markdown=markdown), coin, rules, spot)


def jsonld(offers: object, name: str = "American Silver Eagle 1 oz Coin (BU)", **extra: object) -> str:
    product = {"@context": "https://schema.org", "@type": "Product", "name": name, "offers": offers, **extra}
    return f'<script type="application/ld+json">{json.dumps(product)}</script>'


@pytest.mark.parametrize("price", ['1e400', '"Infinity"', '"1' + "0" * 400 + '"', "NaN"])
def test_a_non_finite_or_huge_structured_price_is_no_price_not_a_crash(price):
    head = ('<script type="application/ld+json">{"@type": "Product", "name": "American Silver Eagle 1 oz Coin (BU)", '
            f'"offers": {{"@type": "Offer", "price": {price}}}}}</script>')
    assert read("<p>Price: $86.39</p>", head=head).price == 86.39


@pytest.mark.parametrize(("body", "markdown", "expected"), [
    ("<table><tr><th>Quantity</th><th>Check/Wire</th><th>Credit Card</th></tr>"
     "<tr><td>1-19</td><td>$86.39</td><td>$89.85</td><td></td></tr></table>", None, 86.39),
    ("", "# American Silver Eagle 1 oz Coin (BU)\n\n| Quantity | Check/Wire | Credit Card |\n|---|---|---|\n"
     "| 1-19 | $86.39 | $89.85 | |\n", 86.39),
    ("", "# American Silver Eagle 1 oz Coin (BU)\n\n| Qty | Credit Card | eCheck |\n|:-:|:-:|:-:|\n"
     "| 1-19 | $89.85 | $86.39 |\n", 86.39),
    ("<table><tr><th>Qty</th><th>Check/Wire</th><th>Card</th></tr><tr><td>1 coin</td><td>$86.39</td>"
     "<td>$89.85</td></tr><tr><td>2-19 coins</td><td>$86.09</td><td>$89.50</td></tr></table>", None, 86.39),
    ("<table><tr><th>Buy</th><th>Check/Wire</th><th>Card/PayPal</th></tr><tr><td>1</td><td>$86.39</td>"
     "<td>$89.85</td></tr><tr><td>20</td><td>$85.89</td><td>$89.30</td></tr></table>", None, 86.39),
    ("<div>Check/Wire</div><div>Card</div><div>500+</div><div>$84.99</div><div>$88.40</div>"
     "<div>1-99</div><div>$86.39</div><div>$89.85</div>", None, 86.39),
    ("<div>Crypto: $86.59</div><div>Check/Wire: $86.39</div><div>Card: $89.85</div>", None, 86.39),
    ("<p>Pay $86.39 by check, $89.85 by card</p>", None, 86.39),
])
def test_pricing_tables_and_payment_lines_in_odd_shapes(body, markdown, expected):
    finding = read(body, head=jsonld({"@type": "Offer", "price": "89.85"}) if body else "", markdown=markdown)
    assert (finding.price, finding.failure) == (expected, None)


def test_shown_price_with_a_check_wire_discount_note_is_a_card_price():
    finding = read("<div>$89.85</div><p>Credit card price. Save 4% when paying by check or wire.</p>",
                   head=jsonld({"@type": "Offer", "price": "89.85"}))
    assert (finding.price, finding.failure) == (None, "no_price")
    assert "check/wire" in finding.detail


@pytest.mark.parametrize("card", [
    "<div class='product-grid'><div itemscope itemtype='https://schema.org/Product'>"
    "<span itemprop='name'>2024 American Silver Eagle 1 oz Proof Coin</span>"
    "<span itemprop='price' content='139.99'>$139.99</span></div></div>",
    "<section class='productGrid'><article itemscope itemtype='https://schema.org/Product'><h4 itemprop='name'>"
    "American Silver Eagle 1 oz Coin (MS-70, PCGS)</h4><span itemprop='price'>$124.99</span></article></section>",
    "<div class='products-list'><div vocab='https://schema.org/' typeof='Product'><span property='name'>"
    "2024 American Silver Eagle 1 oz Proof</span><span property='price' content='139.99'>$139.99</span></div></div>",
    "<div class='bundle'><h3>Deal of the day: Silver Buffalo Round</h3><div itemscope "
    "itemtype='https://schema.org/Offer'><span itemprop='price'>$79.99</span></div></div>",
])
def test_another_products_structured_card_after_the_buy_area_is_never_the_price(card):
    html = f"<html><body>{TITLE}<div class='price'>$86.39</div>{BUY}{card}</body></html>"
    finding = extract_offer(PageContent(url="https://dealer.test/p/ase", html=html), ASE, RULES, 80.0)
    assert finding.price in (86.39, FAIL)


@pytest.mark.parametrize("noise", [
    "<div class='collection-grid'><h3>Pairs well with</h3><p>Silver Buffalo Round Sale price $79.99</p></div>",
    "<p>Looking for the proof? Proof Silver Eagle sale price: $139.99</p>",
    "<ul><li>Issue Price: $99.95</li></ul>",
    "<p>Check/Wire minimum: $100.00</p>",
    "<p>Special Price $84.19 (min. qty 20)</p>",
    "<p>Bundle sale price (3 coins): $239.00</p>",
    "<p>Buyback price: $78.10</p>",
])
def test_labels_inside_sentences_other_products_and_other_numbers_are_not_the_price(noise):
    finding = read(f"<div><span>Regular price</span> <span>$86.39</span></div>{noise}")
    assert finding.price in (86.39, FAIL)


def test_glued_regular_and_sale_labels_in_one_text_node():
    assert read("<div>Regular price$99.00Sale price$86.39</div>").price == 86.39
    assert read("<div>MSRP:$99.00Our Price:$86.39</div>").price == 86.39


@pytest.mark.parametrize("shown", [
    "<p>C $118.40</p>", "<p>CA $118.40</p>", "<p>AU $129.50</p>", "<p>CDN$118.40</p>", "<p>$118.40 (CAD)</p>",
    "<p>Price: $118.40 Canadian</p>", "<p>Price (CAD): $118.40</p>",
    "<div>$118.40</div><div class='currency-code'>CAD</div>", "<p>$118.40</p><p>All prices in Canadian dollars.</p>",
    "<p>$118.40</p><select name='currency'><option>USD</option><option selected>CAD</option></select>",
])
def test_pages_priced_in_another_dollar_fail_with_wrong_currency(shown):
    finding = read(shown)
    assert (finding.price, finding.failure) == (None, "wrong_currency")


def test_a_converted_amount_on_a_us_dollar_page_is_not_its_currency():
    finding = read("<div class='price'>$86.39</div><div class='converted'>approx. €79,50 / £68.20</div>")
    assert (finding.price, finding.failure) == (86.39, None)


@pytest.mark.parametrize("sentence", [
    "Compare to $99.00 at other dealers", "Last sold for $84.90", "Price match guarantee up to $100",
])
def test_an_amount_in_a_sentence_is_not_a_price_when_the_price_is_missing(sentence):
    finding = read(f"<div class='price'>Loading price…</div><p>{sentence}</p>")
    assert (finding.price, finding.failure) == (None, "no_price")


def test_meta_price_disagreeing_with_the_price_shown_is_a_conflict():
    finding = read("<div class='price'>$86.39</div>", head='<meta property="og:price:amount" content="84.99">')
    assert (finding.price, finding.failure) == (None, "conflicting_prices")


def test_a_title_naming_another_whole_weight_is_the_wrong_product():
    html = f"<html><body><h1>2 oz Australian Silver Kangaroo Coin</h1><p>Price: $172.50</p>{BUY}</body></html>"
    finding = extract_offer(PageContent(url="https://dealer.test/p/x", html=html), ASE, RULES, 80.0)
    assert (finding.price, finding.failure) == (None, "wrong_product")


def test_from_price_is_a_bulk_price():
    assert read("<div class='price'>From $84.19</div><p>Volume discounts available</p>").price is None


@pytest.mark.parametrize(("noise", "in_stock"), [
    ("<p>If an item is on backorder we will email you.</p>", True),
    ("<p>Pre-order items ship separately.</p>", True),
    ("<button class='swatch' disabled>Tube of 20 - Sold out</button>", True),
    ("<button class='pill is-disabled'>2023 (Sold Out)</button>", True),
    ("<button>Notify me of price drops</button>", True),
    ("<p>Backordered - ships in 3 weeks</p>", False),
])
def test_stock_comes_from_the_status_and_the_buy_button_not_policies_or_variants(noise, in_stock):
    html = f"<html><body>{TITLE}<p>Price: $86.39</p>{noise}{BUY}</body></html>"
    finding = extract_offer(PageContent(url="https://dealer.test/p/ase", html=html), ASE, RULES, 80.0)
    assert (finding.price, finding.in_stock) == (86.39, in_stock)


def test_offers_of_one_price_are_buyable_when_any_is():
    offers = [{"@type": "Offer", "price": "86.39", "availability": "https://schema.org/OutOfStock", "name": "2023"},
              {"@type": "Offer", "price": "86.39", "availability": "https://schema.org/InStock", "name": "2025"}]
    assert read("", head=jsonld(offers)).in_stock is True
    tube = [{"@type": "Offer", "price": "1727.80", "availability": "https://schema.org/OutOfStock"},
            {"@type": "Offer", "price": "86.39", "availability": "https://schema.org/InStock"}]
    assert (read("", head=jsonld(tube)).price, read("", head=jsonld(tube)).in_stock) == (86.39, True)


def test_a_visible_sold_out_button_beats_a_stale_in_stock_offer():
    html = (f"<html><head>{jsonld({'@type': 'Offer', 'price': '86.39', 'availability': 'InStock'})}</head>"
            f"<body>{TITLE}<button disabled>Sold Out</button></body></html>")
    finding = extract_offer(PageContent(url="https://dealer.test/p/ase", html=html), ASE, RULES, 80.0)
    assert (finding.price, finding.in_stock) == (86.39, False)


def test_a_sold_out_button_of_the_selected_variant_does_not_overrule_the_unit_offers_own_state():
    # Shopify: the URL selects the tube (sold out), the single coin's offer is in stock.
    offers = [{"@type": "Offer", "name": "Single Coin", "price": "86.39", "priceCurrency": "USD",
               "availability": "https://schema.org/InStock"},
              {"@type": "Offer", "name": "Tube of 20", "price": "1727.80", "priceCurrency": "USD",
               "availability": "https://schema.org/OutOfStock"}]
    html = (f"<html><head>{jsonld(offers)}</head><body>{TITLE}<div class='price'>$1,727.80 USD</div>"
            "<form><button type='submit' disabled><span>Sold out</span></button></form></body></html>")
    finding = extract_offer(PageContent(url="https://dealer.test/p/ase?variant=2", html=html), ASE, RULES, 80.0)
    assert (finding.price, finding.in_stock) == (86.39, True)


@pytest.mark.parametrize("container", [
    '<product-recommendations class="accordion">{}</product-recommendations>',
    '<div class="complementary-products">{}</div>',
])
def test_a_sold_out_quick_add_of_a_complementary_product_is_not_the_products_stock(container):
    card = ('<div class="card"><a href="/products/capsule">Air-Tite Coin Capsule 40mm</a> <span>$2.49</span>'
            '<button type="submit" name="add" disabled>Sold out</button></div>')
    html = (f"<html><body>{TITLE}<div class='price'>$86.39</div>{container.format(card)}"
            f"<form><button type='submit' name='add'>Add to cart</button></form></body></html>")
    finding = extract_offer(PageContent(url="https://dealer.test/p/ase", html=html), ASE, RULES, 80.0)
    assert (finding.price, finding.in_stock) == (86.39, True)


@pytest.mark.parametrize(("control", "in_stock"), [
    ("Qty Notify Me", False),
    ("Notify Me", False),
    ("Notify me of price drops", True),
])
def test_a_notify_control_in_markdown_is_out_of_stock_but_a_price_alert_is_not(control, in_stock):
    markdown = f"# American Silver Eagle 1 oz Coin (BU)\n\n$86.39\n\n{control}\n\n## Description\n\nIn stock now.\n"
    if in_stock is False:
        markdown = markdown.replace("In stock now.", "Each coin contains 1 troy oz of .999 fine silver.")
    finding = read(markdown=markdown)
    assert (finding.price, finding.in_stock) == (86.39, in_stock)


@pytest.mark.parametrize("markdown_tail", [
    "Was sold out everywhere else, got mine here.\n",
    "## Customers Also Viewed\n\n[Silver Buffalo Round](https://x/y) $84.99\n\nSold Out\n",
    "- 2024 (Out of stock)\n- 2025\n",
])
def test_markdown_reviews_related_items_and_variant_lines_do_not_decide_stock(markdown_tail):
    markdown = f"# American Silver Eagle 1 oz Coin (BU)\n\nPrice: $86.39\n\nAdd to Cart\n\n{markdown_tail}"
    finding = read(markdown=markdown)
    assert (finding.price, finding.in_stock) == (86.39, True)


@pytest.mark.parametrize(("body", "head", "coin", "expected"), [
    ("<div><span class='oldprice'>$99.00</span> <span>$86.39</span></div>", "", ASE, 86.39),
    ("<div><span class='original-price'>$99.00</span> <span>$86.39</span></div>", "", ASE, 86.39),
    ("<div><span class='line-through'>$99.00</span> <span>$86.39</span></div>", "", ASE, 86.39),
    ("<div><span data-price-type='oldPrice'>$99.00</span> <span data-price-type='finalPrice'>$86.39</span></div>",
     "", ASE, 86.39),
    ("<div class='prices'><span class='regularPrice'>$99.00</span><span class='salePrice'>$86.39</span></div>",
     "", ASE, 86.39),
    ("<div class='price'>$86.39</div><div class='compare'>Was</div><div>$99.00</div>", "", ASE, 86.39),
    ("<div>$86.39</div><p>Ships free with $99 purchase</p>", "", ASE, 86.39),
    ("<div>$86.39</div><p>We Pay: $82.00</p>", "", ASE, 86.39),
    ("<div>$86.39</div><p>Buy 20 or more and pay only $84.19 each</p>", "", ASE, 86.39),
    ("<p>Price: $86.39</p><p>Price per oz: $86.39</p>", "", ASE, 86.39),
    ("<p>Price: USD 86.39</p>", "", ASE, 86.39),
    ("<p>Price: 86.39 USD</p>", "", ASE, 86.39),
    ("", jsonld({"@type": "Offer", "price": "86.39", "priceCurrency": "US$"}), ASE, 86.39),
    ("<div class='price'>$<span>86</span><span>39</span></div>", "", ASE, 86.39),
    ("<div class='price'><span>$86.39</span><span>250 in stock</span></div>", "", ASE, 86.39),
    ("<div class='price'>$86\u200b.39</div>", "", ASE, 86.39),
    ("<div class='price'><span class='was'><s>$5,250<sup>00</sup></s></span> <span>$5,163<sup>42</sup></span></div>",
     "", AGE, 5163.42),
])
def test_clear_prices_in_less_common_markup_are_read(body, head, coin, expected):
    finding = read(body, head=head, coin=coin)
    assert (finding.price, finding.failure) == (expected, None)


def test_deep_nesting_and_content_after_a_stray_body_end_are_read():
    deep = "<div>" * 300 + "<p>Price: $86.39</p>" + "</div>" * 300
    assert read(deep).price == 86.39
    html = f"<html><body>{TITLE}</body></html><p>Price: $86.39</p>{BUY}"
    assert extract_offer(PageContent(url="https://d.test/ase", html=html), ASE, RULES, 80.0).price == 86.39


# A second outside attack ------------------------------------------------------------------------


@pytest.mark.parametrize("after_buy", [
    "<h2>Shop more silver</h2><div>2023 Maple</div><div>Sale price $79.99 USD Regular price <s>$84.99</s></div>",
    "<div class='more-perth'><h3>More from the Perth Mint</h3><div>Kookaburra 1 oz Our Price: $87.49</div></div>",
    "<h2>Other Silver Coins</h2><p>Silver Buffalo Price: $84.99</p>",
])
def test_labels_past_the_products_buy_area_are_another_products(after_buy):
    html = f"<html><body>{TITLE}<div class='price'>$86.39</div>{BUY}{after_buy}</body></html>"
    finding = extract_offer(PageContent(url="https://dealer.test/p/ase", html=html), ASE, RULES, 80.0)
    assert (finding.price, finding.failure) == (86.39, None)


def test_a_sold_out_page_without_its_own_price_does_not_take_a_tiles_price():
    html = (f"<html><body>{TITLE}<p>This item is sold out.</p><button disabled>Sold out</button>"
            "<h2>Popular right now</h2><div>2023 Maple Price: $84.99</div></body></html>")
    finding = extract_offer(PageContent(url="https://dealer.test/p/ase", html=html), ASE, RULES, 80.0)
    assert finding.price is None


@pytest.mark.parametrize(("line", "expected"), [
    ("$86.39 Check/Wire | $89.85 Card/PayPal", 86.39),
    ("$86.39 (Check/Wire) · $89.85 (Card/PayPal)", 86.39),
    ("$89.85 card / $86.39 check", 86.39),
    ("Credit Card / PayPal: $89.85 · Check/Wire: $86.39", 86.39),
])
def test_payment_labels_before_or_after_their_amounts(line, expected):
    finding = read(f"<p>{line}</p>", head=jsonld({"@type": "Offer", "price": "89.85"}))
    assert (finding.price, finding.failure) == (expected, None)


@pytest.mark.parametrize("noise", ["Reach $99 for free shipping", "Each (tube of 20): $85.89",
                                   "Wire Transfer Fee: $15.00", "VIP Member Price: $84.99",
                                   "Bulk Price: $83.19 (500+ coins)", "Lowest Price: $85.39 (buy 500+)"])
def test_payment_words_inside_words_fees_and_member_prices_are_not_the_price(noise):
    assert read(f"<div class='price'>$86.39</div><p>{noise}</p>").price in (86.39, FAIL)


def test_a_grid_with_its_header_row_in_its_own_container_and_icon_headers():
    split = ("<div class='head'><div>Quantity</div><div>Credit Card / PayPal</div><div>eCheck / Bank Wire</div></div>"
             "<div class='body'><div class='row'><div>1 - 19</div><div>$89.85</div><div>$86.39</div></div>"
             "<div class='row'><div>20+</div><div>$89.33</div><div>$85.89</div></div></div>")
    assert read(split, head=jsonld({"@type": "Offer", "price": "89.85"})).price == 86.39
    icons = ("<table><tr><th>Qty</th><th><img alt='Credit Card' src='cc.png'></th><th><img alt='Check/Wire' "
             "src='cw.png'></th></tr><tr><td>Any Qty.</td><td>$89.85</td><td>$86.39</td></tr></table>")
    assert read(icons, head=jsonld({"@type": "Offer", "price": "89.85"})).price == 86.39


@pytest.mark.parametrize("page", [
    "<p>Price: $118.40 CDN</p>", "<p>$118.40</p><p>All prices are in Canadian funds.</p>",
])
def test_more_ways_a_page_says_canadian_dollars(page):
    assert read(page).failure == "wrong_currency"


def test_a_currency_selector_in_the_cut_header_and_an_announcement_bar_above_the_title():
    header = ("<header><select name='currency'><option value='USD'>USD</option><option value='CAD' selected>CAD"
              "</option></select></header>")
    html = f"<html><body>{header}{TITLE}<p>$118.40</p>{BUY}</body></html>"
    assert extract_offer(PageContent(url="https://d.test/p", html=html), ASE, RULES, 80.0).failure == "wrong_currency"
    bar = f"<html><body><div class='announcement'>All prices are in Canadian dollars</div>{TITLE}<p>$118.40</p></body></html>"
    assert extract_offer(PageContent(url="https://d.test/p", html=bar), ASE, RULES, 80.0).failure == "wrong_currency"


def test_structured_price_that_disagrees_with_the_lone_price_shown_is_a_conflict():
    finding = read("<div class='price'>$86.39</div>", head=jsonld({"@type": "Offer", "price": "88.00"}))
    assert (finding.price, finding.failure) == (None, "conflicting_prices")


def test_microdata_call_for_price_and_a_card_before_the_title():
    call = ("<div itemscope itemtype='https://schema.org/Offer'><span itemprop='price' content='86.39'>"
            "Call for price</span></div>")
    assert read(call).price is None
    html = ("<html><body><div class='col-left'><div itemscope itemtype='http://schema.org/Product'>"
            "<span itemprop='name'>American Silver Eagle 1 oz Coin (Random Year)</span>"
            "<span itemprop='price' content='84.99'>$84.99</span></div></div>"
            f"{TITLE}<div class='product-price'>$86.39</div>{BUY}</body></html>")
    assert extract_offer(PageContent(url="https://d.test/p", html=html), ASE, RULES, 80.0).price == 86.39


def test_a_goldback_page_of_another_denomination_is_the_wrong_product():
    coin = CATALOG.coins["goldback-utah-g1"]
    html = "<html><body><h1>Utah Goldback G2</h1><p>Price: $23.00</p></body></html>"
    assert extract_offer(PageContent(url="https://d.test/p", html=html), coin, RULES, 5000.0).failure == "wrong_product"


@pytest.mark.parametrize(("body", "in_stock"), [
    (f"<div class='product-options'><button>Random Year (Sold Out)</button></div>{BUY}", True),
    ("<button class='single_add_to_cart_button button disabled wc-variation-selection-needed'>Add to cart</button>",
     True),
    (f"<h3>Pre-Order FAQ</h3><p>Pre-orders ship when the mint delivers.</p>{BUY}", True),
    ("<p class='availability'>Sold Out</p><div class='shelf'><h3>Shop similar</h3><div class='tile'>2023 Silver Maple "
     "<span>$84.99</span> <a class='btn' href='/cart/add/2'>Add to cart</a></div></div>", False),
])
def test_stock_from_the_products_own_control_and_status(body, in_stock):
    html = f"<html><body>{TITLE}<div class='price'>$86.39</div>{body}</body></html>"
    finding = extract_offer(PageContent(url="https://dealer.test/p/ase", html=html), ASE, RULES, 80.0)
    assert (finding.price, finding.in_stock) == (86.39, in_stock)


@pytest.mark.parametrize("money", ["USD {}", "${}"])
def test_a_tier_list_per_payment_method_with_a_colon_after_the_tier_reads_the_check_wire_column(money):
    blocks = "".join(f"<div><h4>{method}</h4><ul><li><span>Any Qty:</span> <span>{money.format(amount)}</span></li>"
                     "</ul></div>" for method, amount in (("Wire Transfer", "86.39"), ("Card Payments", "89.85")))
    finding = read(blocks + f"<div>Starting at {money.format('86.39')}</div>")
    assert (finding.price, finding.rule) == (86.39, "tier_text")


@pytest.mark.parametrize("words", ["Metal value", "Melt value", "Intrinsic value"])
def test_a_metal_value_note_is_no_price(words):
    assert read(f"<p>{words}: $80.00</p>").price is None
    assert read(f"<p>$86.39</p><p>{words}: $80.00</p>").price == 86.39


def test_labels_glued_after_a_currency_code_in_minified_markdown_are_split():
    finding = read(markdown="# American Silver Eagle 1 oz Coin (BU)\n\nRegular Price$95.06 USDSpecial Price$86.39 USD\n\n"
                            "Add to Cart\n")
    assert finding.price == 86.39


def test_a_struck_price_on_its_own_source_lines_stays_struck():
    body = ("<div class='product__price'>\n  Regular price<s>\n    $95.06\n  </s>Sale price<b>$<span>86</span>"
            "<sup>39</sup></b>\n</div>")
    finding = read(body, head=jsonld({"@type": "Offer", "price": "86.39"}))
    assert (finding.price, finding.failure) == (86.39, None)


@pytest.mark.parametrize("shown", ["CAD 118.40", "118.40 CAD", "CDN 118.40"])
def test_an_amount_written_with_a_dollar_code_and_no_sign_is_in_that_currency(shown):
    head = '<meta property="og:price:amount" content="118.40">'
    finding = read(f"<div class='price'>Price: {shown}</div>", head=head)
    assert (finding.price, finding.failure) == (None, "wrong_currency")
