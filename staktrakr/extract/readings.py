"""Price readings: every amount a reader saw on a page, before any decision is made.

Extraction is two steps. Readers (structured data, pricing tables, labels, prose) each report
what they see as `Reading`s: an amount, its currency, its role (what the number is: the unit
price, a check/wire or card column, a sale or "was" price, a bulk or threshold amount, ...),
its locus (the page's main product or another product's card, a sidebar, a ticker, ...) and
the rule that read it. Then one decision step (decide.py) picks the unit price from the
readings, or fails with the reason, and every reading carries its verdict so `--json` answers
"why this number".
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import Enum


class Role(str, Enum):
    """What an amount on a dealer page is."""

    UNIT = "unit"                # the price of one unit, unlabelled or labelled plainly ("Price:")
    CHECK_WIRE = "check_wire"    # first quantity tier in a preferred payment column (check/wire/ACH...)
    SALE = "sale"                # "Sale price", "Special price", <ins>: what the buyer pays now
    REGULAR = "regular"          # "Regular price": the price when there is no sale
    WAS = "was"                  # struck out, "was", list price, MSRP, compare-at: never the price
    CARD = "card"                # a card/PayPal column or label: not the check/wire price
    OTHER_CELL = "other_cell"    # another tier or column of the chosen pricing table
    BULK = "bulk"                # "As low as", "Starting at": the largest tier's price
    PREMIUM = "premium"          # premium over spot
    THRESHOLD = "threshold"      # an order threshold or minimum ("orders $99+ ship free")
    SHIPPING = "shipping"        # a shipping cost
    FEE = "fee"                  # a processing, wire or handling fee
    SAVINGS = "savings"          # "Save $3.00", "$5 off", a discount or coupon
    TOTAL = "total"              # cart total, subtotal
    SPOT = "spot"                # a spot, melt or market value quote
    BID = "bid"                  # what the dealer pays ("We buy at")
    PER_MEASURE = "per_measure"  # a price per gram / per ounce of a bigger item
    PACK = "pack"                # a tube, roll or box price
    REWARD = "reward"            # loyalty points, cash back
    CONVERTED = "converted"      # "≈ €79.50": a conversion shown for information
    MENTION = "mention"          # an amount inside a sentence ("insured up to $5,000"), not shown as a price

    @property
    def may_be_unit_price(self) -> bool:
        return self in UNIT_PRICE_ROLES


UNIT_PRICE_ROLES = frozenset({Role.UNIT, Role.CHECK_WIRE, Role.SALE, Role.REGULAR})


class Locus(str, Enum):
    """Where on the page a reading sits; only MAIN readings can be the price."""

    MAIN = "main"                    # the page's own product
    OTHER_PRODUCT = "other_product"  # another product: related items, a carousel, another scope
    SIDEBAR = "sidebar"
    HEADER = "header"                # the site header, above the product title
    TICKER = "ticker"                # a spot ticker
    NAVIGATION = "navigation"
    FOOTER = "footer"
    OVERLAY = "overlay"              # a popup, modal or mini-cart
    ELSEWHERE = "elsewhere"          # a region the vendor's catalog rules cut
    HIDDEN = "hidden"                # kept off the screen by a hiding class


STRUCTURED_RULES = frozenset({"jsonld", "microdata", "rdfa"})
TABLE_RULES = frozenset({"table", "grid", "tier_text"})


@dataclass(frozen=True)
class Reading:
    """One amount seen on a page.

    amount:   the number as shown (currency units, not cents)
    currency: ISO 4217 code when the page says which ("USD", "CAD", ...); None for a bare "$"
    role, locus: see Role and Locus
    rule:     the reader: "jsonld", "microdata", "rdfa", "meta", "table", "grid" (a pricing grid of
              divs), "tier_text" (a grid flattened to lines), "label",
              "prose", "text" (amounts seen outside the product region, for the record)
    evidence: the text it was read from (short)
    group:    readings of one source that belong together (e.g. "table#0": one pricing table)
    verdict:  what the decision made of it ("chosen", "agrees", "was price", ...), set by decide
    """

    amount: float
    currency: str | None
    role: Role
    locus: Locus
    rule: str
    evidence: str
    group: str = ""
    verdict: str = ""

    @property
    def is_dollars(self) -> bool:
        """US dollars: marked USD, or a bare "$" on a page not priced in another currency."""
        return self.currency in (None, "USD")

    @property
    def cents(self) -> int:
        return round(self.amount * 100)

    def judged(self, verdict: str) -> Reading:
        return replace(self, verdict=verdict)

    def describe(self) -> str:
        currency = "" if self.currency in (None, "USD") else f" {self.currency}"
        return f"{self.rule} {self.role.value} {self.amount:,.2f}{currency}"

    def to_json(self) -> dict[str, object]:
        return {
            "amount": round(self.amount, 2), "currency": self.currency or "$", "role": self.role.value,
            "locus": self.locus.value, "rule": self.rule, "evidence": self.evidence, "verdict": self.verdict,
        }
