"""Dealer pricing tables: the first quantity tier, in the check/wire column.

One reader (`read_grid` on a list of rows of cell texts) for HTML `<table>`s, grids of divs or
lists, and markdown pipe tables, tiers as rows ("1-9 | $95.49 | $99.31") or, transposed, tiers
as columns with one row per payment method. Grids written as lines of text are tier_text.py's.

Column choice: the header naming the earliest keyword of `rules.price_columns` and none of
`rules.avoid_columns`. With no payment headers, a single price column is the price; two or
more do not say which is check/wire. Only the first grid on the page counts (or, for grids one
per payment method, the best-ranked of the first few): a later table may be another product's.

A grid gives readings: the chosen cell (role CHECK_WIRE under a preferred payment header,
UNIT in an unlabelled first column), then every other price cell of the grid (CARD under an
avoided header, OTHER_CELL for other tiers and columns), so the decision can tell that a
structured price is really the card column or a larger tier.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass

import lxml.html

from staktrakr.catalog import VendorRules
from staktrakr.extract.money import evidence, find_amounts
from staktrakr.extract.readings import Locus, Reading, Role
from staktrakr.extract.text import visible_text

TIER_RANGE = re.compile(
    r"^(?:qty\.?|quantity|buy)?\s*:?\s*\(?\s*(\d{1,5})\s*(?:-|–|—|to)\s*(?:\d{1,5}|\+|∞)\s*\)?"
    r"\s*(?:pcs|coins?|units?|bars?|rounds?|ea|items?|pieces?)?\s*:?$",
    re.IGNORECASE,
)
TIER_OPEN = re.compile(
    r"^(?:qty\.?|quantity|buy)?\s*:?\s*(\d{1,5})\s*(?:\+|or more|and up|and over)\s*(?:pcs|coins?|units?)?:?$",
    re.IGNORECASE,
)
TIER_ANY = re.compile(r"^(?:any\s+(?:qty|quantity)\.?|each|single|1 unit)\s*:?$", re.IGNORECASE)
# An exact quantity with its unit ("1 coin", "1 bar"): a tier of its own.
TIER_EXACT = re.compile(r"^(?:qty\.?\s*)?(\d{1,5})\s*(?:pcs|coins?|units?|bars?|rounds?|items?|pieces?|ea)\s*:?$",
                        re.IGNORECASE)
QUANTITY_HEADER = re.compile(r"\b(?:qty|quantity|tier|units?|amount|buy|count|pieces?|coins?)\b", re.IGNORECASE)
BARE_INTEGER = re.compile(r"^\d{1,5}$")
FLAT_LOOKAHEAD_LINES = 14
PAYMENT_LABEL_MAX_CHARS = 30


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
    exact = TIER_EXACT.match(text)
    if exact:
        return Tier(int(exact.group(1)))
    if bare_integers and BARE_INTEGER.match(text):
        return Tier(int(text))
    return None


def column_rank(header: str, rules: VendorRules) -> int | None:
    """Preference of a payment column header: index in price_columns; None if avoided or unrelated."""
    lowered = header.lower()
    if any(_names(lowered, word) for word in rules.avoid_columns):
        return None
    ranks = [index for index, word in enumerate(rules.price_columns) if _names(lowered, word)]
    return min(ranks) if ranks else None


def is_payment_header(header: str, rules: VendorRules) -> bool:
    lowered = header.lower()
    return any(_names(lowered, word) for word in (*rules.price_columns, *rules.avoid_columns))


@functools.lru_cache(maxsize=256)
def _payment_word(word: str) -> re.Pattern[str]:
    """A payment word as a word ("ach" in "ACH/Wire", not in "Each" or "Reach"; "check" in "eCheck")."""
    prefix = "(?:e-?)?" if word == "check" else ""
    return re.compile(rf"(?<![a-z]){prefix}{re.escape(word)}s?(?![a-z])")


def _names(lowered: str, word: str) -> bool:
    return word in lowered and _payment_word(word).search(lowered) is not None


def read_grid(rows: list[list[str]], rules: VendorRules, rule: str, group: str = "") -> list[Reading]:
    """Readings of one grid of cell texts (the chosen first-tier cell first), or [] if it is no tier grid."""
    rows = [_without_trailing_blanks([" ".join(cell.split()) for cell in row]) for row in rows
            if any(cell.strip() for cell in row)]
    return _tiers_as_rows(rows, rules, rule, group) or _tiers_as_columns(rows, rules, rule, group)


def _without_trailing_blanks(row: list[str]) -> list[str]:
    while row and not row[-1]:
        row = row[:-1]
    return row


def _reading(amount_text: str, role: Role, rule: str, shown: str, group: str) -> Reading | None:
    amounts = find_amounts(amount_text, include_foreign=True)
    if not amounts:
        return None
    return Reading(amounts[0].value, amounts[0].currency, role, Locus.MAIN, rule, evidence(shown), group)


def _tiers_as_rows(rows: list[list[str]], rules: VendorRules, rule: str, group: str) -> list[Reading]:
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
        return []
    tier, row = min(tier_rows, key=lambda item: item[0].lowest_quantity)
    price_cells = [index for index in range(1, len(row)) if find_amounts(row[index])]
    # A header one cell short lacks the quantity cell only when it starts with a payment column.
    shifted = header is not None and len(header) < len(row) and is_payment_header(header[0], rules)
    offset = len(row) - len(header) if shifted and header is not None else 0

    def label(index: int) -> str | None:
        return header[index - offset] if header is not None and 0 <= index - offset < len(header) else None

    labelled = {index: text for index in price_cells if (text := label(index)) is not None}
    ranked = [(rank, index) for index, text in labelled.items() if (rank := column_rank(text, rules)) is not None]
    if ranked:
        chosen, role = min(ranked)[1], Role.CHECK_WIRE
    else:
        avoided = {index for index, text in labelled.items() if is_payment_header(text, rules)}
        open_columns = [index for index in price_cells if index not in avoided]
        if not open_columns:
            return []
        chosen = open_columns[0]
        # One price column is the price; two or more without payment headers do not say which is
        # check/wire (dealers put card first as often as not): the grid then only records them.
        role = Role.UNIT if len(open_columns) == 1 else Role.OTHER_CELL
    column = labelled.get(chosen, "first price column")
    first = _reading(row[chosen], role, rule, f"{row[0]} | {column}: {row[chosen]}", group)
    if first is None:
        return []
    others = []
    for _, other_row in tier_rows:
        for index in range(1, len(other_row)):
            if other_row is row and index == chosen:
                continue
            text = label(index) or ""
            other_role = Role.CARD if column_rank(text, rules) is None and is_payment_header(text, rules) \
                else Role.OTHER_CELL
            found = _reading(other_row[index], other_role, rule, f"{other_row[0]} | {text}: {other_row[index]}", group)
            if found is not None:
                others.append(found)
    return [first, *others]


def _tiers_as_columns(rows: list[list[str]], rules: VendorRules, rule: str, group: str) -> list[Reading]:
    for header_index, header in enumerate(rows):
        tiers = {index: tier for index, cell in enumerate(header) if (tier := parse_tier(cell)) is not None}
        if not tiers:
            continue
        first_column = min(tiers, key=lambda index: (tiers[index].lowest_quantity, index))
        body = rows[header_index + 1 :]
        payment_rows = [row for row in body if row and is_payment_header(row[0], rules)]
        ranked = [(column_rank(row[0], rules), position, row) for position, row in enumerate(payment_rows)]
        ranked = [item for item in ranked if item[0] is not None]
        if ranked:
            row, role = min(ranked, key=lambda item: (item[0], item[1]))[2], Role.CHECK_WIRE
        elif not payment_rows:
            found_row = next((r for r in body if any(find_amounts(c) for c in r)), None)
            if found_row is None:
                return []
            row, role = found_row, Role.UNIT
        else:
            return []
        offset = len(row) - len(header)
        index = first_column + offset
        if not 0 <= index < len(row) or not find_amounts(row[index]):
            return []
        first = _reading(row[index], role, rule, f"{header[first_column]} | {row[0]}: {row[index]}", group)
        if first is None:
            return []
        others = []
        for other_row in body:
            other_role = Role.CARD if column_rank(other_row[0], rules) is None and \
                is_payment_header(other_row[0], rules) else Role.OTHER_CELL
            for cell_index, cell in enumerate(other_row[1:], start=1):
                if other_row is row and cell_index == index:
                    continue
                found = _reading(cell, other_role, rule, f"{other_row[0]}: {cell}", group)
                if found is not None:
                    others.append(found)
        return [first, *others]
    return []


# Sources -------------------------------------------------------------------------------------


def html_table_readings(tree: lxml.html.HtmlElement, rules: VendorRules) -> list[Reading]:
    """The first HTML table on the (cut) page that reads as a tier grid (see `_labelled_grid`)."""
    def grids() -> Iterator[tuple[lxml.html.HtmlElement, list[list[str]]]]:
        for table in tree.iter("table"):
            yield table, [[_cell_text(cell) for cell in row.xpath("./th | ./td")]
                          for row in table.xpath("./tr | ./thead/tr | ./tbody/tr | ./tfoot/tr")]

    return _labelled_grid(grids(), rules, "table")


# Elements whose children are all rows of two or more cells: a pricing grid built from divs or lists.
DIV_GRID_XPATH = "//*[not(self::table or self::tbody or self::thead or self::tr)][count(*) >= 2][not(*[count(*) < 2])]"
DIV_GRID_MAX_ROWS = 40
GRID_SPAN = 4  # grids read after the first one, for grids one per payment method


def div_grid_readings(tree: lxml.html.HtmlElement, rules: VendorRules) -> list[Reading]:
    """The first grid of rows and cells that is not a <table> (div or list markup) and reads as a tier grid."""
    def grids() -> Iterator[tuple[lxml.html.HtmlElement, list[list[str]]]]:
        for grid in tree.xpath(DIV_GRID_XPATH):
            children = list(grid)
            if len(children) <= DIV_GRID_MAX_ROWS and len({len(row) for row in children}) <= 2:
                rows = [[_cell_text(cell) for cell in row] for row in children]
                header = _header_row_before(grid, len(children[0]))
                yield grid, ([header] if header else []) + rows

    return _labelled_grid(grids(), rules, "grid")


def _labelled_grid(grids: Iterator[tuple[lxml.html.HtmlElement, list[list[str]]]], rules: VendorRules,
                   rule: str) -> list[Reading]:
    """The first tier grid of the page, read with the label in front of it: a grid under a
    "Card/PayPal" heading is the card column, under "Check/Wire" the check/wire one. When grids
    come one per payment method, the best-ranked method among the first few wins; the other
    grids' prices are other columns."""
    found: list[tuple[int, list[Reading]]] = []
    for number, (element, rows) in enumerate(grids):
        readings = read_grid(rows, rules, rule, f"{rule}#{number}")
        if not readings:
            continue
        label = _label_before(element)
        rank = 9
        if readings[0].role is Role.UNIT and label and is_payment_header(label, rules):
            label_rank = column_rank(label, rules)
            role = Role.CARD if label_rank is None else Role.CHECK_WIRE
            readings = [_with_role(readings[0], role, label), *readings[1:]]
            rank = 99 if label_rank is None else label_rank
        elif readings[0].role is Role.CHECK_WIRE:
            rank = 0
        found.append((rank, readings))
        if len(found) >= GRID_SPAN or (rank != 99 and not label):
            break
    candidates = [(rank, readings) for rank, readings in found if rank != 99]
    if not candidates:
        return [reading for _, readings in found for reading in readings]
    chosen = min(candidates, key=lambda item: item[0])[1]
    others = [_with_role(r, Role.OTHER_CELL if r.role in (Role.CHECK_WIRE, Role.UNIT) else r.role)
              for _, readings in found if readings is not chosen for r in readings]
    return [*chosen, *others]


def _cell_text(cell: lxml.html.HtmlElement) -> str:
    """A cell's text, or the alt/title of its image when it shows only an icon (a card logo)."""
    text = visible_text(cell)
    if text:
        return text
    image = cell.find(".//img")
    return ((image.get("alt") or image.get("title") or "") if image is not None else "").strip()


def _header_row_before(grid: lxml.html.HtmlElement, cells: int) -> list[str] | None:
    """The header row of a grid whose header sits in its own container right before it (a
    "head" div of the same number of cells, without amounts)."""
    previous = grid.getprevious()
    if previous is None:
        return None
    row = previous if len(previous) == cells else (previous[0] if len(previous) == 1 and len(previous[0]) == cells
                                                   else None)
    if row is None:
        return None
    texts = [_cell_text(cell) for cell in row]
    return texts if not any(find_amounts(text) for text in texts) and any(texts) else None


def _label_before(element: lxml.html.HtmlElement) -> str | None:
    """A short heading or label right before a grid (its caption, or the previous sibling)."""
    caption = element.find("caption")
    previous = caption if caption is not None else element.getprevious()
    if previous is None:
        return None
    text = visible_text(previous)
    return text if text and len(text) <= PAYMENT_LABEL_MAX_CHARS and not find_amounts(text) else None


def _with_role(reading: Reading, role: Role, label: str | None = None) -> Reading:
    shown = evidence(f"{label}: {reading.evidence}") if label else reading.evidence
    return Reading(reading.amount, reading.currency, role, reading.locus, reading.rule, shown, reading.group)


def markdown_table_readings(lines: list[str], rules: VendorRules) -> list[Reading]:
    """The first markdown pipe table in `lines` that reads as a tier grid."""
    block: list[list[str]] = []
    for line in [*lines, ""]:
        if line.startswith("|") or (line.count("|") >= 2 and block):
            cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
            if not all(re.fullmatch(r":?-+:?|", cell) for cell in cells):
                block.append(cells)
            continue
        if block:
            found = read_grid(block, rules, "table", "table#md")
            if found:
                return found
            block = []
    return []
