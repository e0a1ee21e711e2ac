"""Random dealer product pages built from parts, each with the outcome a careful human reads.

`PageSpec` is plain data: the coin and spot, the page currency, how the page's own product
shows its price (`display`, one markup class below), optional JSON-LD and meta tags for it,
its purchase control, the distractors around it, and whether the markup is minified.
`render(spec)` is the HTML, `answer(spec)` the right outcome, `page_specs()` the hypothesis
strategy that draws specs.

Fairness: each part is drawn only in forms a careful human reads one way, and the answer is
what that human reads (issue 10's rules):
- the unit price is the page's own product's price for one unit: the first quantity tier in
  the check/wire column; the sale/special/"now" price, never the regular, was, list, MSRP or
  struck-through price; each display class says which of its amounts that is;
- other products' prices, spot quotes, shipping thresholds, premiums, savings, cart totals,
  buy-back, bulk ("as low as") and per-oz prices and prices quoted in reviews are never it;
- stock is what the product's purchase control says, and its structured availability when
  present (the two always agree here); option labels, reviews and other products do not count;
- a page priced in another currency (every amount marked CAD, C$, A$, NZ$, MX$, EUR, GBP...)
  has no US dollar price: the right outcome is a failure, ideally `wrong_currency`.
A structured price may disagree with the visible one only where issue 10 settles it: it is the
card column or the list price shown next to a labelled check/wire table or a sale price.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, fields
from typing import ClassVar

from hypothesis import strategies as st

VENDORS = ("apmex", "jmbullion", "monumentmetals", "bullionexchanges", "sdbullion", "summitmetals",
           "herobullion", "gainesvillecoins", "providentmetals")


@dataclass(frozen=True)
class CoinKind:
    """A catalog coin as the generator needs it: titles, price range, other products' names."""

    slug: str
    metal: str
    weight_oz: float
    titles: tuple[str, ...]
    premium_permille: tuple[int, int]  # unit price / melt value, in thousandths
    others: tuple[str, ...]  # names of other products (related cards, sidebars)
    units: tuple[str, ...]  # option list; the first is the unit the page sells


COINS = (
    CoinKind("ase", "silver", 1, ("American Silver Eagle 1 oz", "2025 American Silver Eagle 1 oz Coin (BU)",
             "American Silver Eagle"), (1050, 1900),
             ("Silver Buffalo Round 1 oz", "Canadian Silver Maple Leaf 1 oz", "British Silver Britannia 1 oz",
              "American Silver Eagle 1 oz Proof", "Austrian Silver Philharmonic 1 oz"),
             ("Single coin", "Tube of 20", "Monster box of 500")),
    CoinKind("age", "gold", 1, ("American Gold Eagle 1 oz", "2025 1 oz American Gold Eagle Coin",
             "American Gold Eagle 1 oz (BU, Random Year)"), (1020, 1120),
             ("American Gold Buffalo 1 oz", "South African Gold Krugerrand 1 oz", "1/10 oz American Gold Eagle",
              "Canadian Gold Maple Leaf 1 oz", "1 oz Gold Bar (PAMP Suisse)"),
             ("Single coin", "Tube of 20")),
    CoinKind("generic-silver-bar-10oz", "silver", 10, ("10 oz Silver Bar", "10 oz Silver Bar (.999 Fine)",
             "Generic Silver Bar 10 oz (.999)"), (1030, 1300),
             ("10 oz Silver Bar (Asahi)", "10 oz Silver Bar (Royal Canadian Mint)", "Ten 1 oz Silver Rounds",
              "10 oz Silver Bar (Sunshine Mint, Proof-like)"), ("1 bar", "5 bars", "Case of 10")),
    CoinKind("ape", "platinum", 1, ("American Platinum Eagle 1 oz", "2025 1 oz American Platinum Eagle Coin"),
             (1040, 1300), ("Canadian Platinum Maple Leaf 1 oz", "1 oz Platinum Bar (Valcambi)",
                            "American Platinum Eagle 1 oz Proof"), ("Single coin", "Tube of 10")),
)
SPOT_RANGES = {"silver": (28, 95), "gold": (2400, 5200), "platinum": (900, 2300), "palladium": (800, 2000)}


@dataclass(frozen=True)
class Currency:
    """How the page writes money: `template` with {n} for the number, page units per USD."""

    code: str
    template: str
    rate: float = 1.0
    decimal_comma: bool = False

    def number(self, usd: float) -> float:
        return round(usd * self.rate, 2)

    def text(self, usd: float, whole: bool = False) -> str:
        digits = f"{self.number(usd):,.0f}" if whole else f"{self.number(usd):,.2f}"
        if self.decimal_comma:
            digits = digits.translate(str.maketrans(",.", ".,"))
        return self.template.format(n=digits)


USD_CURRENCIES = (Currency("USD", "${n}"), Currency("USD", "US${n}"), Currency("USD", "${n} USD"),
                  Currency("USD", "USD ${n}"))
FOREIGN_CURRENCIES = (
    Currency("CAD", "${n} CAD", 1.37), Currency("CAD", "C${n}", 1.37), Currency("CAD", "CA${n}", 1.37),
    Currency("CAD", "CAD ${n}", 1.37), Currency("AUD", "A${n}", 1.52), Currency("AUD", "AU${n}", 1.52),
    Currency("AUD", "${n} AUD", 1.52), Currency("NZD", "NZ${n}", 1.68), Currency("MXN", "MX${n}", 17.2),
    Currency("EUR", "€{n}", 0.92), Currency("EUR", "{n} €", 0.92, True), Currency("GBP", "£{n}", 0.79),
    Currency("GBP", "GBP {n}", 0.79),
)


def main_money(spec: PageSpec, usd: float) -> str:
    """The product's own amount as HTML: plain, or split over elements (cents in <sup>, spans)."""
    if spec.money_style == "plain" or spec.currency.template != "${n}":
        return spec.currency.text(usd)
    dollars, cents = f"{usd:,.2f}".split(".")
    return {
        "sup": f"$<span>{dollars}</span><sup>{cents}</sup>",
        "sup_dot": f"${dollars}<sup>.{cents}</sup>",
        "spans": f'<span class="currency">$</span><span class="whole">{dollars}</span>'
                 f'<span class="decimal">.</span><span class="fraction">{cents}</span>',
    }[spec.money_style]


class Part:
    """A page part; `short()` names it with its non-empty fields for reports."""

    def short(self) -> str:
        values = [(f.name, getattr(self, f.name)) for f in fields(self)]
        shown = [f"{name}={value!r}" for name, value in values if value not in (None, "", False, ())]
        return f"{type(self).__name__}({', '.join(shown)})"


class Display(Part):
    """How the main product shows its price. `answer()` is the unit price a careful reader takes."""

    markup: ClassVar[str]

    def list_amount(self) -> float | None:
        """A visible regular/was/MSRP amount (never the answer), if the display shows one."""
        return None

    def card_amount(self) -> float | None:
        """A visible card-column first-tier amount (never the answer), if the display shows one."""
        return None


@dataclass(frozen=True)
class PlainPrice(Display):
    """One amount under the title, maybe after "Price:"/"Our Price:". Answer: that amount."""

    markup: ClassVar[str] = "plain"
    price: float
    label: str = ""

    def answer(self) -> float:
        return self.price

    def render(self, spec: PageSpec) -> str:
        label = f'<span class="price-label">{self.label}</span> ' if self.label else ""
        return f'<div class="product-price">{label}<span class="price">{main_money(spec, self.price)}</span></div>'


@dataclass(frozen=True)
class PaymentPrices(Display):
    """One line per payment method ("Check/Wire: $86.39", "Card/PayPal: $89.85"), either order.
    Answer: the check/wire amount."""

    markup: ClassVar[str] = "payment_lines"
    price: float
    card: float
    check_label: str
    card_label: str
    card_first: bool = False

    def answer(self) -> float:
        return self.price

    def card_amount(self) -> float | None:
        return self.card

    def render(self, spec: PageSpec) -> str:
        rows = [f'<div class="pay-row"><span class="pay-label">{self.check_label}:</span> '
                f'<span class="pay-price">{main_money(spec, self.price)}</span></div>',
                f'<div class="pay-row"><span class="pay-label">{self.card_label}:</span> '
                f'<span class="pay-price">{spec.currency.text(self.card)}</span></div>']
        return '<div class="payment-prices">\n' + "\n".join(rows[::-1] if self.card_first else rows) + "\n</div>"


@dataclass(frozen=True)
class MagentoPriceBox(Display):
    """Magento price box: spans with data-price-amount; on sale a "Special Price" (special-price)
    and a "Regular Price" (old-price), either order. Answer: the special/final price, never the old."""

    markup: ClassVar[str] = "magento"
    price: float
    regular: float | None = None
    old_first: bool = False

    def answer(self) -> float:
        return self.price

    def list_amount(self) -> float | None:
        return self.regular

    def render(self, spec: PageSpec) -> str:
        def amount(usd: float, kind: str, label: str, shown: str) -> str:
            label_html = f'<span class="price-label">{label}</span> ' if label else ""
            return (f'<span class="price-container price-final_price tax weee">{label_html}'
                    f'<span id="{kind}-price-4021" data-price-amount="{spec.currency.number(usd)}" '
                    f'data-price-type="{kind}Price" class="price-wrapper ">'
                    f'<span class="price">{shown}</span></span></span>')

        if self.regular is None:
            inner = amount(self.price, "final", "", main_money(spec, self.price))
        else:
            special = amount(self.price, "final", "Special Price", main_money(spec, self.price))
            special = f'<span class="special-price">{special}</span>'
            old = amount(self.regular, "old", "Regular Price", spec.currency.text(self.regular))
            old = f'<span class="old-price">{old}</span>'
            inner = "\n".join([old, special] if self.old_first else [special, old])
        return f'<div class="price-box price-final_price" data-role="priceBox" data-product-id="4021">\n{inner}\n</div>'


@dataclass(frozen=True)
class ShopifyPrice(Display):
    """Shopify labels. On sale: "Regular price" with the old amount in <s> and "Sale price" with
    the new, either order, in spans or glued inline ("Regular price<s>$X</s>Sale price<b>$Y</b>").
    Not on sale: "Regular price $X". Answer: the sale price, else the regular price."""

    markup: ClassVar[str] = "shopify"
    price: float
    regular: float | None = None
    inline: bool = False
    sale_first: bool = False

    def answer(self) -> float:
        return self.price

    def list_amount(self) -> float | None:
        return self.regular

    def render(self, spec: PageSpec) -> str:
        now = main_money(spec, self.price)
        if self.regular is None:
            return (f'<div class="price"><span class="visually-hidden">Regular price</span> '
                    f'<span class="price-item price-item--regular">{now}</span></div>')
        was = spec.currency.text(self.regular)
        if self.inline:
            pairs = [f"Regular price<s>{was}</s>", f"Sale price<b>{now}</b>"]
            return '<div class="product__price">' + "".join(pairs[::-1] if self.sale_first else pairs) + "</div>"
        pairs = [f'<span class="visually-hidden">Regular price</span>\n'
                 f'<span><s class="price-item price-item--regular">{was}</s></span>',
                 f'<span class="visually-hidden">Sale price</span>\n'
                 f'<span class="price-item price-item--sale">{now}</span>']
        body = "\n".join(pairs[::-1] if self.sale_first else pairs)
        return (f'<div class="price price--on-sale">\n<div class="price__sale">\n{body}\n</div>\n'
                '<span class="badge">Sale</span>\n</div>')


@dataclass(frozen=True)
class WooPrice(Display):
    """WooCommerce: on sale the old amount in <del> and the new in <ins>, with screen-reader texts
    "Original price was: $X." / "Current price is: $Y.". Answer: the <ins> (or only) amount."""

    markup: ClassVar[str] = "woocommerce"
    price: float
    regular: float | None = None
    reader_texts: bool = False

    def answer(self) -> float:
        return self.price

    def list_amount(self) -> float | None:
        return self.regular

    def render(self, spec: PageSpec) -> str:
        def amount(usd: float) -> str:
            if spec.currency.template == "${n}":
                shown = f'<span class="woocommerce-Price-currencySymbol">$</span>{usd:,.2f}'
            else:
                shown = spec.currency.text(usd)
            return f'<span class="woocommerce-Price-amount amount"><bdi>{shown}</bdi></span>'

        if self.regular is None:
            return f'<p class="price">{amount(self.price)}</p>'
        was_text = now_text = ""
        if self.reader_texts:
            reader = '<span class="screen-reader-text">{} price {}: {}.</span>'
            was_text = reader.format("Original", "was", spec.currency.text(self.regular))
            now_text = reader.format("Current", "is", spec.currency.text(self.price))
        return (f'<p class="price"><del aria-hidden="true">{amount(self.regular)}</del> {was_text}'
                f'<ins aria-hidden="true">{amount(self.price)}</ins>{now_text}</p>')


@dataclass(frozen=True)
class BigCommercePrice(Display):
    """BigCommerce sections: "MSRP:" (price--rrp), "Was:" (price--non-sale), then the price
    (price--withoutTax, maybe after "Now:"). Answer: the price--withoutTax amount."""

    markup: ClassVar[str] = "bigcommerce"
    price: float
    msrp: float | None = None
    was: float | None = None
    now_label: bool = False

    def answer(self) -> float:
        return self.price

    def list_amount(self) -> float | None:
        return self.was or self.msrp

    def render(self, spec: PageSpec) -> str:
        def section(css: str, label: str, data: str, kind: str, shown: str) -> str:
            return (f'<div class="price-section price-section--withoutTax {css}">{label}'
                    f'<span data-product-{data}-without-tax class="price price--{kind}">{shown}</span></div>')

        rows = []
        if self.msrp is not None:
            rows.append(section("rrp-price--withoutTax", "MSRP: ", "rrp-price", "rrp", spec.currency.text(self.msrp)))
        if self.was is not None:
            rows.append(section("non-sale-price--withoutTax", "Was: ", "non-sale-price", "non-sale",
                                spec.currency.text(self.was)))
        label = '<span class="price-now-label">Now:</span> ' if self.now_label else ""
        rows.append(section("", label, "price", "withoutTax", main_money(spec, self.price)))
        return '<div class="productView-price">\n' + "\n".join(rows) + "\n</div>"


@dataclass(frozen=True)
class TierTable(Display):
    """Volume pricing: quantity tiers ("1-19", "20-99", "100+") by payment columns (Check/Wire,
    Card/PayPal, Crypto, ACH... in random order), tiers as rows or transposed, as a <table> or a
    grid of divs, maybe an "MSRP: $X" line above. grid[tier][column], tiers ascending.
    Answer: the first (lowest-quantity) tier in the check/wire column."""

    markup: ClassVar[str] = "tier_table"
    tiers: tuple[str, ...]
    methods: tuple[str, ...]  # "check", "card", "paypal", "crypto", "ach" per column
    labels: tuple[str, ...]
    grid: tuple[tuple[float, ...], ...]
    transposed: bool = False
    divs: bool = False
    qty_header: str = ""
    msrp: float | None = None

    def answer(self) -> float:
        return self.grid[0][self.methods.index("check")]

    def card_amount(self) -> float | None:
        return self.grid[0][self.methods.index("card")] if "card" in self.methods else None

    def list_amount(self) -> float | None:
        return self.msrp

    def render(self, spec: PageSpec) -> str:
        cells = [[spec.currency.text(amount) for amount in row] for row in self.grid]
        if self.transposed:
            head = ["Payment Method" if self.qty_header else "", *self.tiers]
            body = [[label, *(row[column] for row in cells)] for column, label in enumerate(self.labels)]
        else:
            head = [self.qty_header, *self.labels]
            body = [[tier, *cells[index]] for index, tier in enumerate(self.tiers)]
        if self.divs:
            rows = ['<div class="grid-row">' + "".join(f'<div class="cell">{cell}</div>' for cell in row) + "</div>"
                    for row in [head, *body]]
            grid = '<div class="pricing-grid">\n' + "\n".join(rows) + "\n</div>"
        else:
            rows = ["<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in body]
            header = "".join(f"<th>{cell}</th>" for cell in head)
            grid = (f'<table class="volume-pricing">\n<thead><tr>{header}</tr></thead>\n'
                    "<tbody>\n" + "\n".join(rows) + "\n</tbody>\n</table>")
        msrp = f'<div class="msrp">MSRP: {spec.currency.text(self.msrp)}</div>\n' if self.msrp else ""
        return f'<div class="pricing">\n{msrp}<h3>Volume Pricing</h3>\n{grid}\n</div>'


@dataclass(frozen=True)
class MicrodataOffer(Display):
    """schema.org microdata Offer (inside the page's Product scope when `product_scope`) whose
    itemprop=price element shows the amount; `content` is the same amount ("decimal"), the amount
    in cents ("cents": attribute and visible text disagree, the text is what a reader sees),
    absent ("none"), or on a <meta> beside the visible amount ("meta"); maybe a struck-through old
    price in the scope. Answer: the visible amount."""

    markup: ClassVar[str] = "microdata"
    price: float
    content: str = "decimal"
    regular: float | None = None
    product_scope: bool = False
    availability: bool = False

    def answer(self) -> float:
        return self.price

    def list_amount(self) -> float | None:
        return self.regular

    def render(self, spec: PageSpec) -> str:
        number = spec.currency.number(self.price)
        shown = main_money(spec, self.price)
        price_html = {
            "decimal": f'<span class="price" itemprop="price" content="{number:.2f}">{shown}</span>',
            "cents": f'<span class="price" itemprop="price" content="{round(number * 100)}">{shown}</span>',
            "none": f'<span class="price" itemprop="price">{shown}</span>',
            "meta": f'<meta itemprop="price" content="{number:.2f}"><span class="price">{shown}</span>',
        }[self.content]
        was = f'<s class="was-price">{spec.currency.text(self.regular)}</s> ' if self.regular else ""
        state = "InStock" if spec.stock.in_stock else "OutOfStock"
        link = f'<link itemprop="availability" href="https://schema.org/{state}">' if self.availability else ""
        return (f'<div class="offer" itemprop="offers" itemscope itemtype="https://schema.org/Offer">{was}{price_html}'
                f'<meta itemprop="priceCurrency" content="{spec.currency.code}">{link}</div>')


@dataclass(frozen=True)
class ScriptOnlyPrice(Display):
    """A script-rendered theme: the visible price slot is empty and the page's JSON-LD offer
    (always present with this markup, source "answer") is the only price. Answer: that price."""

    markup: ClassVar[str] = "script_only"
    price: float

    def answer(self) -> float:
        return self.price

    def render(self, spec: PageSpec) -> str:
        return '<div class="product-price" data-price-slot="main"><span class="price"></span></div>'


# Structured data and stock -------------------------------------------------------------------

@dataclass(frozen=True)
class JsonLd(Part):
    """The page's own Product in JSON-LD (`wrapper`: bare, inside @graph, or in a top-level list).
    `source` says what its offer holds:
    - "answer": the unit price; `shape` "price" (Offer.price), "spec" (a priceSpecification list
      with the unit price and a strikethrough/list/MSRP/SRP entry `strike`, either order) or
      "price+spec" (Offer.price plus that entry);
    - "card": the visible card-column first-tier price (a labelled check/wire price is shown);
    - "list": the visible regular/was/MSRP amount (a sale or check/wire price is shown);
    - "aggregate": an AggregateOffer lowPrice..highPrice range over the visible tier table;
    - "payments": one Offer per payment method (card, check) with acceptedPaymentMethod.
    None of these changes the answer: the display's visible unit price is what a reader takes."""

    source: str
    name: str
    shape: str = "price"
    wrapper: str = "product"
    strike: float | None = None
    strike_role: str = ""
    strike_first: bool = False
    numbers: bool = False  # prices as JSON numbers rather than strings
    currency: bool = False
    availability: bool = False
    url: bool = False
    in_body: bool = False

    def offers(self, spec: PageSpec) -> object:
        def price(usd: float) -> object:
            number = spec.currency.number(usd)
            return number if self.numbers else f"{number:.2f}"

        def offer(usd: float | None = None, **extra: object) -> dict:
            node: dict = {"@type": "Offer"}
            if usd is not None:
                node["price"] = price(usd)
            if self.currency or spec.currency.code != "USD":
                node["priceCurrency"] = spec.currency.code
            if self.availability:
                node["availability"] = "https://schema.org/" + ("InStock" if spec.stock.in_stock else "OutOfStock")
            if self.url:
                node["url"] = spec.url
            return {**node, **extra}

        display = spec.display
        if self.source == "card":
            return offer(display.card_amount())
        if self.source == "list":
            return offer(display.list_amount())
        if self.source == "aggregate":
            amounts = [amount for row in display.grid for amount in row]
            return {**offer(), "@type": "AggregateOffer", "lowPrice": price(min(amounts)),
                    "highPrice": price(max(amounts)), "offerCount": len(amounts)}
        if self.source == "payments":
            methods = ["http://purl.org/goodrelations/v1#VISA", "http://purl.org/goodrelations/v1#MasterCard"]
            return [offer(display.card_amount(), acceptedPaymentMethod=methods),
                    offer(display.answer(), acceptedPaymentMethod="http://purl.org/goodrelations/v1#CheckInAdvance")]
        if self.shape == "price":
            return offer(display.answer())
        strike = {"@type": "UnitPriceSpecification", "priceType": self.strike_role, "price": price(self.strike),
                  "priceCurrency": spec.currency.code}
        if self.shape == "price+spec":
            return offer(display.answer(), priceSpecification=strike)
        unit = {"@type": "UnitPriceSpecification", "price": price(display.answer()),
                "priceCurrency": spec.currency.code}
        return offer(priceSpecification=[strike, unit] if self.strike_first else [unit, strike])

    def render(self, spec: PageSpec) -> str:
        product = {"@context": "https://schema.org", "@type": "Product", "name": self.name, "offers": self.offers(spec)}
        if self.url:
            product["url"] = spec.url
        organization = {"@type": "Organization", "name": spec.vendor_name, "url": spec.site}
        data: object = product
        if self.wrapper == "graph":
            graph = [organization, {"@type": "WebPage", "url": spec.url}, product]
            data = {"@context": "https://schema.org", "@graph": graph}
        elif self.wrapper == "list":
            data = [organization, product]
        return f'<script type="application/ld+json">{json.dumps(data)}</script>'


@dataclass(frozen=True)
class Stock(Part):
    """The purchase control (and an optional badge near the price). In stock: an enabled "Add to
    Cart"/"Buy Now" button, submit input or button-styled link. Out of stock: a disabled "Add to
    Cart", a "Sold Out"/"Out of Stock" button or a "Notify Me" control. The badge ("In Stock",
    "Sold Out"...) and any structured availability say the same. Answer: `in_stock`."""

    in_stock: bool
    label: str
    control: str = "button"  # "button" | "input" | "link"
    disabled: bool = False
    badge: str | None = None

    def render(self) -> str:
        off = ' disabled aria-disabled="true"' if self.disabled else ""
        if self.control == "input":
            return f'<input type="submit" name="add" class="button add-to-cart" value="{self.label}"{off}>'
        if self.control == "link":
            return f'<a href="#buy" class="btn btn-primary product-action">{self.label}</a>'
        return (f'<button type="submit" name="add" class="btn btn-primary product-form__submit"{off}>'
                f'{self.label}</button>')


# Distractors -------------------------------------------------------------------------------------
# `where`: header (site header), top (between header and page), sidebar_before / sidebar_after
# (an <aside> before / after the product), near (right after the price), after_form (below the
# buy button, inside the product), after_main (below the product), footer.

@dataclass(frozen=True)
class Card(Part):
    name: str
    price: float
    sold_out: bool = False


@dataclass(frozen=True)
class OtherProducts(Part):
    """Cards of other products (names differ from the coin; prices often inside the band; "Sold
    Out" badges and buttons), maybe each with its own microdata Product scope or JSON-LD Product
    with its own URL. Rule: another product's price or stock is never this product's."""

    kind: ClassVar[str] = "other_products"
    where: str
    heading: str
    cards: tuple[Card, ...]
    markup: str = "plain"  # "plain" | "microdata" | "jsonld"

    def render(self, spec: PageSpec) -> str:
        heading = "h2" if self.where in ("after_main", "top") else "h3"
        return (f'<section class="product-carousel">\n<{heading}>{self.heading}</{heading}>\n'
                + "\n".join(self._card(spec, card) for card in self.cards) + "\n</section>")

    def _card(self, spec: PageSpec, card: Card) -> str:
        url = f"{spec.site}/{re.sub(r'[^a-z0-9]+', '-', card.name.lower()).strip('-')}"
        money, number = spec.currency.text(card.price), spec.currency.number(card.price)
        button = ('<span class="badge">Sold Out</span><button class="btn" disabled>Sold Out</button>' if card.sold_out
                  else '<button class="btn add-to-cart">Add to Cart</button>')
        if self.markup == "microdata":
            return (f'<div class="product-card" itemscope itemtype="https://schema.org/Product">'
                    f'<a href="{url}" itemprop="url"><span itemprop="name">{card.name}</span></a>'
                    f'<div itemprop="offers" itemscope itemtype="https://schema.org/Offer">'
                    f'<span class="price" itemprop="price" content="{number:.2f}">{money}</span>'
                    f'<meta itemprop="priceCurrency" content="{spec.currency.code}"></div>{button}</div>')
        script = ""
        if self.markup == "jsonld":
            state = "OutOfStock" if card.sold_out else "InStock"
            offer = {"@type": "Offer", "price": f"{number:.2f}", "priceCurrency": spec.currency.code,
                     "availability": f"https://schema.org/{state}"}
            script = json.dumps({"@context": "https://schema.org", "@type": "Product", "name": card.name, "url": url,
                                 "offers": offer})
            script = f'<script type="application/ld+json">{script}</script>'
        return (f'<div class="product-card"><a href="{url}">{card.name}</a><div class="price">{money}</div>'
                f'{button}{script}</div>')


@dataclass(frozen=True)
class SpotTicker(Part):
    """Spot quotes for the four metals ("Silver $51.20", "Gold Ask $4,012.50", "Silver Bid $51.20
    Ask $51.75"); the coin's own metal near the spot, so a 1 oz coin's ticker is inside its band.
    Rule: a spot quote is never a unit price."""

    kind: ClassVar[str] = "spot_ticker"
    where: str
    css: str
    style: str  # "plain" | "ask" | "colon" | "bidask"
    quotes: tuple[tuple[str, float], ...]

    def render(self, spec: PageSpec) -> str:
        items = []
        for metal, bid in self.quotes:
            money = spec.currency.text
            text = {"plain": f"{metal} {money(bid)}", "ask": f"{metal} Ask {money(bid)}",
                    "colon": f"{metal}: {money(bid)}",
                    "bidask": f"{metal} Bid {money(bid)} Ask {money(round(bid * 1.012, 2))}"}[self.style]
            items.append(f'<li class="ticker-item">{text}</li>' if self.where == "sidebar_after"
                         else f'<span class="ticker-item">{text}</span> ')
        if self.where == "sidebar_after":
            return f'<div class="{self.css}">\n<h3>Live Spot Prices</h3>\n<ul>' + "\n".join(items) + "</ul>\n</div>"
        return f'<div class="{self.css}">' + "".join(items) + "</div>"


@dataclass(frozen=True)
class Note(Part):
    """A line of text with amounts that are never the unit price; `kind` says which:
    shipping (free-shipping threshold), coupon (amount off, threshold), premium (over spot),
    savings (regular minus sale price), check_discount (card minus check/wire price), bulk
    ("As low as", "Starting at", "Buy 100+ for": the largest tier), list (MSRP/was/compare-at),
    buyback (what the dealer pays, just under melt), per_oz (a 10 oz bar's price per ounce), cart
    (mini-cart total), alert (a price-drop alert link: no stock meaning).
    `template` has {0}, {1} for the amounts; "|" splits it over two lines."""

    kind: str
    where: str
    template: str
    amounts: tuple[float, ...] = ()
    whole: bool = False

    CSS: ClassVar[dict[str, str]] = {"shipping": "shipping-banner", "coupon": "promo", "premium": "premium",
                                     "savings": "savings", "bulk": "bulk-price", "list": "list-price",
                                     "check_discount": "savings", "buyback": "buyback", "per_oz": "per-oz",
                                     "cart": "mini-cart", "alert": "price-alert"}

    def render(self, spec: PageSpec) -> str:
        text = self.template.format(*(spec.currency.text(amount, self.whole) for amount in self.amounts))
        return "\n".join(f'<div class="{self.CSS[self.kind]}">{line}</div>' for line in text.split("|"))


@dataclass(frozen=True)
class Reviews(Part):
    """Customer reviews with stock words ("sold out last time") and past prices ("Paid $84.99").
    Rule: reviews say nothing about today's price or stock."""

    kind: ClassVar[str] = "reviews"
    texts: tuple[str, ...]
    amounts: tuple[float, ...]
    where: str = "after_form"

    def render(self, spec: PageSpec) -> str:
        reviews = [f'<div class="review"><div class="review-author">Verified buyer</div><div class="stars">★★★★★</div>'
                   f'<p>{text.format(spec.currency.text(amount))}</p></div>'
                   for text, amount in zip(self.texts, self.amounts)]
        return '<section class="reviews">\n<h2>Customer Reviews</h2>\n' + "\n".join(reviews) + "\n</section>"


@dataclass(frozen=True)
class Options(Part):
    """Pack-size options (list, select or radios), one non-selected option marked out of stock.
    Only on in-stock pages. Rule: an option's label is not the product's stock."""

    kind: ClassVar[str] = "options"
    units: tuple[str, ...]
    unavailable: int
    word: str
    markup: str = "list"
    where: str = "near"

    def render(self, spec: PageSpec) -> str:
        marked = [(unit, index == self.unavailable) for index, unit in enumerate(self.units)]
        if self.markup == "select":
            options = "".join(f'<option value="{index}"{" disabled" if off else ""}{" selected" if index == 0 else ""}>'
                              f'{unit}{" - " + self.word if off else ""}</option>'
                              for index, (unit, off) in enumerate(marked))
            return f'<label for="variant">Size</label>\n<select id="variant" name="id">{options}</select>'
        if self.markup == "radios":
            options = "".join(f'<input type="radio" name="pack" id="pack{index}"{" checked" if index == 0 else ""}>'
                              f'<label for="pack{index}">{unit}{f" ({self.word})" if off else ""}</label>'
                              for index, (unit, off) in enumerate(marked))
            return f'<fieldset class="variant-picker"><legend>Pack</legend>{options}</fieldset>'
        items = "".join(f'<li class="variant{" unavailable" if off else ""}">{unit}'
                        f'{f" <span>{self.word}</span>" if off else ""}</li>' for unit, off in marked)
        return f'<ul class="variants">{items}</ul>'


# The page ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Answer:
    """The right outcome: a USD unit price and stock flag, or price None (must fail; `reason` preferred)."""

    price: float | None
    in_stock: bool | None
    reason: str | None = None


@dataclass(frozen=True, repr=False)
class PageSpec(Part):
    """One generated dealer page for `coin` (spot in USD per troy oz of its metal)."""

    coin: CoinKind
    vendor: str
    spot: float
    currency: Currency
    title: str
    display: Display
    stock: Stock
    jsonld: JsonLd | None = None
    meta_tags: bool = False
    distractors: tuple[Part, ...] = ()
    money_style: str = "plain"  # the main amount: "plain" | "sup" | "sup_dot" | "spans"
    minified: bool = False

    @property
    def site(self) -> str:
        return f"https://www.{self.vendor}.com"

    @property
    def url(self) -> str:
        return f"{self.site}/{self.coin.slug}"

    @property
    def vendor_name(self) -> str:
        return self.vendor.title()

    def __repr__(self) -> str:
        return "PageSpec(" + "; ".join(self.parts()) + ")"

    def _repr_pretty_(self, printer, cycle: bool) -> None:
        """hypothesis prints a falsifying page as its parts, one per line."""
        printer.text("PageSpec:\n    " + "\n    ".join(self.parts()))

    def parts(self) -> list[str]:
        """The page's parts, one short line each (for reports)."""
        head = (f"{self.coin.slug} @ {self.vendor}, spot {self.spot}, {self.currency.code} {self.currency.template!r}, "
                f"{'in stock' if self.stock.in_stock else 'out of stock'}, "
                f"title {self.title!r}, money {self.money_style}{', minified' if self.minified else ''}"
                f"{', meta tags' if self.meta_tags else ''}")
        lines = [head, self.display.short(), self.stock.short()]
        lines += [self.jsonld.short()] if self.jsonld else []
        return lines + [part.short() for part in self.distractors]


def answer(spec: PageSpec) -> Answer:
    """What a careful human reads: the display's unit price and the control's stock, in US dollars only."""
    if spec.currency.code != "USD":
        return Answer(None, None, "wrong_currency")
    return Answer(round(spec.display.answer(), 2), spec.stock.in_stock)


def render(spec: PageSpec) -> str:
    """The page as HTML (whitespace between tags removed when `minified`)."""
    def slot(where: str) -> str:
        return "\n".join(part.render(spec) for part in spec.distractors if part.where == where)

    head = [f"<title>{spec.title} | {spec.vendor_name}</title>"]
    if spec.jsonld and not spec.jsonld.in_body:
        head.append(spec.jsonld.render(spec))
    if spec.meta_tags:
        head += ['<meta property="og:type" content="product">',
                 f'<meta property="product:price:amount" content="{spec.currency.number(spec.display.answer()):.2f}">',
                 f'<meta property="product:price:currency" content="{spec.currency.code}">',
                 f'<meta property="og:availability" content="{"instock" if spec.stock.in_stock else "oos"}">']
    scope = getattr(spec.display, "product_scope", False)
    main_attrs = ' itemscope itemtype="https://schema.org/Product"' if scope else ""
    name_attr = ' itemprop="name"' if scope else ""
    aside_before, aside_after = slot("sidebar_before"), slot("sidebar_after")
    badge = f'<div class="stock-status">{spec.stock.badge}</div>' if spec.stock.badge else ""
    unit = "bar" if "bar" in spec.coin.slug else "coin"
    metal = spec.coin.metal
    body = f"""<header class="site-header"><a class="logo" href="/">{spec.vendor_name}</a>
<nav><a href="/gold">Gold</a> <a href="/silver">Silver</a> <a href="/platinum">Platinum</a>
<a href="/fractional-gold">1/10 oz Gold</a></nav>
{slot("header")}
</header>
{slot("top")}
<div class="page">
{f'<aside class="sidebar">{aside_before}</aside>' if aside_before else ""}
<main class="product-main"{main_attrs}>
<div class="breadcrumbs"><a href="/">Home</a> / <a href="/{metal}">{metal.title()}</a> / {spec.title}</div>
<h1 class="product-title"{name_attr}>{spec.title}</h1>
{spec.display.render(spec)}
{slot("near")}
{badge}
<form class="product-form" action="/cart/add" method="post">
<label>Qty <input type="number" name="quantity" value="1" min="1"></label>
{spec.stock.render()}
</form>
{slot("after_form")}
<div class="product-description"><h2>Description</h2>
<p>Each {unit} contains {spec.coin.weight_oz:g} troy oz of .999 fine {metal}.</p></div>
</main>
{f'<aside class="sidebar">{aside_after}</aside>' if aside_after else ""}
</div>
{slot("after_main")}
<footer class="site-footer"><p>&copy; 2026 {spec.vendor_name}. Prices move with the metals market.</p>
{slot("footer")}
</footer>
{spec.jsonld.render(spec) if spec.jsonld and spec.jsonld.in_body else ""}"""
    head_html = "\n".join(head)
    html = (f'<!doctype html>\n<html><head><meta charset="utf-8">\n{head_html}\n</head>\n'
            f'<body>\n{body}\n</body></html>\n')
    html = re.sub(r"\n{2,}", "\n", html)
    return re.sub(r">\s+<", "><", html) if spec.minified else html


# Drawing specs (hypothesis) ---------------------------------------------------------------------

MARKUPS = ("plain", "payment_lines", "magento", "shopify", "woocommerce", "bigcommerce", "tier_table", "microdata",
           "script_only")
TIER_SETS = (("1-19", "20-99", "100-499", "500+"), ("1 - 9", "10 - 49", "50 - 99", "100+"),
             ("Qty 1-24", "Qty 25-99", "Qty 100-499", "Qty 500+"), ("1+", "20+", "100+", "500+"),
             ("1-9", "10-19", "20-99", "100+"))
COLUMN_LABELS = {"check": ("Check/Wire", "(e)Check/Wire", "eCheck / Wire", "Wire / Check", "Bank Wire"),
                 "card": ("Card/PayPal", "Credit Card", "Credit/Debit Card", "Visa/MC"), "paypal": ("PayPal",),
                 "crypto": ("Crypto", "Bitcoin", "BTC/Crypto"), "ach": ("ACH", "ACH Transfer")}
COLUMN_PERMILLE = {"check": (1000, 1000), "card": (1030, 1045), "paypal": (1035, 1050), "crypto": (985, 1000),
                   "ach": (990, 1000)}
STRIKE_ROLES = ("https://schema.org/StrikethroughPrice", "StrikethroughPrice", "https://schema.org/ListPrice",
                "ListPrice", "https://schema.org/MSRP", "https://schema.org/SRP")
ADD_LABELS = ("Add to Cart", "ADD TO CART", "Add to cart", "Add to Bag", "Buy Now")
IN_BADGES = ("In Stock", "In stock, ships in 1 business day", "Availability: In Stock")
OUT_BADGES = ("Out of Stock", "Sold Out", "Currently Unavailable", "Availability: Out of stock")
OTHER_HEADINGS = {
    "after_main": ("Related Products", "You May Also Like", "Customers Also Purchased", "Similar Products You May Like",
                   "Popular Products", "Frequently Bought Together", "Shop Similar Items"),
    "top": ("Recently Viewed", "Recently Viewed Items"),
    "sidebar_before": ("Best Sellers", "Top Sellers", "On Sale Now", "Featured Products"),
}
OTHER_HEADINGS["sidebar_after"] = OTHER_HEADINGS["sidebar_before"]
THRESHOLDS = (99, 149, 199, 249, 299, 499, 999, 4999)
REVIEW_TEXTS = ("Sold out last time I tried, glad they are back.", "These were out of stock for weeks. Worth the wait!",
                "Paid {0} each last month. Beautiful coins.", "Got the back in stock email and ordered right away.",
                "Arrived fast and well packed.", "Out of stock again? Hope they restock soon.",
                "Bought at {0} and the price is up since.")
# Note kinds: where each may sit and its wordings (amounts come from note_amounts()).
NOTES = {
    "shipping": (("top", "near", "footer"), ("Free shipping on orders {0}+", "Orders {0}+ ship free",
                                             "FREE SHIPPING ON ORDERS OVER {0}", "Free insured shipping over {0}")),
    "coupon": (("top", "near"), ("Use code STACK10 for {0} off orders over {1}",)),
    "premium": (("near",), ("{0} over spot", "Premium: {0} over spot", "Only {0} over spot!", "Spot + {0}")),
    "savings": (("near",), ("Save {0}", "You save {0}")),
    "check_discount": (("near",), ("Save {0} when you pay by check or wire",)),
    "bulk": (("near",), ("As low as {0}", "Starting at {0}", "As Low As|{0}", "Buy 100+ for {0} each")),
    "list": (("near",), ("MSRP: {0}", "List price: <s>{0}</s>", "Was {0}", "Compare at <del>{0}</del>")),
    "buyback": (("near", "sidebar_after"), ("We buy at {0}", "Sell to us: {0}", "Buyback price: {0}")),
    "per_oz": (("near",), ("{0} per oz", "{0}/oz")),
    "cart": (("header", "top", "sidebar_after"), ("Cart (2) {0}", "Subtotal: {0}", "Your cart: 3 items, {0}")),
    "alert": (("after_form",), ('<a href="#price-alert" class="btn-link">Notify me when the price drops</a>',)),
}
DISTRACTORS = ("related", "sidebar", "recently_viewed", "ticker", "reviews", "options", *NOTES)


class Drawer:
    """Choices over hypothesis' `draw`; each shrinks to the first option / no part / False."""

    def __init__(self, draw: st.DrawFn) -> None:
        self.draw = draw

    def pick(self, options):
        return self.draw(st.sampled_from(options))

    def chance(self, percent: int) -> bool:
        """True about `percent`% of the time (12, 25, 50 or 75), from chained booleans: an integer
        cut at a threshold would give hypothesis many choices for one page, and duplicate pages."""
        if percent >= 75:
            return not (self.flag() and self.flag())
        return self.flag() and (percent >= 50 or self.flag()) and (percent >= 25 or self.flag())

    def flag(self) -> bool:
        return self.draw(st.booleans())

    def scaled(self, base: float, low_permille: int, high_permille: int) -> float:
        return round(base * self.draw(st.integers(low_permille, high_permille)) / 1000, 2)


@dataclass(frozen=True)
class Market:
    """What the parts drawn for one page share: the coin, its unit price (the answer), spot."""

    coin: CoinKind
    price: float
    spot: float
    in_stock: bool

    @property
    def melt(self) -> float:
        return round(self.spot * self.coin.weight_oz, 2)

    def unlike(self, amount: float) -> float:
        """A distractor amount, moved off the answer if it landed on it."""
        return round(amount + 0.37, 2) if abs(amount - self.price) < 0.005 else amount


@st.composite
def page_specs(draw: st.DrawFn) -> PageSpec:
    """A random dealer page for one of COINS, in US dollars seven times in eight."""
    pick = Drawer(draw)
    coin = pick.pick(COINS)
    low, high = SPOT_RANGES[coin.metal]
    spot = draw(st.integers(low * 100, high * 100)) / 100
    market = Market(coin, pick.scaled(spot * coin.weight_oz, *coin.premium_permille), spot, not pick.chance(25))
    if pick.chance(12):
        currency = pick.pick(FOREIGN_CURRENCIES)
    else:
        currency = pick.pick(USD_CURRENCIES) if pick.chance(25) else USD_CURRENCIES[0]
    display = draw_display(pick, market.price)
    title = pick.pick(coin.titles)
    kinds = [kind for kind in DISTRACTORS if pick.chance(25)]
    distractors = tuple(part for kind in kinds if (part := draw_distractor(pick, kind, market, display)) is not None)
    return PageSpec(
        coin=coin, vendor=pick.pick(VENDORS), spot=spot, currency=currency, title=title, display=display,
        stock=draw_stock(pick, market.in_stock), jsonld=draw_jsonld(pick, display, title, market.price),
        meta_tags=pick.chance(25), distractors=distractors,
        money_style=pick.pick(("sup", "sup_dot", "spans")) if pick.chance(25) else "plain", minified=pick.flag(),
    )


def draw_display(pick: Drawer, price: float) -> Display:
    markup = pick.pick(MARKUPS)
    regular = pick.scaled(price, 1020, 1300) if pick.chance(50) else None
    on_sale = regular is not None
    if markup == "plain":
        return PlainPrice(price, pick.pick(("", "Price:", "Our Price:", "Your Price", "Price")))
    if markup == "payment_lines":
        check_label = pick.pick(("Check/Wire", "Check / Wire Price", "Pay by Check or Wire"))
        card_label = pick.pick(("Card/PayPal", "Credit Card Price", "Credit Card / PayPal"))
        return PaymentPrices(price, pick.scaled(price, 1030, 1045), check_label, card_label, pick.flag())
    if markup == "magento":
        return MagentoPriceBox(price, regular, on_sale and pick.flag())
    if markup == "shopify":
        return ShopifyPrice(price, regular, on_sale and pick.flag(), on_sale and pick.flag())
    if markup == "woocommerce":
        return WooPrice(price, regular, on_sale and pick.flag())
    if markup == "bigcommerce":
        msrp = pick.scaled(price, 1310, 1450) if pick.chance(50) else None
        return BigCommercePrice(price, msrp, regular, pick.flag())
    if markup == "microdata":
        content = pick.pick(("decimal", "cents", "none", "meta"))
        return MicrodataOffer(price, content, regular if pick.chance(50) else None, pick.flag(), pick.flag())
    if markup == "script_only":
        return ScriptOnlyPrice(price)
    return draw_tier_table(pick, price)


def draw_tier_table(pick: Drawer, price: float) -> TierTable:
    tiers = pick.pick(TIER_SETS)[: pick.draw(st.integers(2, 4))]
    extra = pick.draw(st.lists(st.sampled_from(("card", "paypal", "crypto", "ach")), unique=True, max_size=3))
    methods = tuple(pick.draw(st.permutations(("check", *extra))))
    labels = tuple(pick.pick(COLUMN_LABELS[method]) for method in methods)
    if methods == ("check",):
        labels = (pick.pick(("Price", "Price Each", "Check/Wire")),)
    permille = {method: pick.draw(st.integers(*COLUMN_PERMILLE[method])) for method in methods}
    grid, base = [], price
    for _ in tiers:
        grid.append(tuple(round(base * permille[method] / 1000, 2) for method in methods))
        base = round(base - pick.scaled(price, 5, 30), 2)
    msrp = pick.scaled(price, 1100, 1300) if pick.chance(25) else None
    qty_header = pick.pick(("", "Qty", "Quantity"))
    return TierTable(tiers, methods, labels, tuple(grid), pick.flag(), pick.flag(), qty_header, msrp)


def draw_jsonld(pick: Drawer, display: Display, title: str, price: float) -> JsonLd | None:
    script_only = isinstance(display, ScriptOnlyPrice)
    if not script_only and not pick.chance(50):
        return None
    sources = ["answer"]
    if not script_only:
        sources += ["card", "payments"] if display.card_amount() is not None else []
        sources += ["list"] if display.list_amount() is not None else []
        sources += ["aggregate"] if isinstance(display, TierTable) else []
    source = pick.pick(sources)
    shape = pick.pick(("price", "spec", "price+spec")) if source == "answer" else "price"
    strike = (display.list_amount() or pick.scaled(price, 1030, 1250)) if shape != "price" else None
    return JsonLd(
        source=source, name=title, shape=shape, wrapper=pick.pick(("product", "graph", "list")), strike=strike,
        strike_role=pick.pick(STRIKE_ROLES) if strike else "", strike_first=pick.flag(), numbers=pick.flag(),
        currency=pick.flag(), availability=pick.flag(), url=pick.flag(), in_body=pick.flag(),
    )


def draw_stock(pick: Drawer, in_stock: bool) -> Stock:
    badge = pick.pick(IN_BADGES if in_stock else OUT_BADGES) if pick.chance(50) else None
    if in_stock:
        return Stock(True, pick.pick(ADD_LABELS), pick.pick(("button", "input", "link")), False, badge)
    way = pick.pick(("disabled", "sold_out", "notify"))
    if way == "disabled":
        return Stock(False, pick.pick(ADD_LABELS), pick.pick(("button", "input")), True, badge)
    if way == "notify":
        label = pick.pick(("Notify Me When Available", "Notify Me", "Email Me When Available"))
        return Stock(False, label, pick.pick(("button", "link")), False, badge)
    return Stock(False, pick.pick(("Sold Out", "SOLD OUT", "Out of Stock")), "button", pick.flag(), badge)


def note_amounts(pick: Drawer, kind: str, market: Market, display: Display) -> tuple[float, ...] | None:
    """What a note of `kind` quotes on this page, or None when the kind does not fit it."""
    price, card, listed = market.price, display.card_amount(), display.list_amount()
    near = {  # kind -> (base, low, high permille): amounts near the answer are the dangerous ones
        "bulk": (price, 950, 995), "list": (price, 1030, 1300), "buyback": (market.melt, 920, 990),
        "cart": (price, 900, 2800), "check_discount": (price, 20, 50),
    }
    if kind == "shipping":
        return (pick.pick(THRESHOLDS),)
    if kind == "coupon":
        return (10, pick.pick(THRESHOLDS))
    if kind == "premium":
        return (round(price - market.melt, 2),)
    if kind == "savings":
        return (round(listed - price, 2),) if listed else None
    if kind == "check_discount" and card:
        return (round(card - price, 2),)
    if kind == "bulk" and isinstance(display, TierTable):  # the largest tier's check/wire price
        return (min(row[display.methods.index("check")] for row in display.grid),)
    if kind == "per_oz":
        return (round(price / market.coin.weight_oz, 2),) if market.coin.weight_oz > 1 else None
    if kind == "alert":
        return ()
    return (market.unlike(pick.scaled(*near[kind])),)


def draw_distractor(pick: Drawer, kind: str, market: Market, display: Display) -> Part | None:
    price, coin = market.price, market.coin
    if kind in NOTES:
        amounts = note_amounts(pick, kind, market, display)
        if amounts is None:
            return None
        wheres, wordings = NOTES[kind]
        return Note(kind, pick.pick(wheres), pick.pick(wordings), amounts, kind in ("shipping", "coupon"))
    if kind in ("related", "sidebar", "recently_viewed"):
        where = {"related": "after_main", "recently_viewed": "top"}.get(kind)
        where = where or pick.pick(("sidebar_before", "sidebar_after"))
        names = pick.draw(st.lists(st.sampled_from(coin.others), min_size=1, max_size=4, unique=True))
        share = {name: (100, 130) if name.startswith("1/") else (800, 1350) for name in names}  # 1/10 oz: a tenth
        cards = tuple(Card(name, market.unlike(pick.scaled(price, *share[name])), pick.flag()) for name in names)
        markup = pick.pick(("plain", "microdata", "jsonld"))
        return OtherProducts(where, pick.pick(OTHER_HEADINGS[where]), cards, markup)
    if kind == "ticker":
        quotes = tuple((metal.title(), pick.scaled(market.spot, 985, 1015) if metal == coin.metal
                        else pick.draw(st.integers(SPOT_RANGES[metal][0] * 100, SPOT_RANGES[metal][1] * 100)) / 100)
                       for metal in ("gold", "silver", "platinum", "palladium"))
        css = pick.pick(("spot-ticker", "spot-prices", "market-bar", "live-prices"))
        style = pick.pick(("plain", "ask", "colon", "bidask"))
        return SpotTicker(pick.pick(("header", "top", "sidebar_after")), css, style, quotes)
    if kind == "reviews":
        texts = pick.draw(st.lists(st.sampled_from(REVIEW_TEXTS), min_size=1, max_size=3, unique=True))
        return Reviews(tuple(texts), tuple(market.unlike(pick.scaled(price, 850, 1200)) for _ in texts))
    if kind == "options" and market.in_stock:  # a sold-out page shows no option as available or not
        unavailable = pick.draw(st.integers(1, len(coin.units) - 1))
        word = pick.pick(("Out of stock", "Sold out", "Unavailable"))
        return Options(coin.units, unavailable, word, pick.pick(("list", "select", "radios")))
    return None
