"""Labelled prices ("Sale price $X", "Regular price $X", "Price: $X") and the guarded prose fallback.

Labels, in order: a Shopify "Sale price" wins over its "Regular price" (a sale is the price
you pay), then "Our price"/"Your price", then a bare "Price:". The price is the first amount
after the label on its line, or the next line when that line is just a price.

Bulk labels ("As low as $X", `rules.bulk_labels`) name the price of the largest tier. They
are never read as the unit price: when a page offers nothing but a bulk price, extraction
fails with no_price instead of guessing (the next fetcher or the next cycle may do better).

Prose fallback: a dollar amount on the lines right after the product title or around the
add-to-cart button, only when every plausible amount there is the same number.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from staktrakr.catalog import VendorRules
from staktrakr.extract.money import Candidate, evidence, find_amounts, is_money_only
from staktrakr.extract.sanity import Band

# (label kind, pattern) in preference order; all read the same unit price of the same product.
PRICE_LABELS = (
    ("sale price", re.compile(r"\bsale\s+price\b\s*:?", re.IGNORECASE)),
    ("regular price", re.compile(r"\bregular\s+price\b\s*:?", re.IGNORECASE)),
    ("our price", re.compile(r"\b(?:our|your)\s+price\b\s*:?", re.IGNORECASE)),
    ("price", re.compile(r"\bprice\s*:|^price$", re.IGNORECASE)),
)
# Amounts in these contexts are not the product's unit price.
NOT_A_PRICE_WORDS = (
    "save", " off", "shipping", "orders over", "over $", "reward", "cashback", "cash back", "points",
    "spot", "premium", "was ", "msrp", "compare at", "per gram", "/gram", "per oz", "/oz", "loyalty",
    "coupon", "discount", "tube", "roll", "box", "subtotal", "cart total", "credit card", "card price",
    "paypal", "market value", "melt",
)
# "Spot price:", "Card price:", "Compare at price:" are labels of other numbers.
LABEL_DISQUALIFIERS = ("spot", "premium", "melt", "market", "compare", "was", "msrp", "card", "paypal", "credit")
LABEL_CONTEXT_CHARS = 25
# A price label sits on a short line; long lines are descriptions (and cost time on huge pages).
LABEL_LINE_MAX_CHARS = 300
PROSE_TITLE_WINDOW_LINES = 20
PROSE_CART_WINDOW_LINES = 6
CART_WORDS = ("add to cart", "add to bag", "buy now")


@dataclass(frozen=True)
class BulkPrice:
    price: float
    evidence: str


def label_candidates(lines: list[str], rules: VendorRules) -> list[Candidate]:
    """Labelled prices, most preferred first; each label contributes its first occurrence."""
    found = []
    labelled = [
        index for index, line in enumerate(lines) if len(line) <= LABEL_LINE_MAX_CHARS and "price" in line.lower()
    ]
    for kind, pattern in PRICE_LABELS:
        for index in labelled:
            line = lines[index]
            match = pattern.search(line)
            if match is None or _is_unit_of_measure(line, match):
                continue
            before = line[max(0, match.start() - LABEL_CONTEXT_CHARS) : match.start()].lower()
            if _is_bulk(before, rules) or any(word in before for word in LABEL_DISQUALIFIERS):
                continue
            price, shown = _amount_after(lines, index, match.end(), rules)
            if price is not None:
                found.append(Candidate(price, "label", evidence(shown)))
                break
    return found


def _is_unit_of_measure(line: str, match: re.Match[str]) -> bool:
    """Shopify 'Unit price ... per' is a per-measure price, not the item price."""
    before = line[max(0, match.start() - 6) : match.start()].lower()
    return "unit" in before or " per " in line[match.end() : match.end() + 40].lower()


def _amount_after(lines: list[str], index: int, offset: int, rules: VendorRules) -> tuple[float | None, str]:
    rest = lines[index][offset:]
    amounts = find_amounts(rest)
    if amounts:
        if _is_bulk(rest[: amounts[0].start], rules):
            return None, ""
        return amounts[0].value, lines[index]
    if not rest.strip() and index + 1 < len(lines) and is_money_only(lines[index + 1]):
        return find_amounts(lines[index + 1])[0].value, f"{lines[index]} {lines[index + 1]}"
    return None, ""


def _is_bulk(text: str, rules: VendorRules) -> bool:
    lowered = text.lower()
    return any(label in lowered for label in rules.bulk_labels)


def bulk_prices(lines: list[str], rules: VendorRules) -> list[BulkPrice]:
    """Amounts introduced by a bulk label ("As low as $X"), same line or the next price-only line."""
    found = []
    for index, line in enumerate(lines):
        lowered = line.lower()
        for label in rules.bulk_labels:
            position = lowered.find(label)
            if position < 0:
                continue
            amounts = find_amounts(line[position:])
            if amounts:
                found.append(BulkPrice(amounts[0].value, evidence(line)))
            elif index + 1 < len(lines) and is_money_only(lines[index + 1]):
                found.append(BulkPrice(find_amounts(lines[index + 1])[0].value, evidence(f"{line} {lines[index + 1]}")))
            break
    return found


def prose_candidate(
    lines: list[str], title_index: int | None, rules: VendorRules, band: Band
) -> tuple[Candidate | None, str]:
    """A lone plausible amount near the title or the add-to-cart button; (None, why) when unsure."""
    windows = []
    if title_index is not None:
        windows.append(range(title_index, min(len(lines), title_index + PROSE_TITLE_WINDOW_LINES)))
    for index, line in enumerate(lines):
        if any(word in line.lower() for word in CART_WORDS):
            low = max(0, index - PROSE_CART_WINDOW_LINES)
            windows.append(range(low, min(len(lines), index + PROSE_CART_WINDOW_LINES + 1)))
    plausible: dict[float, str] = {}
    seen: set[int] = set()
    for window in windows:
        for index in window:
            if index in seen:
                continue
            seen.add(index)
            line = lines[index]
            if len(line) > LABEL_LINE_MAX_CHARS:
                continue
            lowered = line.lower()
            if _is_bulk(lowered, rules) or any(word in lowered for word in NOT_A_PRICE_WORDS):
                continue
            if index > 0 and _is_bulk(lines[index - 1].lower(), rules) and not find_amounts(lines[index - 1]):
                continue  # "As Low As" on one line, its amount on the next
            for amount in find_amounts(line):
                if band.contains(amount.value):
                    plausible.setdefault(round(amount.value, 2), line)
    if len(plausible) == 1:
        price, line = next(iter(plausible.items()))
        return Candidate(price, "prose", evidence(line)), ""
    if len(plausible) > 1:
        shown = ", ".join(f"${value:,.2f}" for value in sorted(plausible)[:4])
        return None, f"several plausible amounts near the title ({shown}); not guessing"
    return None, ""
