"""Displays that are schema.org markup in the page body: a microdata offer, an RDFa offer, and a
script-rendered price slot whose only price is the JSON-LD offer (jsonld.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from tests.pagegen.displays import Display
from tests.pagegen.money import main_money

if TYPE_CHECKING:
    from tests.pagegen.page import PageSpec


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

    def list_amount(self) -> float | None:
        return self.regular

    def scope_attrs(self) -> tuple[str, str]:
        if not self.product_scope:
            return "", ""
        return ' itemscope itemtype="https://schema.org/Product"', ' itemprop="name"'

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
        link = (f'<link itemprop="availability" href="https://schema.org/{spec.stock.schema}">'
                if self.availability else "")
        return (f'<div class="offer" itemprop="offers" itemscope itemtype="https://schema.org/Offer">{was}{price_html}'
                f'<meta itemprop="priceCurrency" content="{spec.currency.code}">{link}</div>')

    def variant(self) -> str:
        return f"content={self.content}{', product scope' if self.product_scope else ''}"


@dataclass(frozen=True)
class RdfaOffer(Display):
    """schema.org in RDFa Lite: an Offer (property="offers" typeof="Offer", inside <main
    vocab=... typeof="Product"> with property="name" on the title when `product_scope`) whose
    property="price" element shows the amount with the same number in `content`, or, `split`,
    a priceCurrency span showing "$" and a price span showing the number ("$" + "86.39");
    `prefixed` writes "schema:price" with a prefix declaration instead of a vocab; maybe
    property="availability". Answer: the visible amount."""

    markup: ClassVar[str] = "rdfa"
    price: float
    split: bool = False
    product_scope: bool = False
    availability: bool = False
    prefixed: bool = False

    def _name(self, term: str) -> str:
        return f"schema:{term}" if self.prefixed else term

    def _context(self) -> str:
        return ' prefix="schema: https://schema.org/"' if self.prefixed else ' vocab="https://schema.org/"'

    def scope_attrs(self) -> tuple[str, str]:
        if not self.product_scope:
            return "", ""
        return f'{self._context()} typeof="{self._name("Product")}"', f' property="{self._name("name")}"'

    def render(self, spec: PageSpec) -> str:
        number, code = spec.currency.number(self.price), spec.currency.code
        if self.split and spec.money.is_plain and spec.currency.template == "${n}":
            price_html = (f'<span property="{self._name("priceCurrency")}" content="{code}">$</span>'
                          f'<span class="price" property="{self._name("price")}" content="{number:.2f}">'
                          f"{number:,.2f}</span>")
        else:
            price_html = (f'<span class="price" property="{self._name("price")}" content="{number:.2f}">'
                          f'{main_money(spec, self.price)}</span>'
                          f'<meta property="{self._name("priceCurrency")}" content="{code}">')
        link = (f'<link property="{self._name("availability")}" href="https://schema.org/{spec.stock.schema}">'
                if self.availability else "")
        scope = f'property="{self._name("offers")}"' if self.product_scope else self._context().strip()
        return f'<div class="offer" {scope} typeof="{self._name("Offer")}">{price_html}{link}</div>'

    def variant(self) -> str:
        return ", ".join(filter(None, ["split" if self.split else "", "product scope" if self.product_scope else "",
                                       "prefixed" if self.prefixed else ""]))


@dataclass(frozen=True)
class ScriptOnlyPrice(Display):
    """A script-rendered theme: the visible price slot is empty and the page's JSON-LD offer
    (always present with this markup: the unit price, a one-value AggregateOffer, or offers by
    quantity whose smallest quantity is the unit price) is the only price. Answer: that price."""

    markup: ClassVar[str] = "script_only"
    shows_price: ClassVar[bool] = False
    price: float

    def render(self, spec: PageSpec) -> str:
        return '<div class="product-price" data-price-slot="main"><span class="price"></span></div>'
