"""Amounts in page text: the value, its currency, whether it is struck out, and what it is for.

Dollar amounts are found with one regular expression that is linear in the input (no nested
quantifiers), so a 5 MB page cannot make it backtrack. A currency prefix glued to the "$"
(C$, CA$, A$, AU$, NZ$, MX$, HK$, S$, US$) or an ISO code before or after the amount
("CAD $118.40", "$118.40 CAD", or with no "$": "CAD 118.40") names the currency; a bare "$" is left unmarked (None) and
the decision treats it as US dollars unless the page shows another currency. Amounts in
euros, pounds or yen (symbol or code, no "$") are found too, so a page priced in them is
recognised as not in dollars; their numbers are parsed with `price-parser` (decimal commas,
grouping dots).

Amounts right after a metal name ("Gold $5,019.50", "Silver Ask $80.59") are spot-ticker
quotes and are skipped. Text between a pair of "~~" (how the text assembly and GFM markdown
mark <s>/<del>/<strike> and "old price" elements) is struck out: a "was" price.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

from price_parser import Price

from staktrakr.extract.readings import Role

EVIDENCE_MAX_CHARS = 120
STRUCK_MARK = "~~"

# ISO codes by the prefix glued to "$".
DOLLAR_PREFIXES = {
    "US": "USD", "C": "CAD", "CA": "CAD", "CAN": "CAD", "CDN": "CAD", "A": "AUD", "AU": "AUD", "NZ": "NZD",
    "MX": "MXN", "HK": "HKD", "S": "SGD",
}
# Words after an amount that name its currency ("$118.40 Canadian dollars").
CURRENCY_WORDS = {"canadian": "CAD", "australian": "AUD", "new zealand": "NZD", "mexican": "MXN", "hong kong": "HKD",
                  "singapore": "SGD", "us": "USD", "u.s.": "USD", "american": "USD"}
DOLLAR_CODES = ("USD", "CAD", "CDN", "AUD", "NZD", "MXN", "HKD", "SGD")
FOREIGN_SYMBOLS = {"€": "EUR", "£": "GBP", "¥": "JPY"}
FOREIGN_CODES = ("EUR", "GBP", "CHF", "JPY")

# "$5,019.50", "$ 95", "US$95.49", "C$118.40", "CAD $118.40", "$118.40 CAD"; thousands separators
# must be well formed. The glued prefix may not follow a letter ("PLUS$5" is no US dollar).
MONEY_PATTERN = re.compile(
    r"(?:\b(?P<code_before>" + "|".join(DOLLAR_CODES) + r")\s?)?"
    r"(?:(?<![A-Za-z])(?:(?P<prefix>US|CAN|CDN|CA|AU|NZ|MX|HK|C)\s?|(?P<glued>A|S))(?=\$))?"
    r"\$\s?(?P<whole>\d{1,3}(?:,\d{3})+|\d{1,7})(?P<cents>\.\d{1,2})?(?![\d,]*\d|\.\d)"
    r"(?:\s?\(?(?P<code_after>" + "|".join(DOLLAR_CODES + FOREIGN_CODES) + r")\b\)?"
    r"|\s(?P<word_after>Canadian|Australian|New Zealand|Mexican|Hong Kong|Singapore|US|U\.S\.|American)"
    r"(?:\s+dollars?\b|(?=\s*(?:[.,;)]|$))))?"
)
# "USD 86.39", "86.39 USD", "CAD 2,294.17": dollars written with the ISO code and no "$".
_CODES = "|".join(DOLLAR_CODES)
CODE_PATTERN = re.compile(
    r"(?<![\w$])(?P<code>" + _CODES + r")\s?(?P<whole>\d{1,3}(?:,\d{3})+|\d{1,7})(?P<cents>\.\d{1,2})?"
    r"(?![\d,]*\d|\.\d)"
    r"|(?<![\d,.$\w])(?P<whole2>\d{1,3}(?:,\d{3})+|\d{1,7})(?P<cents2>\.\d{1,2})?\s?(?P<code2>" + _CODES + r")\b"
)
# "€86,39", "86,39 €", "£70.10", "EUR 86.39", "86.39 EUR": never dollars.
FOREIGN_NUMBER = r"\d{1,3}(?:[.,\u00a0 ]\d{3})*(?:[.,]\d{1,2})?"
FOREIGN_PATTERN = re.compile(
    r"(?P<symbol>[€£¥])\s?(?P<number>" + FOREIGN_NUMBER + r")"
    r"|(?P<number_before>" + FOREIGN_NUMBER + r")\s?(?P<symbol_after>[€£])"
    r"|\b(?P<code>" + "|".join(FOREIGN_CODES) + r")\s?(?P<number_after>" + FOREIGN_NUMBER + r")"
)

# A quote printed after a metal name is a spot ticker, e.g. "Gold $5,019.50" or "Silver Ask: $80.59".
TICKER_PREFIX = re.compile(
    r"\b(?:gold|silver|platinum|palladium)(?:\s+(?:spot|ask|bid|price)){0,2}\s*:?\s*[+-]?\s*$", re.IGNORECASE
)
TICKER_LOOKBACK_CHARS = 30

# Words around an amount that say it is not the price of one unit: (role, words before, words after).
CONTEXT_BEFORE_CHARS = 32
CONTEXT_AFTER_CHARS = 24
CONTEXT_RULES: tuple[tuple[Role, re.Pattern[str], re.Pattern[str] | None], ...] = (
    (Role.WAS, re.compile(r"\b(?:was|msrp|m\.s\.r\.p\.?|rrp|srp|list price|retail(?: price)?|compare(?: at|-at| to)?"
                          r"(?: price)?|original(?: price)?|issue price|reg\.|last sold(?: for| at)?|sold for)"
                          r"\s*:?\s*$", re.I), None),
    (Role.CONVERTED, re.compile(r"(?:≈|~|\bapprox(?:\.|imately)?|\babout|\bequivalent(?: to)?|\bconverted(?: to)?)"
                                r"\s*:?\s*\(?\s*$", re.I), re.compile(r"^\s*\(?\s*(?:approx|est\.|estimated)", re.I)),
    (Role.BULK, re.compile(r"(?:\b\d{1,5}\s*(?:\+|or more\b|and up\b|and over\b)|\bbuy \d{1,5}\b)[^$]{0,30}$"
                           r"|\b(?:from|starting(?: at)?|as low as)\s*:?\s*$", re.I),
     re.compile(r"^\s*(?:each )?(?:for|when you buy|on orders of) \d{1,5}\s*(?:\+|or more)"
                r"|^\s*\(?\s*(?:min\.?|minimum)\s*(?:qty|quantity|order|of)\b"
                r"|^\s*\(\s*(?:buy |for |on )?\d{1,5}\s*(?:\+|or more)", re.I)),
    (Role.PREMIUM, re.compile(r"\bpremium\b[^$]{0,12}$", re.I),
     re.compile(r"^\s*(?:/\s*oz\s*)?(?:over|above|under) spot", re.I)),
    (Role.THRESHOLD, re.compile(r"\b(?:orders?|spend|minimum|min\.?|purchases?|subtotals?)\s*:?\s*(?:of |over |above |"
                                r"from |exceeding |at least )?\$?$|\b(?:over|above|up to) $"
                                r"|\bfree\b[^$]{0,20}\b(?:with|over|on|above)\b[^$]{0,12}$", re.I),
     re.compile(r"^\s*(?:\+|or more\b|and (?:up|over|above)\b|minimum\b|to qualify\b|\S*\s*(?:ships?|shipping) free)",
                re.I)),
    (Role.SHIPPING, re.compile(
        r"\b(?:shipping|delivery|postage|handling)(?: cost| fee| rate| from| only| just)?\s*:?\s*$", re.I),
     re.compile(r"^\s*(?:shipping|flat rate|delivery)", re.I)),
    (Role.FEE, re.compile(r"\b(?:fee|fees|surcharge|processing)\b[^$]{0,12}$", re.I),
     re.compile(r"^\s*(?:fee|surcharge|processing fee)\b", re.I)),
    (Role.SAVINGS, re.compile(r"\b(?:save|savings|you save|discount|coupon|rebate)\b[^$]{0,12}$", re.I),
     re.compile(r"^\s*(?:off\b|discount|savings|in savings)", re.I)),
    (Role.TOTAL, re.compile(r"\b(?:subtotal|sub-total|total)\b[^$]{0,20}$|\bin (?:your )?(?:cart|basket|bag)\s*:?\s*$"
                            r"|\b(?:cart|basket|bag)\s*(?:\(\d+\))?\s*:[^$]{0,20}$", re.I), None),
    (Role.SPOT, re.compile(r"\b(?:spot|melt|market value|metal value|intrinsic)\b[^$]{0,16}$", re.I), None),
    (Role.BID, re.compile(r"\b(?:we buy|we pay|sell to us|sell yours|buy ?back|bid)\b[^$]{0,12}$", re.I), None),
    (Role.CARD, re.compile(r"\b(?:card|credit|paypal)\b[^$]{0,12}$", re.I),
     re.compile(r"^\s*\(?\s*(?:by |with |via |paying by |if paying by )?(?:credit card|card|paypal)\b(?!\s*:)", re.I)),
    (Role.PER_MEASURE, re.compile(r"\bper (?:gram|ounce|oz)\s*:?\s*$", re.I),
     re.compile(r"^\s*(?:/\s*(?:g|gram|oz|ozt|ounce)\b|per (?:gram|ounce|oz|troy))", re.I)),
    (Role.PACK, re.compile(r"\b(?:tube|roll|box|sheet|case) (?:of \d+ )?(?:price\s*)?:?\s*$", re.I),
     re.compile(r"^\s*(?:/|per |a )(?:tube|roll|box|sheet|case)\b", re.I)),
    (Role.REWARD, re.compile(r"\b(?:reward|points|cash ?back|loyalty)\b[^$]{0,12}$", re.I),
     re.compile(r"^\s*(?:in )?(?:cash ?back|rewards?|points|store credit)\b", re.I)),
)


@dataclass(frozen=True)
class Amount:
    """An amount found in a line: value, currency (ISO code or None for a bare "$"), where it
    starts and ends, and whether it is struck out."""

    value: float
    start: int
    end: int
    currency: str | None = None
    struck: bool = False

    @property
    def is_dollars(self) -> bool:
        return self.currency in (None, "USD")


def parse_money(text: str) -> float | None:
    """The first dollar amount in `text` that is not a spot-ticker quote or struck out, or None."""
    amounts = [amount for amount in find_amounts(text) if amount.is_dollars]
    return amounts[0].value if amounts else None


def find_amounts(text: str, *, include_struck: bool = False, include_foreign: bool = False) -> list[Amount]:
    """Amounts in `text`, in order, minus spot-ticker quotes.

    Struck-out amounts ("~~$95.00~~") are left out unless `include_struck`; amounts in
    euros/pounds/yen (no "$") are found only with `include_foreign`.
    """
    marks = _struck_marks(text)
    found = []
    for match in MONEY_PATTERN.finditer(text):
        dollar = text.rfind("$", 0, match.start("whole"))
        before = text[max(0, dollar - TICKER_LOOKBACK_CHARS) : match.start()]
        if TICKER_PREFIX.search(before):
            continue
        struck = _inside(marks, match.start("whole"))
        if struck and not include_struck:
            continue
        whole, cents = match.group("whole"), match.group("cents") or ""
        currency = _dollar_currency(match)
        if currency is None and (labelled := CODE_IN_LABEL.search(text[max(0, match.start() - 16) : match.start()])):
            currency = labelled.group("code")
        found.append(Amount(float(whole.replace(",", "") + cents), match.start(), match.end(), currency, struck))
    if any(code in text for code in DOLLAR_CODES):
        for match in CODE_PATTERN.finditer(text):
            struck = _inside(marks, match.start())
            if struck and not include_struck:
                continue
            whole = match.group("whole") or match.group("whole2")
            cents = match.group("cents") or match.group("cents2") or ""
            code = match.group("code") or match.group("code2")
            found.append(Amount(float(whole.replace(",", "") + cents), match.start(), match.end(),
                                "CAD" if code == "CDN" else code, struck))
        found.sort(key=lambda amount: amount.start)
    if include_foreign and any(symbol in text for symbol in ("€", "£", "¥", "EUR", "GBP", "CHF", "JPY")):
        for match in FOREIGN_PATTERN.finditer(text):
            struck = _inside(marks, match.start())
            if struck and not include_struck:
                continue
            value = Price.fromstring(match.group(0)).amount_float
            code = match.group("code") or FOREIGN_SYMBOLS[match.group("symbol") or match.group("symbol_after")]
            if value:
                found.append(Amount(value, match.start(), match.end(), code, struck))
        found.sort(key=lambda amount: amount.start)
    return found


# "Price (CAD): $118.40": a code in the label just before an unmarked amount.
CODE_IN_LABEL = re.compile(r"\((?P<code>" + "|".join(DOLLAR_CODES + FOREIGN_CODES) + r")\)\s*:?\s*$")


def _dollar_currency(match: re.Match[str]) -> str | None:
    codes = [match.group("code_before"), match.group("code_after")]
    prefix = match.group("prefix") or match.group("glued")
    if prefix:
        codes.append(DOLLAR_PREFIXES[prefix])
    if match.group("word_after"):
        codes.append(CURRENCY_WORDS[match.group("word_after").lower()])
    named = [code for code in codes if code]
    if not named:
        return None
    foreign = ["CAD" if code == "CDN" else code for code in named if code != "USD"]
    return foreign[0] if foreign else "USD"


def _struck_marks(text: str) -> list[int]:
    if STRUCK_MARK not in text:
        return []
    return [match.start() for match in re.finditer(re.escape(STRUCK_MARK), text)]


def _inside(marks: list[int], position: int) -> bool:
    """True when `position` lies between an opening and a closing "~~"."""
    return bool(marks) and bisect.bisect_left(marks, position) % 2 == 1


def context_role(text: str, amount: Amount, previous_end: int = 0, next_start: int | None = None) -> Role | None:
    """The role the words around `amount` give it ("Save $3", "orders $99+", "$4.10 over spot"),
    or None when nothing says it is anything but a price. Struck amounts are "was" prices."""
    if amount.struck:
        return Role.WAS
    before = text[max(previous_end, amount.start - CONTEXT_BEFORE_CHARS) : amount.start].replace(STRUCK_MARK, "")
    stop = len(text) if next_start is None else next_start
    after = text[amount.end : min(stop, amount.end + CONTEXT_AFTER_CHARS)].replace(STRUCK_MARK, "")
    for role, before_pattern, after_pattern in CONTEXT_RULES:
        if before_pattern.search(before) or (after_pattern is not None and after_pattern.search(after)):
            return role
    return None


def roles_in(text: str, amounts: list[Amount]) -> list[Role | None]:
    """`context_role` of each amount of one line (context stops at the neighbouring amounts)."""
    roles = []
    for index, amount in enumerate(amounts):
        previous_end = amounts[index - 1].end if index else 0
        next_start = amounts[index + 1].start if index + 1 < len(amounts) else None
        roles.append(context_role(text, amount, previous_end, next_start))
    return roles


# "All prices in Canadian dollars", "Prices shown in AUD", a currency code alone on the line after a price.
CURRENCY_NAMES = {"canadian": "CAD", "australian": "AUD", "new zealand": "NZD", "mexican": "MXN", "hong kong": "HKD",
                  "singapore": "SGD", "euro": "EUR", "euros": "EUR", "pound": "GBP", "pounds": "GBP", "us": "USD",
                  "u.s.": "USD", "american": "USD", "united states": "USD"}
CURRENCY_STATEMENT = re.compile(
    r"\bprices?\s+(?:are\s+|is\s+)?(?:shown\s+|listed\s+|quoted\s+|displayed\s+|charged\s+)?in\s+"
    r"(?:(?P<code>[A-Z]{3})\b|(?P<name>canadian|australian|new zealand|mexican|hong kong|singapore|us|u\.s\.|"
    r"american|united states)\s+(?:dollars?|funds|currency)\b|(?P<other>euros?|pounds?)\b)",
    re.IGNORECASE,
)
CODE_LINE = re.compile(r"^\(?(?P<code>" + "|".join(DOLLAR_CODES + FOREIGN_CODES) + r")\)?$")


def stated_currency(lines: list[str]) -> tuple[str, str] | None:
    """(ISO code, the text saying so) when the page states the currency of its prices, else None."""
    for index, line in enumerate(lines):
        if len(line) > 300:
            continue
        match = CURRENCY_STATEMENT.search(line)
        if match is not None:
            code = match.group("code")
            if code is None:
                code = CURRENCY_NAMES.get((match.group("name") or match.group("other") or "").lower())
            if code:
                return ("CAD" if code.upper() == "CDN" else code.upper()), evidence(line)
        code_line = CODE_LINE.match(line)
        if code_line is not None and index > 0 and is_money_only(lines[index - 1]):
            code = code_line.group("code")
            return ("CAD" if code == "CDN" else code), evidence(f"{lines[index - 1]} {line}")
    return None


def is_money_only(text: str) -> bool:
    """True when the text is just one price, e.g. "$95.49" or "$95.49 ea"."""
    amounts = find_amounts(text, include_struck=True)
    if len(amounts) != 1:
        return False
    rest = (text[: amounts[0].start] + text[amounts[0].end :]).strip(" \t*_|()~").lower()
    return rest in ("", "ea", "each", "ea.", "/ea", "/ea.", "usd", "per coin", "/coin", "/ each")


def evidence(text: str) -> str:
    """The matched text, whitespace collapsed and trimmed to EVIDENCE_MAX_CHARS."""
    collapsed = " ".join(text.split())
    if len(collapsed) <= EVIDENCE_MAX_CHARS:
        return collapsed
    return collapsed[: EVIDENCE_MAX_CHARS - 3].rstrip() + "..."
