"""Confidence and consensus rules in one place (DESIGN section 7), as named constants.

Single source (existing rule, kept so published confidences do not jump when we take over):
start at 50; +30 when the price is within 3% of the window's median of in-stock vendors;
-15 when it is more than 8% away from it; -20 when it is more than 10% away from the
previous day's median; clamped to 0-100. Between 3% and 8% from the window median there is
neither bonus nor penalty. "Within" is inclusive, "more than" strict.

Vision cross-check: agreement is decided here, numerically (within 3% of the primary price),
never by a model's own agreement flag. Agree -> the primary price, confidence 99, source
"<fetcher>+vision" (e.g. "http+vision", "firecrawl+vision"). Disagree -> whichever price is
nearer the window median (the primary on a tie or without a median), confidence at most 70.
Vision only -> the vision price as source "gemini-vision", confidence at most 70, published only
within 3% of the window median of the other vendors. A vision "out of stock" never overrules an
in-stock structured reading; the disagreement is only marked.

The median is the upper median: element floor(n/2) of the sorted values (the existing
system's definition, shared with publish so the series stays continuous).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal, TypeGuard

SINGLE_SOURCE_BASE = 50
NEAR_MEDIAN_PCT = 3.0  # within this of the window median: bonus
NEAR_MEDIAN_BONUS = 30
FAR_FROM_MEDIAN_PCT = 8.0  # more than this from the window median: penalty
FAR_FROM_MEDIAN_PENALTY = 15
DAY_JUMP_PCT = 10.0  # more than this from the previous day's median: penalty
DAY_JUMP_PENALTY = 20
CONFIDENCE_MIN = 0
CONFIDENCE_MAX = 100

VISION_AGREE_PCT = 3.0  # primary and vision prices within this of each other agree
VISION_AGREED_CONFIDENCE = 99
VISION_DISAGREE_CAP = 70
VISION_SUFFIX = "+vision"
SOURCE_AGREED = "firecrawl" + VISION_SUFFIX  # the old system's label; agreed_source() names the real fetcher
SOURCE_VISION = "gemini-vision"
VISION_PUBLISH_PCT = 3.0  # a vision-only price is published only within this of the other vendors' median

# Percentages are compared after rounding to this many decimals, so 103 vs 100 is exactly 3%.
PCT_DECIMALS = 9


def percent_off(value: float, reference: float) -> float:
    """|value - reference| as a percentage of reference (reference > 0), rounded against float noise."""
    return round(abs(value - reference) / reference * 100.0, PCT_DECIMALS)


def _usable(value: float | None) -> TypeGuard[float]:
    return value is not None and math.isfinite(value) and value > 0


def clamp_confidence(score: float) -> int:
    return int(max(CONFIDENCE_MIN, min(CONFIDENCE_MAX, round(score))))


def single_source_confidence(
    price: float, window_median: float | None, previous_day_median: float | None
) -> int:
    """Confidence of one vendor's price from its distance to the window and previous-day medians."""
    score = SINGLE_SOURCE_BASE
    if _usable(window_median):
        off = percent_off(price, window_median)
        if off <= NEAR_MEDIAN_PCT:
            score += NEAR_MEDIAN_BONUS
        elif off > FAR_FROM_MEDIAN_PCT:
            score -= FAR_FROM_MEDIAN_PENALTY
    if _usable(previous_day_median) and percent_off(price, previous_day_median) > DAY_JUMP_PCT:
        score -= DAY_JUMP_PENALTY
    return clamp_confidence(score)


def prices_agree(primary_price: float, vision_price: float) -> bool:
    """True when the vision price is within VISION_AGREE_PCT of the primary price."""
    return _usable(primary_price) and percent_off(vision_price, primary_price) <= VISION_AGREE_PCT


def vision_cross_check(
    primary_price: float | None,
    vision_price: float | None,
    window_median: float | None,
    single_score: int,
    primary_source: str = "firecrawl",
) -> tuple[float | None, int, str]:
    """(price, confidence, source) after checking the primary price against a vision reading.

    `single_score` is the single-source confidence of the primary price (of the vision price
    when there is no primary). Only one side present: that price, its score, capped at 70 when
    it is the vision side alone (a model reading nothing confirms).
    """
    if not _usable(vision_price):
        return primary_price, clamp_confidence(single_score) if _usable(primary_price) else 0, primary_source
    if not _usable(primary_price):
        return vision_price, min(clamp_confidence(single_score), VISION_DISAGREE_CAP), SOURCE_VISION
    if prices_agree(primary_price, vision_price):
        return primary_price, VISION_AGREED_CONFIDENCE, agreed_source(primary_source)
    capped = min(clamp_confidence(single_score), VISION_DISAGREE_CAP)
    if _usable(window_median) and abs(vision_price - window_median) < abs(primary_price - window_median):
        return vision_price, capped, SOURCE_VISION
    return primary_price, capped, primary_source


def agreed_source(primary_source: str) -> str:
    """The `source` of a scraped price a vision reading confirmed: "http" -> "http+vision"."""
    return primary_source + VISION_SUFFIX


def fetcher_source(source: str) -> str:
    """The fetcher's own label of a row's `source` ("http+vision" -> "http")."""
    return source.removesuffix(VISION_SUFFIX)


VisionVerdict = Literal["agreed", "disagreed", "vision_only", "unread"]


@dataclass(frozen=True)
class VisionDecision:
    """The cross-check of one target. `chosen` says which row holds the target's price: the scraped
    row ("primary", with `source` and `confidence` as decided), the vision row ("vision": the
    scraped price is refused, the `gemini-vision` row carries the price) or none. `stock_disagrees`:
    the model saw "out of stock" where the structured reading says in stock (kept in stock)."""

    verdict: VisionVerdict
    price: float | None
    confidence: int
    source: str
    chosen: Literal["primary", "vision", "none"]
    stock_disagrees: bool = False


def decide_vision(primary_price: float | None, primary_in_stock: bool | None, primary_score: int | None,
                  primary_source: str, vision_price: float | None, vision_in_stock: bool | None,
                  vision_score: int | None, window_median: float | None) -> VisionDecision:
    """The numeric decision between a scraped price (USD, None when the scrape failed) and a
    vision reading of the same page (USD, None when the model read none); `*_score` are their
    single-source confidences against `window_median` (USD, the other readings' upper median)."""
    stock_disagrees = primary_price is not None and primary_in_stock is not False and vision_in_stock is False
    if not _usable(vision_price):
        return VisionDecision("unread", primary_price, clamp_confidence(primary_score or 0), primary_source,
                              "primary" if _usable(primary_price) else "none", stock_disagrees)
    score = (primary_score if _usable(primary_price) else vision_score) or 0
    price, confidence, source = vision_cross_check(primary_price, vision_price, window_median, score, primary_source)
    if not _usable(primary_price):
        return VisionDecision("vision_only", price, confidence, source, "vision")
    if source == agreed_source(primary_source):
        return VisionDecision("agreed", price, confidence, source, "primary", stock_disagrees)
    chosen: Literal["primary", "vision"] = "vision" if source == SOURCE_VISION else "primary"
    return VisionDecision("disagreed", price, confidence, source, chosen, stock_disagrees)


def vision_publishable(vision_price: float, other_vendor_prices: Iterable[float]) -> bool:
    """A vision-only price (USD) may be published: it is within VISION_PUBLISH_PCT of the upper
    median of the other vendors' prices of the window (never without such a median)."""
    median = upper_median(price for price in other_vendor_prices if _usable(price))
    return _usable(median) and _usable(vision_price) and percent_off(vision_price, median) <= VISION_PUBLISH_PCT


def upper_median(values: Iterable[float]) -> float | None:
    """Element floor(n/2) of the sorted values (the upper median for even n); None when empty.

    The one median of the project: scrape confidence and every published median use it."""
    ordered = sorted(values)
    if not ordered:
        return None
    return ordered[len(ordered) // 2]


def window_confidences(observations: Iterable[tuple[str, float | None, bool]],
                       window_prices: dict[str, list[float]] | None = None,
                       previous_day: dict[str, float] | None = None) -> list[int | None]:
    """Single-source confidence for every (coin_slug, price USD, in_stock) of one window, in order.

    The window median per coin is the upper median of the in-stock prices given here plus
    `window_prices` (in-stock prices already stored for the window); `previous_day` maps coin ->
    previous UTC day's median. Observations without a price get None. Used by a live cycle and
    by the recovery of a cycle from its journal, so both score alike."""
    items = list(observations)
    in_stock: dict[str, list[float]] = {slug: list(prices) for slug, prices in (window_prices or {}).items()}
    for slug, price, stocked in items:
        if price is not None and stocked:
            in_stock.setdefault(slug, []).append(price)
    scores: list[int | None] = []
    for slug, price, _ in items:
        if price is None:
            scores.append(None)
            continue
        scores.append(single_source_confidence(price, upper_median(in_stock.get(slug) or []),
                                               (previous_day or {}).get(slug)))
    return scores
