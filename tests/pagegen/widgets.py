"""Shop widgets around the product: mini-cart, bundle offer, sticky add-to-cart bar, price alert,
currency switcher. Each docstring states its rule; none changes the answer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from tests.pagegen.base import Part

if TYPE_CHECKING:
    from tests.pagegen.page import PageSpec


@dataclass(frozen=True)
class MiniCart(Part):
    """The site's cart summary: other products already in the cart with quantity and line total,
    and a subtotal ("Your Cart", "Subtotal: $X"), in the header or above the page, in a container
    whose class may or may not say cart ("mini-cart", "minicart-wrapper", "offcanvas-drawer").
    Rule: cart lines and totals are never the unit price."""

    kind: ClassVar[str] = "mini_cart"
    where: str
    css: str
    items: tuple[tuple[str, int, float], ...]  # (name, quantity, price each)

    def render(self, spec: PageSpec) -> str:
        money = spec.currency.text
        lines = "".join(f'<li class="cart-line"><span class="name">{name}</span> '
                        f'<span class="qty">× {quantity}</span> '
                        f'<span class="line-total">{money(quantity * each)}</span></li>'
                        for name, quantity, each in self.items)
        count = sum(quantity for _, quantity, _ in self.items)
        subtotal = money(sum(quantity * each for _, quantity, each in self.items))
        return (f'<div class="{self.css}"><div class="cart-title">Your Cart ({count})</div><ul>{lines}</ul>'
                f'<div class="cart-subtotal">Subtotal: {subtotal}</div>'
                '<a href="/checkout" class="btn">Checkout</a></div>')


@dataclass(frozen=True)
class Bundle(Part):
    """"Frequently Bought Together": this item (its unit price, agreeing with the page) ticked with
    other products and their prices, a bundle total and one button for all. Only on in-stock
    pages. Rule: the other items and the total are never this product's price."""

    kind: ClassVar[str] = "bundle"
    where: str
    heading: str
    others: tuple[tuple[str, float], ...]

    def render(self, spec: PageSpec) -> str:
        money = spec.currency.text
        price = spec.display.answer()
        items = [f'<li><input type="checkbox" checked> <strong>This item:</strong> {spec.title} '
                 f'<span class="price">{money(price)}</span></li>']
        items += [f'<li><input type="checkbox" checked> <a href="{spec.url_for(name)}">{name}</a> '
                  f'<span class="price">{money(each)}</span></li>' for name, each in self.others]
        total = money(price + sum(each for _, each in self.others))
        return (f'<div class="bundle-offer"><h2>{self.heading}</h2><ul>{"".join(items)}</ul>'
                f'<div class="bundle-total">Total price: {total}</div>'
                f'<button type="button" class="btn bundle-add">Add all {len(self.others) + 1} to cart</button></div>')


@dataclass(frozen=True)
class StickyBar(Part):
    """A sticky add-to-cart bar at the bottom of the page repeating the title, the unit price and
    the purchase control (same label and state). Rule: it agrees with the product; nothing new."""

    kind: ClassVar[str] = "sticky_bar"
    where: str = "after_main"

    def render(self, spec: PageSpec) -> str:
        return (f'<div class="sticky-atc" id="sticky-add-to-cart"><span class="sticky-title">{spec.title}</span> '
                f'<span class="sticky-price">{spec.currency.text(spec.display.answer())}</span> '
                f"{spec.stock.render()}</div>")


@dataclass(frozen=True)
class PriceAlert(Part):
    """A price-drop alert: a form whose number input holds a target price under the current one
    ("Alert me when the price drops below [82.07] Set Alert"), or a sentence with the target
    ("Get notified if the price drops below $82.07"). Rule: a target price is never the price,
    and the alert's button says nothing about stock."""

    kind: ClassVar[str] = "price_alert"
    where: str
    target: float
    form: bool = True

    def render(self, spec: PageSpec) -> str:
        if self.form:
            return (f'<form class="price-alert-form" action="/alerts" method="post"><label for="target">Alert me when '
                    f'the price drops below</label> <input type="number" id="target" name="target_price" step="0.01" '
                    f'value="{spec.currency.number(self.target):.2f}"> <button type="submit" class="btn btn-secondary">'
                    "Set Alert</button></form>")
        return (f'<div class="alert-teaser">Get notified if the price drops below {spec.currency.text(self.target)}. '
                '<a href="#price-alert">Create a price alert</a></div>')


@dataclass(frozen=True)
class CurrencySwitcher(Part):
    """A currency picker listing codes (and symbols) with the page's own currency selected, as a
    <select> or a list of links; no amounts. Rule: listing other currencies does not make the
    page's prices foreign."""

    kind: ClassVar[str] = "currency_switcher"
    where: str
    markup: str = "select"  # "select" | "list"

    SYMBOLS: ClassVar[dict[str, str]] = {"USD": "$", "CAD": "C$", "EUR": "€", "GBP": "£", "AUD": "A$"}

    def render(self, spec: PageSpec) -> str:
        codes = list(self.SYMBOLS) if spec.currency.code in self.SYMBOLS else [spec.currency.code, *self.SYMBOLS]
        if self.markup == "select":
            options = "".join(f'<option value="{code}"{" selected" if code == spec.currency.code else ""}>'
                              f"{code}</option>" for code in codes)
            return (f'<div class="currency-switcher"><label for="currency">Currency</label>'
                    f'<select id="currency" name="currency">{options}</select></div>')
        items = "".join(f'<li><a href="?currency={code}">{code} {self.SYMBOLS.get(code, "")}</a></li>'
                        for code in codes)
        return f'<ul class="currency-list">{items}</ul>'
