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

A grid gives readings: the chosen cell (role CHECK_WIRE under a preferred payment header,
UNIT in an unlabelled first column), then every other price cell of the grid (CARD under an
avoided header, OTHER_CELL for other tiers and columns), so the decision can tell that a
structured price is really the card column or a larger tier.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Iterator

import lxml.html

from staktrakr.catalog import VendorRules
from staktrakr.extract.money import Amount, context_role, evidence, find_amounts, is_money_only
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
TIER_ANY = re.compile(r"^(?:any\s+(?:qty|quantity)\.?|each|single|1 unit)$", re.IGNORECASE)
# An exact quantity with its unit ("1 coin", "1 bar"): a tier of its own.
TIER_EXACT = re.compile(r"^(?:qty\.?\s*)?(\d{1,5})\s*(?:pcs|coins?|units?|bars?|rounds?|items?|pieces?|ea)$",
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
        for amount, method in zip(amounts, _payment_labels(line, amounts, rules)):
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
