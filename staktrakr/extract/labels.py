"""Labelled prices ("Sale price $X", "Regular price $X", "Price: $X") and the guarded prose fallback.

Labels give readings with roles: "Sale price"/"Special price"/"Now" is what the buyer pays
(SALE), "Regular price" the price when there is no sale (REGULAR), "Our price"/"Your
price"/"Price:" a plain unit price (UNIT). Labels of other numbers ("Card price", "Compare at",
"MSRP", "Spot price") give readings of those roles, so the decision can tell that a structured
price is really the card price. The amount is the first after the label on its line, or the
next line when that line is just a price; an amount struck out right after a label is its
"was" price.

Bulk labels ("As low as $X", `rules.bulk_labels`) name the price of the largest tier. They
are never read as the unit price: when a page offers nothing but a bulk price, extraction
fails with no_price instead of guessing (the next fetcher or the next cycle may do better).

Prose fallback: a dollar amount on the lines right after the product title or around the
add-to-cart button, only when every plausible amount there is the same number. Amounts the
words around them make something else (thresholds, savings, premiums, totals) never count.
"""

from __future__ import annotations

import re

from staktrakr.catalog import VendorRules
from staktrakr.extract.money import Amount, context_role, evidence, find_amounts, is_money_only, roles_in
from staktrakr.extract.readings import Locus, Reading, Role
from staktrakr.rules.bands import Band

# (role, pattern) in preference order; each label contributes its first occurrence.
# Labels start at a word start even when glued to an amount ("$99.00Sale price"): (?<![A-Za-z]), not \b;
# or right after the currency code of the amount before, glued the same way in minified markup
# ("Regular Price$70.06 USDSpecial Price$62.11 USD"): the HTML path splits them at the element edge.
_S = r"(?:(?<![A-Za-z])|(?<=USD))"
PRICE_LABELS = (
    (Role.SALE, re.compile(_S + r"(?:sale|special|discounted|now|today'?s|current)\s+price\b(?:\s+is)?\s*:?"
                           r"|(?<!buy )" + _S + r"now\s*:?\s*(?=(?:US)?\$)"
                           r"|" + _S + r"(?:special|sale)\s*:\s*(?=(?:US)?\$)"
                           r"|^sale\s*:?$", re.IGNORECASE)),
    (Role.REGULAR, re.compile(_S + r"regular\s+price\b\s*:?", re.IGNORECASE)),
    (Role.UNIT, re.compile(_S + r"(?:our|your)\s+price\b\s*:?", re.IGNORECASE)),
    (Role.UNIT, re.compile(_S + r"price\s*:|^price$|" + _S + r"price\s*(?=(?:US)?\$)", re.IGNORECASE)),
)
# Words that make "... price" another label's ("Regular price", "Unit price"): not a plain "Price".
PLAIN_PRICE_OWNERS = ("sale", "special", "discounted", "now", "today", "regular", "our", "your", "unit", "issue",
                      "list", "retail", "original", "compare", "card", "credit", "paypal", "spot", "bundle")
# Labels of other numbers, read for the record and to explain structured prices.
OTHER_LABELS = (
    (Role.CARD, re.compile(_S + r"(?:card|credit(?: card)?|paypal)\s+price\b\s*:?", re.IGNORECASE)),
    (Role.WAS, re.compile(_S + r"(?:compare at|compare-at|was|list|retail|original|issue)\s+price\b"
                          r"(?:\s+was)?\s*:?|"
                          + _S + r"(?:msrp|was|rrp)\s*:"
                          r"|^(?:~~)?\s*(?:was|msrp|rrp|reg\.?|list|retail|compare at)\s*:?\s*(?:~~)?$",
                          re.IGNORECASE)),
    (Role.BID, re.compile(r"\b(?:buy ?back|we buy|sell(?: to us)?|bid)\s+price\b\s*:?|\bwe buy(?: at)?\s*:?",
                          re.IGNORECASE)),
)
# Lines with these words are promotions or other numbers: their amounts are not the unit price.
NOT_A_PRICE_WORDS = (
    "save", " off", "shipping", "orders over", "over $", "reward", "cashback", "cash back", "points",
    "spot", "premium", "was ", "msrp", "compare at", "per gram", "/gram", "per oz", "/oz", "loyalty",
    "coupon", "discount", "tube", "roll", "box", "subtotal", "cart total", "credit card", "card price",
    "paypal", "market value", "metal value", "intrinsic", "melt",
)
NOT_A_PRICE_ROLES = {
    "shipping": Role.SHIPPING, "orders over": Role.THRESHOLD, "over $": Role.THRESHOLD, "spot": Role.SPOT,
    "premium": Role.PREMIUM, "was ": Role.WAS, "msrp": Role.WAS, "compare at": Role.WAS, "per gram": Role.PER_MEASURE,
    "/gram": Role.PER_MEASURE, "per oz": Role.PER_MEASURE, "/oz": Role.PER_MEASURE, "tube": Role.PACK,
    "roll": Role.PACK, "box": Role.PACK, "subtotal": Role.TOTAL, "cart total": Role.TOTAL, "credit card": Role.CARD,
    "card price": Role.CARD, "paypal": Role.CARD, "market value": Role.SPOT, "metal value": Role.SPOT,
    "intrinsic": Role.SPOT, "melt": Role.SPOT,
    "reward": Role.REWARD, "cashback": Role.REWARD, "cash back": Role.REWARD, "points": Role.REWARD,
    "loyalty": Role.REWARD,
}
# "Spot price:", "Card price:", "Compare at price:" are labels of other numbers.
LABEL_DISQUALIFIERS = ("spot", "premium", "melt", "market", "metal value", "intrinsic", "compare", "was", "msrp",
                       "card", "paypal", "credit",
                       "buyback", "buy back", "we buy", "sell", "bid", "list", "retail", "original", "total", "unit",
                       "issue", "bundle", "set of", "pack", "tube", "roll", "box", "lot", "member", "vip", "club",
                       "bulk", "lowest", "exchange", "holder", "display", "fee", "insured", "wholesale", "dealer",
                       "match", "target", "alert")
# A label sits at the start of its line or right after the amount before it, not inside a sentence.
LABEL_LEAD_MAX_CHARS = 30
SENTENCE_END = re.compile(r"[.?!]\s")
LABEL_CONTEXT_CHARS = 25
# A price label sits on a short line; long lines are descriptions (and cost time on huge pages).
LABEL_LINE_MAX_CHARS = 300
PROSE_TITLE_WINDOW_LINES = 20
PROSE_CART_WINDOW_LINES = 6
CART_WORDS = ("add to cart", "add to bag", "buy now")
PROSE_WORD_CHARS = 10
CARD_STATEMENT = re.compile(r"\b(?:credit card|card|paypal)\s+(?:price|pricing)\b"
                            r"|\bprices? (?:shown )?(?:is |are )?for "
                            r"(?:credit )?card|\bprices? (?:shown )?(?:reflects?|include|assumes?) (?:payment|paying) "
                            r"(?:by|with) (?:credit )?card", re.IGNORECASE)


def label_readings(lines: list[str], rules: VendorRules, group: str = "label") -> list[Reading]:
    """Labelled prices (most preferred label first) and labels of other numbers; each label
    contributes its first occurrence."""
    found = []
    labelled = [
        index for index, line in enumerate(lines) if len(line) <= LABEL_LINE_MAX_CHARS and _may_hold_label(line)
    ]
    plain = PRICE_LABELS[-1][1]
    for role, pattern in (*PRICE_LABELS, *OTHER_LABELS):
        for index in labelled:
            line = lines[index]
            match = pattern.search(line)
            if match is None or _is_unit_of_measure(line, match) or not _leads(line, match.start()):
                continue
            before = _lead(line, match.start())[-LABEL_CONTEXT_CHARS:].lower()
            if role.may_be_unit_price and (_is_bulk(before, rules) or any(w in before for w in LABEL_DISQUALIFIERS)):
                continue
            if pattern is plain and before.rstrip().endswith(PLAIN_PRICE_OWNERS):
                continue
            reading = _amount_after(lines, index, match.end(), rules, role, group)
            if reading is not None:
                found.append(reading)
                break
    return found


def _lead(line: str, start: int) -> str:
    """The text before a label since the line's start or the amount before it."""
    previous = find_amounts(line[:start], include_struck=True)
    return line[previous[-1].end if previous else 0 : start]


def _leads(line: str, start: int) -> bool:
    """The label starts its line, or follows the previous amount closely, outside any sentence."""
    lead = _lead(line, start)
    return len(lead) <= LABEL_LEAD_MAX_CHARS and not SENTENCE_END.search(lead)


def _may_hold_label(line: str) -> bool:
    lowered = line.lower()
    return any(word in lowered for word in ("price", "now", "sale", "msrp", "was", "rrp", "we buy", "reg", "list",
                                            "retail", "compare"))


def _is_unit_of_measure(line: str, match: re.Match[str]) -> bool:
    """Shopify 'Unit price ... per' is a per-measure price, not the item price."""
    before = line[max(0, match.start() - 6) : match.start()].lower()
    return "unit" in before or " per " in line[match.end() : match.end() + 40].lower()


def _amount_after(lines: list[str], index: int, offset: int, rules: VendorRules, role: Role, group: str
                  ) -> Reading | None:
    rest = lines[index][offset:]
    amounts = find_amounts(rest, include_struck=True, include_foreign=True)
    shown = lines[index]
    context: Role | None = None
    if amounts:
        gap = rest[: amounts[0].start]
        if _is_bulk(gap, rules) or re.search(r"\d", gap) or len(re.sub(r"[^A-Za-z]", "", gap)) > 12:
            return None  # "Bundle price (3 coins): $X", "Price: as low as $X"
        amount = amounts[0]
        next_start = amounts[1].start if len(amounts) > 1 else None
        context = context_role(rest, amount, 0, next_start)
    elif not rest.strip() and index + 1 < len(lines) and is_money_only(lines[index + 1]):
        following = find_amounts(lines[index + 1], include_struck=True, include_foreign=True)
        if not following:
            return None
        amount = following[0]
        shown = f"{lines[index]} {lines[index + 1]}"
    else:
        return None
    final_role = Role.WAS if amount.struck else (context if context not in (None, Role.CONVERTED) else role)
    return Reading(amount.value, amount.currency, final_role, Locus.MAIN, "label",
                   evidence(shown.replace("~~", "")), group)


def _is_bulk(text: str, rules: VendorRules) -> bool:
    lowered = text.lower()
    return any(label in lowered for label in rules.bulk_labels)


def bulk_readings(lines: list[str], rules: VendorRules) -> list[Reading]:
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
                found.append(Reading(amounts[0].value, amounts[0].currency, Role.BULK, Locus.MAIN, "label",
                                     evidence(line), "bulk"))
            elif index + 1 < len(lines) and is_money_only(lines[index + 1]):
                amount = find_amounts(lines[index + 1])
                if amount:
                    found.append(Reading(amount[0].value, amount[0].currency, Role.BULK, Locus.MAIN, "label",
                                         evidence(f"{line} {lines[index + 1]}"), "bulk"))
            break
    return found


def prose_readings(lines: list[str], title_index: int | None, rules: VendorRules) -> list[Reading]:
    """Every amount on the lines after the title and around the add-to-cart button, with the
    role its words give it (UNIT when nothing says otherwise)."""
    windows = []
    if title_index is not None:
        windows.append(range(title_index, min(len(lines), title_index + PROSE_TITLE_WINDOW_LINES)))
    for index, line in enumerate(lines):
        if len(line) <= LABEL_LINE_MAX_CHARS and any(word in line.lower() for word in CART_WORDS):
            low = max(0, index - PROSE_CART_WINDOW_LINES)
            windows.append(range(low, min(len(lines), index + PROSE_CART_WINDOW_LINES + 1)))
    found: list[Reading] = []
    seen: set[int] = set()
    for window in windows:
        for index in window:
            if index in seen:
                continue
            seen.add(index)
            line = lines[index]
            if len(line) > LABEL_LINE_MAX_CHARS:
                continue
            line_role = _line_role(line.lower(), lines, index, rules)
            amounts = find_amounts(line, include_struck=True, include_foreign=True)
            words = _words_besides(line, amounts)
            roles = roles_in(line, amounts)
            if Role.CONVERTED in roles:  # "approx. €79,50 / £68.20": every other currency on the line too
                roles = [Role.CONVERTED if not amount.is_dollars else role
                         for amount, role in zip(amounts, roles, strict=True)]
            for position, (amount, role) in enumerate(zip(amounts, roles, strict=True)):
                before = line[amounts[position - 1].end if position else 0 : amount.start].lower()
                final = role or line_role or _words_role(before) or (Role.UNIT if words <= PROSE_WORD_CHARS
                                                                     else Role.MENTION)
                found.append(Reading(amount.value, amount.currency, final, Locus.MAIN, "prose",
                                     evidence(line.replace("~~", "")), f"prose#{index}"))
    return found


def _words_besides(line: str, amounts: list[Amount]) -> int:
    """How many letters a line holds besides its amounts: a price stands nearly alone on its line
    ("$86.39", "$86.39 each", "Only $86.39!"); an amount inside a sentence is a mention."""
    rest, last = [], 0
    for amount in amounts:
        rest.append(line[last : amount.start])
        last = amount.end
    rest.append(line[last:])
    return len(re.sub(r"[^A-Za-z]", "", "".join(rest)))


def card_price_statements(lines: list[str]) -> list[Reading]:
    """A price line followed by a line saying it is the card price ("$89.85" / "Credit card price.")."""
    found = []
    for index in range(1, len(lines)):
        line = lines[index]
        if (len(line) <= 80 and CARD_STATEMENT.search(line) and not find_amounts(line)
                and is_money_only(lines[index - 1])):
            amount = find_amounts(lines[index - 1], include_foreign=True)
            if amount:
                found.append(Reading(amount[0].value, amount[0].currency, Role.CARD, Locus.MAIN, "label",
                                     evidence(f"{lines[index - 1]} {line}"), "card_statement"))
    return found


def check_discount_statement(lines: list[str], rules: VendorRules) -> str | None:
    """A line saying paying by check/wire costs less ("Save 4% when paying by check or wire"): the
    prices shown without a check/wire label are then card prices."""
    methods = "|".join(re.escape(word) for word in rules.price_columns)
    pattern = re.compile(
        rf"\b(?:save|discount|\d+(?:\.\d+)?\s*%\s*(?:off|less))\b[^.]{{0,60}}?\b(?:{methods})"
        rf"|\b(?:{methods})[^.]{{0,40}}?\b(?:save|discount|\d+(?:\.\d+)?\s*%\s*(?:off|less|discount))"
        rf"|\bprices? (?:shown )?(?:reflects?|include|assumes?) (?:payment|paying) (?:by|with) (?:credit )?card",
        re.IGNORECASE)
    # "Prices shown include our 4% check/wire discount": the shown prices are check/wire prices.
    included = re.compile(r"\b(?:reflects?|includes?|including|with) (?:our |the |a )?(?:\d+(?:\.\d+)?\s*% )?"
                          r"(?:[a-z/-]+ ){0,3}discount", re.IGNORECASE)
    return next((evidence(line) for line in lines if len(line) <= 160 and pattern.search(line)
                 and not included.search(line)), None)


def _line_role(lowered: str, lines: list[str], index: int, rules: VendorRules) -> Role | None:
    """BULK for every amount of a line a bulk label introduces ("As low as", same or previous line)."""
    if _is_bulk(lowered, rules):
        return Role.BULK
    if index > 0 and _is_bulk(lines[index - 1].lower(), rules) and not find_amounts(lines[index - 1]):
        return Role.BULK  # "As Low As" on one line, its amount on the next
    return None


def _words_role(before: str) -> Role | None:
    """The role the promotional words in front of an amount give it ("Free shipping on orders over $X")."""
    word = next((word for word in NOT_A_PRICE_WORDS if word in before), None)
    return None if word is None else NOT_A_PRICE_ROLES.get(word, Role.SAVINGS)


def prose_choice(readings: list[Reading], band: Band) -> tuple[Reading | None, str]:
    """The lone plausible unit amount among prose readings; (None, why) when unsure."""
    plausible: dict[int, Reading] = {}
    for reading in readings:
        if reading.role is Role.UNIT and reading.is_dollars and band.contains(reading.amount):
            plausible.setdefault(reading.cents, reading)
    if len(plausible) == 1:
        return next(iter(plausible.values())), ""
    if len(plausible) > 1:
        shown = ", ".join(f"${cents / 100:,.2f}" for cents in sorted(plausible)[:4])
        return None, f"several plausible amounts near the title ({shown}); not guessing"
    return None, ""
