"""Dollar amounts in page text, and the Candidate a rule proposes.

One regular expression for money, linear in the input (no nested quantifiers), so a 5 MB
page cannot make it backtrack. Amounts right after a metal name ("Gold $5,019.50",
"Silver Ask $80.59") are spot-ticker quotes, not product prices, and are skipped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

EVIDENCE_MAX_CHARS = 120

# "$5,019.50", "$ 95", "US$95.49"; thousands separators must be well formed.
MONEY_PATTERN = re.compile(r"\$\s?(\d{1,3}(?:,\d{3})+|\d{1,7})(\.\d{1,2})?(?![\d,]*\d|\.\d)")

# A quote printed after a metal name is a spot ticker, e.g. "Gold $5,019.50" or "Silver Ask: $80.59".
TICKER_PREFIX = re.compile(
    r"\b(?:gold|silver|platinum|palladium)(?:\s+(?:spot|ask|bid|price)){0,2}\s*:?\s*[+-]?\s*$", re.IGNORECASE
)
TICKER_LOOKBACK_CHARS = 30


@dataclass(frozen=True)
class Candidate:
    """One price a rule read off the page, with the rule name and the text it came from."""

    price: float
    rule: str
    evidence: str


@dataclass(frozen=True)
class Amount:
    """A dollar amount found in a line: its value and where it starts and ends."""

    value: float
    start: int
    end: int


def parse_money(text: str) -> float | None:
    """The first dollar amount in `text` that is not a spot-ticker quote, or None."""
    amounts = find_amounts(text)
    return amounts[0].value if amounts else None


def find_amounts(text: str) -> list[Amount]:
    """All dollar amounts in `text`, in order, minus spot-ticker quotes."""
    found = []
    for match in MONEY_PATTERN.finditer(text):
        before = text[max(0, match.start() - TICKER_LOOKBACK_CHARS) : match.start()]
        if TICKER_PREFIX.search(before):
            continue
        whole, cents = match.group(1), match.group(2) or ""
        found.append(Amount(float(whole.replace(",", "") + cents), match.start(), match.end()))
    return found


def is_money_only(text: str) -> bool:
    """True when the text is just one price, e.g. "$95.49" or "$95.49 ea"."""
    amounts = find_amounts(text)
    if len(amounts) != 1:
        return False
    rest = (text[: amounts[0].start] + text[amounts[0].end :]).strip(" \t*_|()").lower()
    return rest in ("", "ea", "each", "ea.", "/ea", "/ea.", "usd", "per coin", "/coin", "/ each")


def evidence(text: str) -> str:
    """The matched text, whitespace collapsed and trimmed to EVIDENCE_MAX_CHARS."""
    collapsed = " ".join(text.split())
    if len(collapsed) <= EVIDENCE_MAX_CHARS:
        return collapsed
    return collapsed[: EVIDENCE_MAX_CHARS - 3].rstrip() + "..."
