"""Which weight a product title names, to catch a fractional coin served for a 1 oz URL.

Dealers redirect sold-out 1 oz pages to, or list in the title, the 1/10 oz sibling. A title
naming a fraction of an ounce ("1/10 oz", "half ounce", "0.25 oz", "½ oz") when the coin is
1 oz or more means the page is the wrong product; its price must never be stored.
"""

from __future__ import annotations

import re

UNICODE_FRACTIONS = {"½": 0.5, "¼": 0.25, "¾": 0.75, "⅒": 0.1, "⅕": 0.2, "⅛": 0.125}
WORD_FRACTIONS = {"half": 0.5, "quarter": 0.25, "tenth": 0.1, "twentieth": 0.05, "fiftieth": 0.02, "hundredth": 0.01}
OUNCE = r"(?:troy\s*)?(?:oz\b|ozt\b|ounces?\b)"
SLASH_FRACTION = re.compile(r"(?<![\d/.])(\d{1,2})\s*/\s*(\d{1,3})(?![\d/])\s*-?\s*" + OUNCE, re.IGNORECASE)
DECIMAL_FRACTION = re.compile(r"(?<![\d/.])(0?\.\d{1,3})\s*-?\s*" + OUNCE, re.IGNORECASE)
UNICODE_FRACTION = re.compile(r"([½¼¾⅒⅕⅛])\s*-?\s*" + OUNCE, re.IGNORECASE)
WORD_FRACTION = re.compile(r"\b(half|quarter|tenth|twentieth|fiftieth|hundredth)[\s-]*" + OUNCE, re.IGNORECASE)
FULL_OUNCE_THRESHOLD = 1.0


def fractional_weight(title: str) -> tuple[float, str] | None:
    """The first fraction-of-an-ounce weight a title names, with the matched text, or None."""
    found: list[tuple[int, float, str]] = []
    for match in SLASH_FRACTION.finditer(title):
        numerator, denominator = int(match.group(1)), int(match.group(2))
        if denominator and numerator < denominator:
            found.append((match.start(), numerator / denominator, match.group(0)))
    for match in DECIMAL_FRACTION.finditer(title):
        value = float(match.group(1))
        if 0 < value < 1:
            found.append((match.start(), value, match.group(0)))
    for match in UNICODE_FRACTION.finditer(title):
        found.append((match.start(), UNICODE_FRACTIONS[match.group(1)], match.group(0)))
    for match in WORD_FRACTION.finditer(title):
        found.append((match.start(), WORD_FRACTIONS[match.group(1).lower()], match.group(0)))
    if not found:
        return None
    _, value, text = min(found)
    return value, text


WHOLE_OUNCES = re.compile(r"(?<![\d/.,])(\d{1,4}(?:\.\d{1,3})?)\s*-?\s*" + OUNCE, re.IGNORECASE)
METRIC = re.compile(r"(?<![\d/.,])(\d{1,4}(?:\.\d{1,3})?)\s*-?\s*(kilo(?:gram)?s?|kg|grams?|g)\b", re.IGNORECASE)
GRAMS_PER_TROY_OUNCE = 31.1034768
WEIGHT_TOLERANCE = 0.02


def named_weights(title: str) -> list[tuple[float, str]]:
    """Every weight a title names, in troy ounces, with the matched text (fractions, whole and
    decimal ounces, grams, kilos)."""
    found = []
    fraction = fractional_weight(title)
    if fraction is not None:
        found.append(fraction)
    for match in WHOLE_OUNCES.finditer(title):
        value = float(match.group(1))
        if value >= 1:
            found.append((value, match.group(0)))
    for match in METRIC.finditer(title):
        grams = float(match.group(1)) * (1000 if match.group(2).lower().startswith("k") else 1)
        found.append((grams / GRAMS_PER_TROY_OUNCE, match.group(0)))
    return found


def other_weight(title: str, weight_oz: float) -> str | None:
    """The weight a title names when it names weights and none is the coin's (a 2 oz page for a
    1 oz coin), else None."""
    weights = named_weights(title)
    if not weights or any(abs(value - weight_oz) <= weight_oz * WEIGHT_TOLERANCE for value, _ in weights):
        return None
    return weights[0][1]


def names_fraction_of_full_ounce(title: str, weight_oz: float) -> bool:
    """True when the coin is a full ounce or more and the title names a fractional weight."""
    return weight_oz >= FULL_OUNCE_THRESHOLD and fractional_weight(title) is not None


GOLDBACK_NUMBERS = {"½": 0.5, "1/2": 0.5, "half": 0.5, "one": 1, "two": 2, "five": 5, "ten": 10, "twenty-five": 25,
                    "twenty five": 25, "fifty": 50}
GOLDBACK_DENOMINATION = re.compile(
    r"\bG\s?(\d{1,2}|½|1/2)\b|(?<![\d/])(\d{1,2}|½|1/2|half|one|two|five|ten|twenty[- ]five|fifty)\s+goldbacks?\b",
    re.IGNORECASE,
)


def other_goldback_denomination(title: str, units: float) -> str | None:
    """The denomination a Goldback title names ("G5", "5 Goldback") when it names one and none is
    the coin's number of G-units, else None."""
    named = []
    for match in GOLDBACK_DENOMINATION.finditer(title):
        text = (match.group(1) or match.group(2)).lower()
        value = GOLDBACK_NUMBERS.get(text)
        named.append((float(value) if value is not None else float(text), match.group(0)))
    if not named or any(abs(value - units) < 1e-9 for value, _ in named):
        return None
    return named[0][1]
