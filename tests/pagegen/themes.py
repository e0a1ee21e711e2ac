"""The main price as the common shop platforms' product templates show it (Magento, Shopify,
WooCommerce, BigCommerce). Each docstring states the amount a careful reader takes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from tests.pagegen.displays import Display, percent_off
from tests.pagegen.money import main_money

if TYPE_CHECKING:
    from tests.pagegen.page import PageSpec


@dataclass(frozen=True)
class MagentoPriceBox(Display):
    """Magento price box: spans with data-price-amount; on sale a "Special Price" (special-price)
    and a "Regular Price" (old-price), either order; maybe Magento's tier-price list under it
    ("Buy 20 for $85.10 each and save 2%": a bulk price). Answer: the special/final price,
    never the old one or a tier price."""

    markup: ClassVar[str] = "magento"
    price: float
    regular: float | None = None
    old_first: bool = False
    tier_offers: tuple[tuple[int, float], ...] = ()  # (minimum quantity, price each)

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
        box = f'<div class="price-box price-final_price" data-role="priceBox" data-product-id="4021">\n{inner}\n</div>'
        if not self.tier_offers:
            return box
        items = "".join(f'<li class="item">Buy {quantity} for <span class="price-container"><span class="price">'
                        f'{spec.currency.text(each)}</span></span> each and <strong class="benefit">save'
                        f'<span class="percent tier-{index}">&nbsp;{percent_off(self.price, each)}</span>%'
                        "</strong></li>" for index, (quantity, each) in enumerate(self.tier_offers))
        return f'{box}\n<ul class="prices-tier items">{items}</ul>'

    def variant(self) -> str:
        return ("on sale" if self.regular else "") + (", tier list" if self.tier_offers else "")


@dataclass(frozen=True)
class ShopifyPrice(Display):
    """Shopify labels. On sale: "Regular price" with the old amount in <s> and "Sale price" with
    the new, either order, in spans or glued inline ("Regular price<s>$X</s>Sale price<b>$Y</b>"),
    with a "Sale", "Save N%" or "-N%" badge. Not on sale: "Regular price $X". A bar may show
    Shopify's "Unit price $8.64 / per oz" row (a per-ounce price). Answer: the sale price, else
    the regular price."""

    markup: ClassVar[str] = "shopify"
    price: float
    regular: float | None = None
    inline: bool = False
    sale_first: bool = False
    badge: str = "Sale"
    per_oz: float | None = None

    def list_amount(self) -> float | None:
        return self.regular

    def render(self, spec: PageSpec) -> str:
        return self._price(spec) + (self._unit_price(spec) if self.per_oz else "")

    def _price(self, spec: PageSpec) -> str:
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
        badge = self.badge.replace("N", str(percent_off(self.regular, self.price)))
        return (f'<div class="price price--on-sale">\n<div class="price__sale">\n{body}\n</div>\n'
                f'<span class="badge">{badge}</span>\n</div>')

    def _unit_price(self, spec: PageSpec) -> str:
        return (f'\n<div class="unit-price caption"><span class="visually-hidden">Unit price</span>'
                f'<span class="price-item price-item--last"><span>{spec.currency.text(self.per_oz)}</span>'
                '<span aria-hidden="true">/</span><span class="visually-hidden">&nbsp;per&nbsp;</span>'
                "<span>oz</span></span></div>")

    def variant(self) -> str:
        sale = ("inline sale" if self.inline else "sale") if self.regular else ""
        return ", ".join(filter(None, [sale, "unit price row" if self.per_oz else ""]))


@dataclass(frozen=True)
class WooPrice(Display):
    """WooCommerce: on sale the old amount in <del> and the new in <ins>, with screen-reader texts
    "Original price was: $X." / "Current price is: $Y."; maybe a price suffix ("per coin").
    Answer: the <ins> (or only) amount."""

    markup: ClassVar[str] = "woocommerce"
    price: float
    regular: float | None = None
    reader_texts: bool = False
    suffix: str = ""

    def list_amount(self) -> float | None:
        return self.regular

    def render(self, spec: PageSpec) -> str:
        def amount(usd: float) -> str:
            if spec.currency.template == "${n}":
                shown = f'<span class="woocommerce-Price-currencySymbol">$</span>{usd:,.2f}'
            else:
                shown = spec.currency.text(usd)
            return f'<span class="woocommerce-Price-amount amount"><bdi>{shown}</bdi></span>'

        suffix = f' <small class="woocommerce-price-suffix">{self.suffix}</small>' if self.suffix else ""
        if self.regular is None:
            return f'<p class="price">{amount(self.price)}{suffix}</p>'
        was_text = now_text = ""
        if self.reader_texts:
            reader = '<span class="screen-reader-text">{} price {}: {}.</span>'
            was_text = reader.format("Original", "was", spec.currency.text(self.regular))
            now_text = reader.format("Current", "is", spec.currency.text(self.price))
        return (f'<p class="price"><del aria-hidden="true">{amount(self.regular)}</del> {was_text}'
                f'<ins aria-hidden="true">{amount(self.price)}</ins>{now_text}{suffix}</p>')

    def variant(self) -> str:
        return ", ".join(filter(None, ["sale" if self.regular else "", self.suffix]))


@dataclass(frozen=True)
class BigCommercePrice(Display):
    """BigCommerce sections: "MSRP:" (price--rrp), "Was:" (price--non-sale), then the price
    (price--withoutTax, maybe after "Now:"), maybe "(You save $X)" (price--saving).
    Answer: the price--withoutTax amount."""

    markup: ClassVar[str] = "bigcommerce"
    price: float
    msrp: float | None = None
    was: float | None = None
    now_label: bool = False
    saving: bool = False

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
        higher = self.was or self.msrp
        if self.saving and higher:
            rows.append(f'<div class="price-section price-section--saving price"><span class="price">(You save</span> '
                        f'<span data-product-price-saved class="price price--saving">'
                        f'{spec.currency.text(higher - self.price)}</span><span class="price">)</span></div>')
        return '<div class="productView-price">\n' + "\n".join(rows) + "\n</div>"

    def variant(self) -> str:
        return ", ".join(filter(None, ["msrp" if self.msrp else "", "was" if self.was else "",
                                       "saving" if self.saving and (self.was or self.msrp) else ""]))
