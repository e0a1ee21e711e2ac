"""Volume pricing: quantity tiers by payment method, as a table, a grid of divs or lists.

Rule for every shape: the unit price is the first (lowest-quantity) tier in the check/wire
column ("Check/Wire", "eCheck", "ACH/eCheck", "Bank Wire", "Paper Check"...), never a card,
PayPal or crypto column nor a larger tier. A grid with one price column (headed "Price",
"Price Each", "Price per coin", "Each" or nothing) has no payment methods: its first tier is
the answer. Tier labels always name a quantity a reader understands ("1-19", "1 to 9", "1+",
"Qty 1-24", "Any Qty", "1-19 coins", or bare "1", "20"... under a "Quantity" header).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from tests.pagegen.base import definition_list
from tests.pagegen.displays import Display

if TYPE_CHECKING:
    from tests.pagegen.page import PageSpec


@dataclass(frozen=True)
class TierGrid(Display):
    """What every tier shape holds: tier labels, payment methods ("check", "card", "paypal",
    "crypto", "ach") with their column labels, and grid[tier][column], tiers ascending."""

    tiers: tuple[str, ...]
    methods: tuple[str, ...]
    labels: tuple[str, ...]
    grid: tuple[tuple[float, ...], ...]

    def answer(self) -> float:
        return self.grid[0][self.methods.index("check")]

    def card_amount(self) -> float | None:
        return self.grid[0][self.methods.index("card")] if "card" in self.methods else None

    def column(self, method: str) -> tuple[float, ...]:
        """Every tier's price in one method's column, tiers ascending."""
        return tuple(row[self.methods.index(method)] for row in self.grid)


@dataclass(frozen=True)
class TierTable(TierGrid):
    """Tiers as rows (or transposed: tiers as columns, one row per method), as a <table> or a grid
    of divs, under a heading ("Volume Pricing", "Quantity Pricing"...), maybe an "MSRP: $X" line
    above and a "Prices are per coin" note below."""

    markup: ClassVar[str] = "tier_table"
    transposed: bool = False
    divs: bool = False
    qty_header: str = ""
    msrp: float | None = None
    heading: str = "Volume Pricing"
    css: str = "volume-pricing"
    per_unit_note: bool = False

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
            grid = (f'<table class="{self.css}">\n<thead><tr>{header}</tr></thead>\n'
                    "<tbody>\n" + "\n".join(rows) + "\n</tbody>\n</table>")
        msrp = f'<div class="msrp">MSRP: {spec.currency.text(self.msrp)}</div>\n' if self.msrp else ""
        heading = f"<h3>{self.heading}</h3>\n" if self.heading else ""
        note = f'\n<p class="tier-note">Prices shown are per {spec.coin.unit_word}.</p>' if self.per_unit_note else ""
        return f'<div class="pricing">\n{msrp}{heading}{grid}{note}\n</div>'

    def variant(self) -> str:
        shape = ("transposed " if self.transposed else "") + ("divs" if self.divs else "table")
        return f"{shape}, {'one price column' if len(self.methods) == 1 else 'payment columns'}"


@dataclass(frozen=True)
class TierList(TierGrid):
    """Tiers as lists: a <ul> of "1-19: $86.39" items or a <dl> of tier/price pairs; with several
    payment methods, one list per method under its heading ("Check/Wire Price", "Credit Card
    Price", in the methods' order); with one, maybe no heading at all."""

    markup: ClassVar[str] = "tier_list"
    dl: bool = False
    each: bool = False  # "$86.39 ea" in every item

    def render(self, spec: PageSpec) -> str:
        blocks = []
        for column, label in enumerate(self.labels):
            prices = [spec.currency.text(row[column]) + (" ea" if self.each else "") for row in self.grid]
            if self.dl:
                body = definition_list("tier-prices", list(zip(self.tiers, prices, strict=False)))
            else:
                items = "".join(f'<li class="tier"><span class="qty">{tier}:</span> '
                                f'<span class="amount">{price}</span></li>' for tier, price in zip(self.tiers, prices, strict=False))
                body = f'<ul class="tier-prices">{items}</ul>'
            heading = f"<h4>{label}</h4>" if label else ""
            blocks.append(f'<div class="tier-block">{heading}{body}</div>')
        return '<div class="quantity-pricing">\n' + "\n".join(blocks) + "\n</div>"

    def variant(self) -> str:
        return f"{'dl' if self.dl else 'ul'}, {'one list' if len(self.methods) == 1 else 'one list per method'}"
