"""Read the G1 exchange rate ("1 Goldback = $X") off goldback.com's exchange-rate page. No I/O.

Structure first (JSON data on the page, a labelled rate node, a "1 Goldback | $X" table row),
then the "1 Goldback = $X" / "One Goldback = $X" phrase in the visible text or markdown.
Integer and decimal dollars are both accepted ("$10", "$10.06": the old scraper missed "$10").
Script, style and template text is never read, so a rate inside page code does not count.
Candidates come back in that order; the job picks the first inside the plausibility band.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from lxml import html as lxml_html

from staktrakr.surrogates import scrub_surrogates

_AMOUNT = r"(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d{1,2}))?(?![\d,]*\d)(?!\.\d)"
RATE_PHRASE = re.compile(r"(?<![\w.$])(?:1|one)\s*goldback\s*(?:=|:|is|equals)\s*\$\s*" + _AMOUNT, re.I)
DOLLAR_ONLY = re.compile(r"^\s*(?:USD\s*)?\$\s*" + _AMOUNT + r"\s*(?:USD)?\s*$", re.I)
G1_LABEL = re.compile(r"^\s*(?:1|one)\s*goldbacks?\b|^\s*g\s*1\s*$|^\s*1\s*gb\s*$", re.I)
RATE_NODE_ATTR = re.compile(r"goldback[-_ ]?(?:exchange[-_ ]?)?rate|exchange[-_ ]?rate|\bg1[-_ ]?(?:usd|rate|value)\b",
                            re.I)
RATE_JSON_KEY = re.compile(r"^(?:goldback_?(?:exchange_?)?rate|(?:current_?)?exchange_?rate|g1(?:_?usd)?|"
                           r"goldbackValue|rate_?usd)$", re.I)
UNREAD_TAGS = ("script", "style", "noscript", "template", "svg")


@dataclass(frozen=True)
class RateCandidate:
    """One reading of the rate: the value, how it was found, and a short piece of evidence."""

    g1_usd: float
    method: str      # json | labelled | table | phrase
    evidence: str


def _amount(whole: str, cents: str | None) -> float:
    return float(whole.replace(",", "") + ("." + cents if cents else ""))


def _clean(text: str) -> str:
    return " ".join(text.replace("\xa0", " ").split())


def parse_goldback_rate(html: str | None = None, markdown: str | None = None) -> list[RateCandidate]:
    """Every plausible reading of the G1 rate, best method first, duplicates removed."""
    found: list[RateCandidate] = []
    if html:
        found += _from_html(html)
    if markdown:
        found += _from_markdown(markdown)
    unique: list[RateCandidate] = []
    for candidate in found:
        if candidate.g1_usd > 0 and all(c.g1_usd != candidate.g1_usd for c in unique):
            unique.append(candidate)
    return unique


# HTML -----------------------------------------------------------------------------------------

def _from_html(page: str) -> list[RateCandidate]:
    try:
        root = lxml_html.fromstring(page)
    except (ValueError, lxml_html.etree.ParserError):
        return []
    found = list(_json_blobs(root))
    for element in list(root.iter(*UNREAD_TAGS)):
        if isinstance(element, lxml_html.HtmlElement):
            element.drop_tree()
    found += _labelled_nodes(root) + _table_rows(root)
    text = _clean(" ".join(str(piece) for piece in root.itertext()))
    found += [RateCandidate(_amount(m.group(1), m.group(2)), "phrase", m.group(0)) for m in RATE_PHRASE.finditer(text)]
    return found


def _json_blobs(root: Any) -> Iterator[RateCandidate]:
    for script in root.iter("script"):
        kind = (script.get("type") or "").lower()
        if "json" not in kind:
            continue
        try:
            data = scrub_surrogates(json.loads(script.text or ""))
        except (ValueError, RecursionError):
            continue
        yield from _json_rates(data, path="")


def _json_rates(data: Any, path: str) -> Iterator[RateCandidate]:
    if isinstance(data, dict):
        for key, value in data.items():
            where = f"{path}.{key}" if path else str(key)
            if RATE_JSON_KEY.match(str(key)):
                value_found = _json_value(value)
                if value_found is not None:
                    yield RateCandidate(value_found, "json", f"{where} = {value_found:g}")
                    continue
            yield from _json_rates(value, where)
    elif isinstance(data, list):
        for index, item in enumerate(data[:200]):
            yield from _json_rates(item, f"{path}[{index}]")


def _json_value(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        match = DOLLAR_ONLY.match(value) or re.fullmatch(r"\s*" + _AMOUNT + r"\s*", value)
        return _amount(match.group(1), match.group(2)) if match else None
    if isinstance(value, dict):    # schema.org ExchangeRateSpecification.currentExchangeRate.price
        for key in ("price", "value", "amount"):
            if key in value:
                return _json_value(value[key])
    return None


def _labelled_nodes(root: Any) -> list[RateCandidate]:
    """An element whose class/id/data-* names the rate and whose text is one dollar amount."""
    found = []
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        labels = " ".join(value for name, value in element.attrib.items()
                          if name in ("class", "id") or name.startswith("data-"))
        if not labels or not RATE_NODE_ATTR.search(labels):
            continue
        match = DOLLAR_ONLY.match(_clean(element.text_content()))
        if match:
            found.append(RateCandidate(_amount(match.group(1), match.group(2)), "labelled",
                                       f"<{element.tag} {labels[:60]}> {_clean(element.text_content())}"))
    return found


def _table_rows(root: Any) -> list[RateCandidate]:
    """A table row labelled "1 Goldback" (or G1) with a dollar amount in another cell."""
    found = []
    for row in root.iter("tr"):
        cells = [_clean(cell.text_content()) for cell in row if isinstance(cell.tag, str) and cell.tag in ("td", "th")]
        found += _row_candidate(cells, "table")
    return found


def _row_candidate(cells: list[str], method: str) -> list[RateCandidate]:
    if len(cells) < 2 or not G1_LABEL.match(cells[0]):
        return []
    for cell in cells[1:]:
        match = DOLLAR_ONLY.match(cell)
        if match:
            return [RateCandidate(_amount(match.group(1), match.group(2)), method, " | ".join(cells)[:120])]
    return []


# markdown (Firecrawl) ------------------------------------------------------------------------

def _from_markdown(markdown: str) -> list[RateCandidate]:
    found: list[RateCandidate] = []
    for line in markdown.splitlines():
        if line.strip().startswith("|"):
            cells = [_clean(re.sub(r"[*_`]", "", cell)) for cell in line.strip().strip("|").split("|")]
            found += _row_candidate(cells, "table")
    text = _clean(re.sub(r"[*_`#>]", " ", markdown))
    found += [RateCandidate(_amount(m.group(1), m.group(2)), "phrase", m.group(0)) for m in RATE_PHRASE.finditer(text)]
    return found
