"""How a page writes money: its currency (every amount on the page) and the main amount's markup.

Rules a careful reader applies, and so the answer does:
- "$86.39", "US$86.39", "US $86.39", "$ 86.39", "$86.39 USD", "USD $86.39", "USD 86.39",
  "86.39 USD", with a normal, non-breaking or thin space, are US dollars;
- "C$", "CA$", "CAD", "A$", "AU$", "AUD", "NZ$", "HK$", "S$", "MX$", "€", "EUR", "£", "GBP",
  "CHF" (prefix or suffix) are not: a page priced in them has no US dollar price;
- the main amount may be split over elements ("$<span>5,163</span><sup>42</sup>"), carry a
  per-unit suffix ("$86.39 ea", "/ea", " each"), sit in <data value>, <bdi> or a link, or show
  whole dollars ("$87", then the unit price has no cents): it is still that one amount.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tests.pagegen.page import PageSpec


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

    @property
    def marks_usd(self) -> bool:
        """Every amount says US dollars in words ("USD", "US$"), not just "$"."""
        return self.code == "USD" and "US" in self.template


USD_CURRENCIES = (Currency("USD", "${n}"), Currency("USD", "US${n}"), Currency("USD", "${n} USD"),
                  Currency("USD", "USD ${n}"), Currency("USD", "US ${n}"), Currency("USD", "$ {n}"),
                  Currency("USD", "USD {n}"), Currency("USD", "{n} USD"), Currency("USD", "$\u00a0{n}"),
                  Currency("USD", "${n}\u00a0USD"), Currency("USD", "$\u2009{n}"))
FOREIGN_CURRENCIES = (
    Currency("CAD", "${n} CAD", 1.37), Currency("CAD", "C${n}", 1.37), Currency("CAD", "CA${n}", 1.37),
    Currency("CAD", "CAD ${n}", 1.37), Currency("AUD", "A${n}", 1.52), Currency("AUD", "AU${n}", 1.52),
    Currency("AUD", "${n} AUD", 1.52), Currency("NZD", "NZ${n}", 1.68), Currency("MXN", "MX${n}", 17.2),
    Currency("EUR", "€{n}", 0.92), Currency("EUR", "{n} €", 0.92, True), Currency("GBP", "£{n}", 0.79),
    Currency("GBP", "GBP {n}", 0.79), Currency("HKD", "HK${n}", 7.8), Currency("SGD", "S${n}", 1.34),
    Currency("CHF", "CHF {n}", 0.88), Currency("NZD", "${n} NZD", 1.68), Currency("MXN", "${n} MXN", 17.2),
    Currency("CAD", "CAD {n}", 1.37), Currency("EUR", "EUR {n}", 0.92, True),
)
# Converted secondary prices beside a USD-marked price ("approx. C$118.40").
CONVERTED_CURRENCIES = (FOREIGN_CURRENCIES[1], FOREIGN_CURRENCIES[0], FOREIGN_CURRENCIES[9], FOREIGN_CURRENCIES[11],
                        FOREIGN_CURRENCIES[4])


@dataclass(frozen=True)
class MoneyStyle:
    """The main amount's markup. `split`: "plain", "sup" ($<span>5,163</span><sup>42</sup>),
    "sup_dot" ($5,163<sup>.42</sup>), "spans" (currency/whole/decimal/fraction spans) or "whole"
    (no cents: the unit price is a whole number of dollars); `suffix` (" ea", "/ea", " each");
    `wrap`: "", "data" (<data value>), "bdi" or "link" (the amount is a link to the page)."""

    split: str = "plain"
    suffix: str = ""
    wrap: str = ""

    @property
    def is_plain(self) -> bool:
        return self == MoneyStyle()

    def label(self) -> str:
        return "+".join(filter(None, [self.split if self.split != "plain" else "", self.suffix.strip(),
                                      self.wrap]))


def main_money(spec: PageSpec, usd: float) -> str:
    """The product's own amount as HTML in the page's money style."""
    style, currency = spec.money, spec.currency
    if style.split == "whole":
        shown = currency.text(usd, whole=True)
    elif style.split == "plain" or currency.template != "${n}":
        shown = currency.text(usd)
    else:
        dollars, cents = f"{usd:,.2f}".split(".")
        shown = {
            "sup": f"$<span>{dollars}</span><sup>{cents}</sup>",
            "sup_dot": f"${dollars}<sup>.{cents}</sup>",
            "spans": f'<span class="currency">$</span><span class="whole">{dollars}</span>'
                     f'<span class="decimal">.</span><span class="fraction">{cents}</span>',
        }[style.split]
    shown += style.suffix
    if style.wrap == "data":
        return f'<data value="{currency.number(usd):.2f}">{shown}</data>'
    if style.wrap == "bdi":
        return f"<bdi>{shown}</bdi>"
    if style.wrap == "link":
        return f'<a href="{spec.url}" class="price-link">{shown}</a>'
    return shown
