"""What every page part shares: the catalog coins and vendors the pages are for, `Part`, and small
HTML helpers."""

from __future__ import annotations

import re
from dataclasses import dataclass, fields

from tests.extract_fixtures import CATALOG

VENDORS = ("apmex", "jmbullion", "monumentmetals", "bullionexchanges", "sdbullion", "summitmetals",
           "herobullion", "gainesvillecoins", "providentmetals")


def preorder_ok(vendor: str) -> bool:
    """Whether the vendor's catalog rules count a buyable pre-order as in stock (providers.json)."""
    return CATALOG.rules_for(vendor).preorder_ok


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

    @property
    def unit_word(self) -> str:
        return "bar" if "bar" in self.slug else "coin"


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


def leading_number(label: str) -> int:
    """The first whole number in a label ("Tube of 20" -> 20, "Qty 25-99" -> 25), 1 when it has none."""
    found = re.search(r"\d+", label)
    return int(found.group()) if found else 1


def definition_list(css: str, pairs: list[tuple[str, str]]) -> str:
    """A <dl> of (term, description) HTML pairs."""
    return f'<dl class="{css}">' + "".join(f"<dt>{term}</dt><dd>{text}</dd>" for term, text in pairs) + "</dl>"


def radio_group(name: str, legend: str, css: str, choices: list[str]) -> str:
    """A <fieldset> of radio choices (each choice's HTML inside its <label>), the first checked."""
    labels = "".join(f'<label class="{name}-choice"><input type="radio" name="{name}"'
                     f'{" checked" if index == 0 else ""}> {choice}</label>' for index, choice in enumerate(choices))
    return f'<fieldset class="{css}"><legend>{legend}</legend>{labels}</fieldset>'


class Part:
    """A page part; `short()` names it with its non-empty fields for reports."""

    def short(self) -> str:
        values = [(f.name, getattr(self, f.name)) for f in fields(self)]
        shown = [f"{name}={value!r}" for name, value in values if value not in (None, "", False, ())]
        return f"{type(self).__name__}({', '.join(shown)})"
