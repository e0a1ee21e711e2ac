"""Dealer pricing tables: the first quantity tier, in the check/wire column.

Three shapes, one reader (`read_grid` on a list of rows of cell texts):
- HTML `<table>`s and markdown pipe tables, tiers as rows ("1-9 | $95.49 | $99.31") or,
  transposed, tiers as columns with one row per payment method;
- tier grids flattened to text lines (jmbullion): "(e)Check/Wire", "Card/PayPal", then a
  tier "1-9", then one price per payment column.

Column choice: the header naming the earliest keyword of `rules.price_columns` and none of
`rules.avoid_columns`. With no payment headers, the first price column not under an avoided
header (dealers put check/wire first). Only the first grid on the page counts: a second
table may be another product's, so its price is never a substitute.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import lxml.html

from staktrakr.catalog import VendorRules
from staktrakr.extract.money import Candidate, evidence, find_amounts, is_money_only

TIER_RANGE = re.compile(
    r"^(?:qty\.?|quantity|buy)?\s*:?\s*\(?\s*(\d{1,5})\s*(?:-|–|—|to)\s*(?:\d{1,5}|\+|∞)\s*\)?"
    r"\s*(?:pcs|coins?|units?|bars?|rounds?|ea|items?|pieces?)?\s*:?$",
    re.IGNORECASE,
)
TIER_OPEN = re.compile(
    r"^(?:qty\.?|quantity|buy)?\s*:?\s*(\d{1,5})\s*(?:\+|or more|and up|and over)\s*(?:pcs|coins?|units?)?:?$",
    re.IGNORECASE,
)
TIER_ANY = re.compile(r"^(?:any\s+(?:qty|quantity)|each|single|1 unit)$", re.IGNORECASE)
QUANTITY_HEADER = re.compile(r"\b(?:qty|quantity|tier|units?|amount)\b", re.IGNORECASE)
BARE_INTEGER = re.compile(r"^\d{1,5}$")
FLAT_LOOKAHEAD_LINES = 14


@dataclass(frozen=True)
class Tier:
    lowest_quantity: int


def parse_tier(cell: str, bare_integers: bool = False) -> Tier | None:
    """ "1-9", "1 - 24", "1+", "Qty 1-19", "Any Qty" -> Tier; "1" only when the column is a quantity column."""
    text = " ".join(cell.split()).strip(" *|")
    if not text or len(text) > 30:
        return None
    match = TIER_RANGE.match(text) or TIER_OPEN.match(text)
    if match:
        return Tier(int(match.group(1)))
    if TIER_ANY.match(text):
        return Tier(1)
    if bare_integers and BARE_INTEGER.match(text):
        return Tier(int(text))
    return None


def column_rank(header: str, rules: VendorRules) -> int | None:
    """Preference of a payment column header: index in price_columns; None if avoided or unrelated."""
    lowered = header.lower()
    if any(word in lowered for word in rules.avoid_columns):
        return None
    ranks = [index for index, word in enumerate(rules.price_columns) if word in lowered]
    return min(ranks) if ranks else None


def is_payment_header(header: str, rules: VendorRules) -> bool:
    lowered = header.lower()
    return any(word in lowered for word in (*rules.price_columns, *rules.avoid_columns))


def read_grid(rows: list[list[str]], rules: VendorRules, rule: str) -> Candidate | None:
    """The first-tier, preferred-column price of one grid of cell texts, or None if it is no tier grid."""
    rows = [[" ".join(cell.split()) for cell in row] for row in rows if any(cell.strip() for cell in row)]
    return _tiers_as_rows(rows, rules, rule) or _tiers_as_columns(rows, rules, rule)


def _tiers_as_rows(rows: list[list[str]], rules: VendorRules, rule: str) -> Candidate | None:
    header: list[str] | None = None
    tier_rows: list[tuple[Tier, list[str]]] = []
    for row in rows:
        bare = header is not None and bool(QUANTITY_HEADER.search(header[0] if header else ""))
        tier = parse_tier(row[0], bare_integers=bare) if row else None
        if tier is not None and any(find_amounts(cell) for cell in row[1:]):
            tier_rows.append((tier, row))
        elif not tier_rows and not any(find_amounts(cell) for cell in row):
            header = row
    if not tier_rows:
        return None
    tier, row = min(tier_rows, key=lambda item: item[0].lowest_quantity)
    price_cells = [index for index in range(1, len(row)) if find_amounts(row[index])]
    labelled: dict[int, str] = {}
    if header is not None:
        offset = len(row) - len(header)  # a header without the quantity cell is shifted by one
        labelled = {index: header[index - offset] for index in price_cells if 0 <= index - offset < len(header)}
    ranked = [(rank, index) for index, text in labelled.items() if (rank := column_rank(text, rules)) is not None]
    if ranked:
        chosen = min(ranked)[1]
    else:
        avoided = {index for index, text in labelled.items() if is_payment_header(text, rules)}
        chosen = next((index for index in price_cells if index not in avoided), None)
        if chosen is None:
            return None
    price = find_amounts(row[chosen])[0].value
    column = labelled.get(chosen, "first price column")
    return Candidate(price, rule, evidence(f"{row[0]} | {column}: {row[chosen]}"))


def _tiers_as_columns(rows: list[list[str]], rules: VendorRules, rule: str) -> Candidate | None:
    for header_index, header in enumerate(rows):
        tiers = {index: parse_tier(cell) for index, cell in enumerate(header)}
        tiers = {index: tier for index, tier in tiers.items() if tier is not None}
        if not tiers:
            continue
        first_column = min(tiers, key=lambda index: (tiers[index].lowest_quantity, index))
        payment_rows = [row for row in rows[header_index + 1 :] if row and is_payment_header(row[0], rules)]
        ranked = [(column_rank(row[0], rules), position, row) for position, row in enumerate(payment_rows)]
        ranked = [item for item in ranked if item[0] is not None]
        if ranked:
            row = min(ranked, key=lambda item: (item[0], item[1]))[2]
        elif not payment_rows:
            row = next((r for r in rows[header_index + 1 :] if any(find_amounts(c) for c in r)), None)
            if row is None:
                return None
        else:
            return None
        offset = len(row) - len(header)
        index = first_column + offset
        if not 0 <= index < len(row) or not find_amounts(row[index]):
            return None
        price = find_amounts(row[index])[0].value
        return Candidate(price, rule, evidence(f"{header[first_column]} | {row[0]}: {row[index]}"))
    return None


# Sources -------------------------------------------------------------------------------------


def html_table_candidate(tree: lxml.html.HtmlElement, rules: VendorRules) -> Candidate | None:
    """The first HTML table on the (cut) page that reads as a tier grid."""
    for table in tree.iter("table"):
        rows = []
        for row in table.xpath("./tr | ./thead/tr | ./tbody/tr | ./tfoot/tr"):
            rows.append([cell.text_content() for cell in row.xpath("./th | ./td")])
        found = read_grid(rows, rules, "table")
        if found is not None:
            return found
    return None


def markdown_table_candidate(lines: list[str], rules: VendorRules) -> Candidate | None:
    """The first markdown pipe table in `lines` that reads as a tier grid."""
    block: list[list[str]] = []
    for line in [*lines, ""]:
        if line.startswith("|") or (line.count("|") >= 2 and block):
            cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
            if not all(re.fullmatch(r":?-{2,}:?|", cell) for cell in cells):
                block.append(cells)
            continue
        if block:
            found = read_grid(block, rules, "table")
            if found is not None:
                return found
            block = []
    return None


def flat_tier_candidate(lines: list[str], rules: VendorRules) -> Candidate | None:
    """A tier grid flattened to lines: payment headers, then a tier line, then one price per column."""
    for index, line in enumerate(lines):
        if len(line) > 40 or column_rank(line, rules) is None or find_amounts(line):
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
        tier_line = lines[cursor]
        prices, tail = _prices_after_tier(lines, cursor)
        ranked = [(column_rank(text, rules), position) for position, text in enumerate(headers)]
        best = min((item for item in ranked if item[0] is not None), default=None)
        if best is None or not prices:
            continue
        position = best[1]
        if len(prices) == len(headers):
            price = prices[position]
        elif position == 0:
            price = prices[0]
        else:
            continue
        return Candidate(price, "tier_text", evidence(f"{headers[position]} / {tier_line} {tail}"))
    return None


def _line_tier(line: str) -> Tier | None:
    """The tier a line starts with: "1-9" or "1-9 $95.49 $99.31"."""
    return parse_tier(line.split("$", 1)[0])


def _is_header_cell(line: str, rules: VendorRules) -> bool:
    """A short label line (a payment method or 'Quantity'), no price, no tier."""
    return (
        len(line) <= 40
        and not find_amounts(line)
        and parse_tier(line) is None
        and (is_payment_header(line, rules) or bool(QUANTITY_HEADER.search(line)) or line.lower() == "price")
    )


def _prices_after_tier(lines: list[str], tier_index: int) -> tuple[list[float], str]:
    """Prices on the tier line after the tier, then on following price-only lines."""
    line = lines[tier_index]
    prices = [amount.value for amount in find_amounts(line)]
    shown = [line]
    cursor = tier_index + 1
    while cursor < len(lines) and is_money_only(lines[cursor]) and len(prices) < 8:
        prices.append(find_amounts(lines[cursor])[0].value)
        shown.append(lines[cursor])
        cursor += 1
    return prices, " ".join(shown[1:]) if len(shown) > 1 else ""
