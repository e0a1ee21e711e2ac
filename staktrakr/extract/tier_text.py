"""Pricing grids written as lines of text: a tier grid flattened to lines (jmbullion: "(e)Check/Wire",
"Card/PayPal", then "1-9" and one price per column), tiers listed with one price each ("1-19
$783.40" / "20-99 $779.48"), and one price per payment method on a line ("Check/Wire: $86.39",
"$86.39 by check, $89.85 by card"). Column words and tiers are read as in tables.py.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from staktrakr.catalog import VendorRules
from staktrakr.extract.money import Amount, context_role, evidence, find_amounts, is_money_only
from staktrakr.extract.readings import Locus, Reading, Role
from staktrakr.extract.tables import (
    FLAT_LOOKAHEAD_LINES,
    PAYMENT_LABEL_MAX_CHARS,
    QUANTITY_HEADER,
    Tier,
    column_rank,
    is_payment_header,
    parse_tier,
)

FLAT_GRID_SPAN_LINES = 60


def flat_tier_readings(lines: list[str], rules: VendorRules, group: str = "tier_text") -> list[Reading]:
    """A tier grid flattened to lines: payment headers, then a tier line, then one price per column.
    Dealers that list tiers once per payment method ("Bitcoin" 1+ $X ..., "Wire / Check" 1+ $Y ...)
    give one grid per method: the best-ranked method among the grids near the first one wins, and
    the others' first-tier prices are other columns."""
    grids: list[tuple[int, list[Reading]]] = []
    for index, rank, readings in _flat_grids(lines, rules, group):
        if grids and index > grids[0][0] + FLAT_GRID_SPAN_LINES:
            break
        grids.append((rank, readings))
    if not grids:
        return []
    best_rank = min(rank for rank, _ in grids)
    best = [readings for rank, readings in grids if rank == best_rank]
    if len({readings[0].cents for readings in best}) > 1:
        best = best[:1]  # equally ranked grids that disagree: the first grid on the page counts
    chosen = best[0]
    others = [Reading(r.amount, r.currency, Role.OTHER_CELL if r.role is Role.CHECK_WIRE else r.role, r.locus,
                      r.rule, r.evidence, r.group) for _, readings in grids if readings is not chosen for r in readings]
    return [*chosen, *others]


def _flat_grids(lines: list[str], rules: VendorRules, group: str) -> Iterator[tuple[int, int, list[Reading]]]:
    """(line index, column rank, readings) of every flattened grid, in page order."""
    read_until = 0
    for index, line in enumerate(lines):
        if index < read_until or len(line) > 40 or column_rank(line, rules) is None or find_amounts(line):
            continue
        start = index
        while start > 0 and _is_header_cell(lines[start - 1], rules):
            start -= 1
        headers: list[str] = []
        cursor = start
        while cursor < len(lines) and cursor < index + FLAT_LOOKAHEAD_LINES and _line_tier(lines[cursor]) is None:
            label = lines[cursor]
            if len(label) > 40 or find_amounts(label):
                break
            # Before the preferred column only known headers count; after it, any short label is a column.
            if is_payment_header(label, rules) or (cursor > index and not QUANTITY_HEADER.search(label)):
                headers.append(label)
            elif cursor > index or not _is_header_cell(label, rules):
                break
            cursor += 1
        if cursor >= len(lines) or _line_tier(lines[cursor]) is None or not headers:
            continue
        tier_line, prices, tail = _lowest_tier_block(lines, cursor)
        ranked = [(column_rank(text, rules), position) for position, text in enumerate(headers)]
        best = min((item for item in ranked if item[0] is not None), default=None)
        if best is None or not prices:
            continue
        position = best[1]
        if len(prices) == len(headers):
            price = prices[position]
        elif position == 0 and not _unknown_column_before(lines, start):
            price = prices[0]
        else:
            continue
        shown = evidence(f"{headers[position]} / {tier_line} {tail}")
        first = Reading(price, None, Role.CHECK_WIRE, Locus.MAIN, "tier_text", shown, group)
        others = [
            Reading(other, None, Role.CARD if column_rank(headers[i], rules) is None else Role.OTHER_CELL,
                    Locus.MAIN, "tier_text", shown, group)
            for i, other in enumerate(prices) if i != position and i < len(headers)
        ]
        read_until = cursor + 1
        yield index, best[0] or 0, [first, *others]


PRICE_COLUMN_HEADER = re.compile(r"^(?:price|prices|price per (?:coin|bar|unit|piece)|per (?:coin|bar|unit)|each|"
                                 r"price ?/ ?ea\.?|unit price|your price|our price)\s*:?$", re.IGNORECASE)


def bare_tier_readings(lines: list[str], rules: VendorRules, group: str = "tier_text") -> list[Reading]:
    """Tiers listed with one price each and no payment columns ("Price" / "1-19" $783.40 / "20-99"
    $779.48): the lowest tier's price is the unit price (UNIT), the others other tiers. Needs two
    tiers or more, so a lone "1+ $X" line is left to the labels and prose."""
    for index, line in enumerate(lines):
        if _line_tier(line) is None:
            continue
        if index > 0 and not PRICE_COLUMN_HEADER.match(lines[index - 1]) and is_payment_header(lines[index - 1], rules):
            continue  # a payment method's list: the flattened grids read those
        blocks = []
        cursor = index
        while cursor < len(lines) and (tier := _line_tier(lines[cursor])) is not None:
            prices, tail, after = _prices_after_tier(lines, cursor)
            if len(prices) != 1:
                break
            blocks.append((tier.lowest_quantity, lines[cursor], prices[0], tail))
            cursor = after
        if len(blocks) < 2:
            continue
        lowest = min(blocks, key=lambda block: block[0])
        shown = evidence(f"{lowest[1]} {lowest[3]}")
        first = Reading(lowest[2], None, Role.UNIT, Locus.MAIN, "tier_text", shown, group)
        return [first, *(Reading(block[2], None, Role.OTHER_CELL, Locus.MAIN, "tier_text", evidence(block[1]), group)
                         for block in blocks if block is not lowest)]
    return []


PAID_BY = re.compile(r"^\s*\(?\s*(?:by|via|with|when paying (?:by|with)|paying (?:by|with)|paid (?:by|with))\s+",
                     re.IGNORECASE)


def payment_line_readings(lines: list[str], rules: VendorRules) -> list[Reading]:
    """One price per payment method ("Check/Wire: $86.39", "Card/PayPal: $89.85", the label on one
    line and the amount on the next, or "Pay $86.39 by check, $89.85 by card"): a one-tier grid
    written as lines. The best-ranked check/wire label is the check/wire price; the others are
    other columns; two different amounts under equally ranked labels are no check/wire price."""
    found: list[tuple[int | None, Reading]] = []
    for index, line in enumerate(lines):
        amounts = find_amounts(line, include_foreign=True)
        if not amounts and index + 1 < len(lines) and is_money_only(lines[index + 1]):
            following = find_amounts(lines[index + 1], include_foreign=True)
            label = line.strip(" :-|\t").strip()
            if following and label and len(label) <= PAYMENT_LABEL_MAX_CHARS and is_payment_header(label, rules):
                found.append(_payment_reading(following[0], label, f"{line} {lines[index + 1]}", rules))
            continue
        for amount, method in zip(amounts, _payment_labels(line, amounts, rules), strict=True):
            if method is not None and context_role(line, amount) in (None, Role.CARD):
                found.append(_payment_reading(amount, method, line, rules))
    ranks = [rank for rank, reading in found if reading.role is Role.CHECK_WIRE]
    if not ranks:
        return [reading for _, reading in found]
    best = min(rank for rank in ranks if rank is not None)
    best_amounts = {reading.cents for rank, reading in found if rank == best and reading.role is Role.CHECK_WIRE}
    result = []
    for rank, reading in found:
        if reading.role is Role.CHECK_WIRE and (rank != best or len(best_amounts) > 1):
            reading = Reading(reading.amount, reading.currency, Role.OTHER_CELL, Locus.MAIN, "label",
                              reading.evidence, "payment")
        result.append(reading)
    return result


def _payment_labels(line: str, amounts: list[Amount], rules: VendorRules) -> list[str | None]:
    """The payment label of each amount on a line: the labels stand either before their amounts
    ("Check/Wire: $86.39 · Card: $89.85") or after them ("$86.39 by check, $89.85 by card",
    "$86.39 (Check/Wire) | $89.85 (Card/PayPal)"); the line's first or last text decides which."""
    texts = [line[amounts[i - 1].end if i else 0 : amount.start] for i, amount in enumerate(amounts)]
    texts.append(line[amounts[-1].end :] if amounts else line)

    def label(text: str, after: bool) -> str | None:
        if after and text.rstrip().endswith(":"):
            return None  # "Card:" after an amount labels the next one
        if after:
            text = re.split(r"[|·•;,]|(?<=\))\s", text.strip(), maxsplit=1)[0]
            text = PAID_BY.sub("", text)
            text = re.sub(r"\bprice\b\s*$", "", text.strip(" ()"), flags=re.IGNORECASE)
        cleaned = text.strip(" :-|·•,;/\t*()").strip()
        fits = cleaned and len(cleaned) <= PAYMENT_LABEL_MAX_CHARS and is_payment_header(cleaned, rules)
        return cleaned if fits else None

    if label(texts[0], after=False) is not None or any(text.rstrip().endswith(":") for text in texts[1:-1]):
        return [label(text, after=False) for text in texts[:-1]]
    return [label(text, after=True) for text in texts[1:]]


def _payment_reading(amount: Amount, label: str, shown: str, rules: VendorRules) -> tuple[int | None, Reading]:
    rank = column_rank(label, rules)
    role = Role.CHECK_WIRE if rank is not None else Role.CARD
    return rank, Reading(amount.value, amount.currency, role, Locus.MAIN, "label", evidence(shown), "payment")


def _unknown_column_before(lines: list[str], start: int) -> bool:
    """A short label line right before the first known header may be a column we do not know
    ("Visa/MC"): then the prices cannot be matched to the headers by position."""
    if start == 0:
        return False
    line = lines[start - 1]
    return (len(line) <= PAYMENT_LABEL_MAX_CHARS and not find_amounts(line) and parse_tier(line) is None
            and not QUANTITY_HEADER.search(line))


def _line_tier(line: str) -> Tier | None:
    """The tier a line starts with: "1-9", "1-9 $95.49 $99.31", "1-19: US$30.28"."""
    amounts = find_amounts(line, include_struck=True, include_foreign=True) if "$" in line or "USD" in line else []
    return parse_tier(line[: amounts[0].start] if amounts else line.split("$", 1)[0])


def _is_header_cell(line: str, rules: VendorRules) -> bool:
    """A short label line (a payment method or 'Quantity'), no price, no tier."""
    return (
        len(line) <= 40
        and not find_amounts(line)
        and parse_tier(line) is None
        and (is_payment_header(line, rules) or bool(QUANTITY_HEADER.search(line)) or line.lower() == "price")
    )


def _lowest_tier_block(lines: list[str], cursor: int) -> tuple[str, list[float], str]:
    """(tier line, its prices, their text) of the lowest-quantity tier among the tier blocks that
    start at `cursor` (dealers list tiers ascending or descending)."""
    blocks = []
    while cursor < len(lines) and (tier := _line_tier(lines[cursor])) is not None:
        prices, tail, after = _prices_after_tier(lines, cursor)
        if not prices:
            break
        blocks.append((tier.lowest_quantity, lines[cursor], prices, tail))
        cursor = after
    if not blocks:
        return lines[cursor] if cursor < len(lines) else "", [], ""
    _, tier_line, prices, tail = min(blocks, key=lambda block: block[0])
    return tier_line, prices, tail


def _prices_after_tier(lines: list[str], tier_index: int) -> tuple[list[float], str, int]:
    """Prices on the tier line after the tier, then on following price-only lines; and the index after them."""
    line = lines[tier_index]
    prices = [amount.value for amount in find_amounts(line)]
    shown = [line]
    cursor = tier_index + 1
    while cursor < len(lines) and is_money_only(lines[cursor]) and len(prices) < 8:
        found = find_amounts(lines[cursor])
        if not found:
            break
        prices.append(found[0].value)
        shown.append(lines[cursor])
        cursor += 1
    return prices, " ".join(shown[1:]) if len(shown) > 1 else "", cursor
