"""Parts around the product that hold amounts or stock words that are not the product's.

`where` says where a part sits: header (site header), top (between header and page),
sidebar_before / sidebar_after (an <aside> before / after the product), near (right after the
price), after_form (below the buy button, inside the product), after_main (below the product),
footer. Each part's docstring states its rule; none changes the answer.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from tests.pagegen.base import Part, radio_group
from tests.pagegen.money import Currency

if TYPE_CHECKING:
    from tests.pagegen.page import PageSpec


# Per syntax: the property attribute, a Product scope's attributes, an Offer scope's attributes.
SCOPE_SYNTAX = {
    "microdata": ("itemprop", 'itemscope itemtype="https://schema.org/Product"',
                  'itemscope itemtype="https://schema.org/Offer"'),
    "rdfa": ("property", 'typeof="Product"', 'typeof="Offer"'),
}


@dataclass(frozen=True)
class Card(Part):
    name: str
    price: float
    sold_out: bool = False


@dataclass(frozen=True)
class OtherProducts(Part):
    """Cards of other products under a heading a reader knows ("Related Products", "Customers Who
    Bought This Also Bought", "Recently Viewed", "Best Sellers"...; some are the catalog's cut
    markers, some not), in a container whose class may or may not say so ("product-carousel",
    "products-grid", "swiper-wrapper"...). Names differ from the coin; prices are often inside
    its band; "Sold Out" badges and buttons. Each card may carry its own microdata or RDFa
    Product scope (`related_prop`: as isRelatedTo of the page's own product scope) or JSON-LD
    Product with its own URL. Rule: another product's price or stock is never this product's."""

    kind: ClassVar[str] = "other_products"
    where: str
    heading: str
    cards: tuple[Card, ...]
    markup: str = "plain"  # "plain" | "microdata" | "rdfa" | "jsonld"
    css: str = "product-carousel"
    related_prop: bool = False

    def render(self, spec: PageSpec) -> str:
        heading = "h2" if self.where in ("after_main", "top", "after_form") else "h3"
        return (f'<section class="{self.css}">\n<{heading}>{self.heading}</{heading}>\n'
                + "\n".join(self._card(spec, card) for card in self.cards) + "\n</section>")

    def _card(self, spec: PageSpec, card: Card) -> str:
        url = spec.url_for(card.name)
        money, number = spec.currency.text(card.price), spec.currency.number(card.price)
        button = ('<span class="badge">Sold Out</span><button class="btn" disabled>Sold Out</button>' if card.sold_out
                  else '<button class="btn add-to-cart">Add to Cart</button>')
        if self.markup in SCOPE_SYNTAX:
            prop, product, offer = SCOPE_SYNTAX[self.markup]
            scope = f' {prop}="isRelatedTo" {product}' if self.related_prop else f" {product}"
            if self.markup == "rdfa" and not self.related_prop:
                scope = ' vocab="https://schema.org/"' + scope
            return (f'<div class="product-card"{scope}><a href="{url}" {prop}="url">'
                    f'<span {prop}="name">{card.name}</span></a><div {prop}="offers" {offer}>'
                    f'<span class="price" {prop}="price" content="{number:.2f}">{money}</span>'
                    f'<meta {prop}="priceCurrency" content="{spec.currency.code}"></div>{button}</div>')
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
    shipping (free-shipping threshold), shipping_cost ("Shipping: $7.95"), coupon (amount off,
    threshold), premium (over spot), savings (regular minus sale price, "You save $X (N%)"),
    check_discount (card minus check/wire price), bulk ("As low as", "Starting at", "From" the
    largest tier; "Buy 20+ and pay $X each"), list (MSRP/was/compare-at), buyback (what the
    dealer pays, just under melt), per_oz (a bar's price per ounce), melt ("Melt value: $X"),
    spot ("Silver spot: $X" inside the product area), cart (mini-cart total), alert (a price-drop
    alert link), reward (loyalty points or cash back), financing ("or 4 payments of $X"), pack
    (a tube or box price), converted (the USD price converted to another currency, "approx.
    C$118.40", only beside amounts marked USD).
    `template` has {0}, {1} for the amounts; "|" splits it over two lines; `currency` writes
    the amounts in another currency than the page's (converted)."""

    kind: str
    where: str
    template: str
    amounts: tuple[float, ...] = ()
    whole: bool = False
    currency: Currency | None = None

    CSS: ClassVar[dict[str, str]] = {
        "shipping": "shipping-banner", "shipping_cost": "shipping-estimate", "coupon": "promo", "premium": "premium",
        "savings": "savings", "bulk": "bulk-price", "list": "list-price", "check_discount": "savings",
        "buyback": "buyback", "per_oz": "per-oz", "cart": "mini-cart", "alert": "price-alert", "melt": "melt-value",
        "spot": "spot-box", "reward": "rewards", "financing": "financing", "pack": "pack-price",
        "converted": "converted-price",
    }

    def render(self, spec: PageSpec) -> str:
        currency = self.currency or spec.currency
        text = self.template.format(*(currency.text(amount, self.whole) for amount in self.amounts))
        return "\n".join(f'<div class="{self.CSS[self.kind]}">{line}</div>' for line in text.split("|"))


@dataclass(frozen=True)
class Reviews(Part):
    """Customer reviews with stock words ("sold out last time") and past prices ("Paid $84.99"),
    in a review widget whose classes may or may not say "review" (Judge.me, Okendo...).
    Rule: reviews say nothing about today's price or stock."""

    kind: ClassVar[str] = "reviews"
    texts: tuple[str, ...]
    amounts: tuple[float, ...]
    where: str = "after_form"
    css: tuple[str, str] = ("reviews", "review")

    def render(self, spec: PageSpec) -> str:
        outer, inner = self.css
        reviews = [f'<div class="{inner}"><div class="{inner}-author">Verified buyer</div>'
                   f'<div class="stars">★★★★★</div><p>{text.format(spec.currency.text(amount))}</p></div>'
                   for text, amount in zip(self.texts, self.amounts, strict=False)]
        return f'<section class="{outer}">\n<h2>Customer Reviews</h2>\n' + "\n".join(reviews) + "\n</section>"


@dataclass(frozen=True)
class Options(Part):
    """Pack-size options (list, select, radios or swatches; the first, the unit the page sells, is
    selected), one other option marked with a stock word: "Out of stock"/"Sold out" on an
    in-stock page, "In stock"/"Available" on a page whose own unit is not in stock. The
    container's class may or may not say "variant"/"swatch". Rule: an option's label is not the
    product's stock."""

    kind: ClassVar[str] = "options"
    units: tuple[str, ...]
    unavailable: int
    word: str
    markup: str = "list"  # "list" | "select" | "radios" | "swatches"
    where: str = "near"
    css: str = ""

    @property
    def marks_available(self) -> bool:
        return self.word.lower() in ("in stock", "available")

    def render(self, spec: PageSpec) -> str:
        marked = [(unit, index == self.unavailable) for index, unit in enumerate(self.units)]
        if self.markup == "select":
            options = "".join(f'<option value="{index}"{" disabled" if off and not self.marks_available else ""}'
                              f'{" selected" if index == 0 else ""}>{unit}{" - " + self.word if off else ""}</option>'
                              for index, (unit, off) in enumerate(marked))
            return f'<label for="variant">Size</label>\n<select id="variant" name="id">{options}</select>'
        if self.markup == "radios":
            return radio_group("pack", "Pack", self.css or "variant-picker",
                               [f"{unit}{f' ({self.word})' if off else ''}" for unit, off in marked])
        if self.markup == "swatches":
            badge = f'<span class="badge">{self.word}</span>'
            options = "".join(f'<div class="{self.css or "swatch"}-element" data-value="{unit}">'
                              f'<label>{unit}</label>{badge if off else ""}</div>' for unit, off in marked)
            return f'<div class="{self.css or "swatches"}"><div class="header">Pack size</div>{options}</div>'
        items = "".join(f'<li class="{self.css or "variant"}{" unavailable" if off else ""}">{unit}'
                        f'{f" <span>{self.word}</span>" if off else ""}</li>' for unit, off in marked)
        return f'<ul class="{self.css or "variants"}">{items}</ul>'
