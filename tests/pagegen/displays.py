"""How the main product shows its price, in generic dealer markup; the shop-platform themes are
in themes.py, pricing tables in tiers.py, schema.org markup in structured.py.

Each display's docstring states which of its amounts a careful reader takes (`answer()`);
`list_amount()` and `card_amount()` name the visible amounts that are never the answer but
that structured data may repeat (issue 10: a card column or a list price).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from tests.pagegen.base import Part, definition_list, radio_group
from tests.pagegen.money import main_money

if TYPE_CHECKING:
    from tests.pagegen.page import PageSpec


def percent_off(regular: float, price: float) -> int:
    """The whole percentage a sale takes off the regular price (for "Save 5%" badges)."""
    return max(1, round((regular - price) / regular * 100))


class Display(Part):
    """How the main product shows its price. `answer()` is the unit price a careful reader takes."""

    markup: ClassVar[str]
    shows_price: ClassVar[bool] = True  # False: the only price is in structured data (not in text)

    def answer(self) -> float:
        return self.price  # type: ignore[attr-defined]

    def list_amount(self) -> float | None:
        """A visible regular/was/MSRP amount (never the answer), if the display shows one."""
        return None

    def card_amount(self) -> float | None:
        """A visible card-column first-tier amount (never the answer), if the display shows one."""
        return None

    def scope_attrs(self) -> tuple[str, str]:
        """Attributes for the product's <main> and its <h1> (a structured product scope), if any."""
        return "", ""

    def variant(self) -> str:
        """A short name of the display's variant, for reports ("" when it has none)."""
        return ""


@dataclass(frozen=True)
class PlainPrice(Display):
    """One amount under the title, maybe after a label that names the asking price ("Price:",
    "Our Price:", "Your Price", "Today's Price:", "Now:", "Sale:", "Special Price:", "Price Each:").
    Answer: that amount."""

    markup: ClassVar[str] = "plain"
    price: float
    label: str = ""

    def render(self, spec: PageSpec) -> str:
        label = f'<span class="price-label">{self.label}</span> ' if self.label else ""
        return f'<div class="product-price">{label}<span class="price">{main_money(spec, self.price)}</span></div>'

    def variant(self) -> str:
        return f"label={self.label or 'none'}"


@dataclass(frozen=True)
class LabelledSale(Display):
    """A sale told in words: the old amount after "Was", "Reg.", "List Price:", "Retail:", "MSRP",
    "Compare at", "Original Price:" (struck out or not), the new one after "Now", "Sale",
    "Special Price:", "Our Price:", "Your Price:", "Today's Price:", "Price:"; either order, on
    one line, two lines or as a <dl>; maybe "You save $X (N%)" or a "Save N%" badge.
    Answer: the new amount."""

    markup: ClassVar[str] = "labelled_sale"
    price: float
    regular: float
    old_label: str
    new_label: str
    struck: bool = False
    new_first: bool = False
    layout: str = "lines"  # "lines" | "inline" | "dl"
    savings: str = ""  # "" | "amount" | "badge"
    old_css: str = "regular-price"

    def list_amount(self) -> float | None:
        return self.regular

    def render(self, spec: PageSpec) -> str:
        old_money = spec.currency.text(self.regular)
        old_money = f"<s>{old_money}</s>" if self.struck else f'<span class="{self.old_css}">{old_money}</span>'
        new_money = f'<span class="sale-price">{main_money(spec, self.price)}</span>'
        pairs = [(self.old_label, old_money), (self.new_label, new_money)]
        pairs = pairs[::-1] if self.new_first else pairs
        if self.layout == "dl":
            body = definition_list("price-list", pairs)
        elif self.layout == "inline":
            body = '<div class="price-line">' + " ".join(f"<span>{label}</span> {money}" for label, money in pairs)
            body += "</div>"
        else:
            body = "\n".join(f'<div class="price-row"><span class="price-label">{label}</span> {money}</div>'
                             for label, money in pairs)
        pct = percent_off(self.regular, self.price)
        if self.savings == "amount":
            body += f'\n<div class="you-save">You save {spec.currency.text(self.regular - self.price)} ({pct}%)</div>'
        elif self.savings == "badge":
            body = f'<span class="badge badge--sale">Save {pct}%</span>\n' + body
        return f'<div class="product-pricing">\n{body}\n</div>'

    def variant(self) -> str:
        return f"{self.layout}{', struck' if self.struck else ''}{', ' + self.savings if self.savings else ''}"


@dataclass(frozen=True)
class PaymentPrices(Display):
    """One price per payment method, no quantity tiers: "Check/Wire: $86.39", "Credit Card: $89.85",
    maybe "Bitcoin: $85.52", in any order, as lines, a <dl>, a two-column table, radio choices or
    one line. Check-side labels name check, wire, eCheck or ACH ("Bank Wire", "ACH/eCheck",
    "Paper Check"...), card-side labels name a card, PayPal or Affirm ("Visa/MC", "Debit/Credit",
    "Card Payments", "PayPal/Affirm"...). Answer: the check/wire amount."""

    markup: ClassVar[str] = "payment_lines"
    price: float
    card: float
    check_label: str
    card_label: str
    card_first: bool = False
    crypto: float | None = None
    crypto_label: str = ""
    layout: str = "lines"  # "lines" | "dl" | "table" | "radios" | "inline"

    def card_amount(self) -> float | None:
        return self.card

    def render(self, spec: PageSpec) -> str:
        rows = [(self.check_label, main_money(spec, self.price)), (self.card_label, spec.currency.text(self.card))]
        rows = rows[::-1] if self.card_first else rows
        if self.crypto is not None:
            rows.insert(1, (self.crypto_label, spec.currency.text(self.crypto)))
        if self.layout == "dl":
            return definition_list("payment-prices", rows)
        if self.layout == "table":
            cells = "".join(f"<tr><td>{label}</td><td>{money}</td></tr>" for label, money in rows)
            return (f'<table class="payment-options"><thead><tr><th>Payment Method</th><th>Price</th></tr></thead>'
                    f"<tbody>{cells}</tbody></table>")
        if self.layout == "radios":
            return radio_group("payment", "Price by payment method", "payment-method",
                               [f'{label} <span class="pay-price">{money}</span>' for label, money in rows])
        if self.layout == "inline":
            return ('<div class="payment-prices">'
                    + " &middot; ".join(f"{label}: <b>{money}</b>" for label, money in rows) + "</div>")
        lines = [f'<div class="pay-row"><span class="pay-label">{label}:</span> '
                 f'<span class="pay-price">{money}</span></div>' for label, money in rows]
        return '<div class="payment-prices">\n' + "\n".join(lines) + "\n</div>"

    def variant(self) -> str:
        return f"{self.layout}{', crypto' if self.crypto else ''}"
