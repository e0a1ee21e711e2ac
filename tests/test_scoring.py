"""Confidence rules (DESIGN 7) at every boundary, the vision cross-check and the upper median."""

from __future__ import annotations

import math

import pytest

from staktrakr.rules.scoring import (
    SOURCE_AGREED,
    SOURCE_VISION,
    decide_vision,
    percent_off,
    prices_agree,
    single_source_confidence,
    upper_median,
    vision_cross_check,
    vision_publishable,
)


@pytest.mark.parametrize(
    ("price", "window_median", "expected"),
    [
        (100.0, 100.0, 80),  # on the median: +30
        (103.0, 100.0, 80),  # exactly 3%: within -> +30
        (97.0, 100.0, 80),  # 3% below: within
        (103.01, 100.0, 50),  # just over 3%: no bonus
        (108.0, 100.0, 50),  # exactly 8%: not "more than" -> no penalty
        (92.0, 100.0, 50),
        (108.01, 100.0, 35),  # more than 8%: -15
        (91.99, 100.0, 35),
        (150.0, 100.0, 35),
    ],
)
def test_window_median_bonus_and_penalty(price, window_median, expected):
    assert single_source_confidence(price, window_median, None) == expected


@pytest.mark.parametrize(
    ("price", "previous_day_median", "expected"),
    [
        (110.0, 100.0, 50),  # exactly 10%: not "more than"
        (90.0, 100.0, 50),
        (110.01, 100.0, 30),  # more than 10%: -20
        (89.99, 100.0, 30),
    ],
)
def test_previous_day_jump_penalty(price, previous_day_median, expected):
    assert single_source_confidence(price, None, previous_day_median) == expected


def test_penalties_stack_and_clamp_to_zero_floor():
    # 20% off both medians: 50 - 15 - 20 = 15
    assert single_source_confidence(120.0, 100.0, 100.0) == 15
    # near the window median but 12% from yesterday: 50 + 30 - 20
    assert single_source_confidence(112.0, 110.0, 100.0) == 60


def test_no_medians_gives_the_base_score():
    assert single_source_confidence(95.49, None, None) == 50
    assert single_source_confidence(95.49, 0.0, math.nan) == 50  # unusable medians are ignored


def test_percent_off_is_free_of_float_noise():
    assert percent_off(103.0, 100.0) == 3.0
    assert percent_off(5019.5 * 1.08, 5019.5) == 8.0


@pytest.mark.parametrize(
    ("primary", "vision", "agree"),
    [(100.0, 103.0, True), (100.0, 97.0, True), (100.0, 103.01, False), (100.0, 96.99, False)],
)
def test_agreement_is_numeric_within_three_percent(primary, vision, agree):
    assert prices_agree(primary, vision) is agree


def test_vision_agreement_gives_99_and_the_primary_price():
    assert vision_cross_check(95.49, 95.0, 96.0, 50) == (95.49, 99, SOURCE_AGREED)


def test_vision_disagreement_takes_the_price_nearer_the_median_capped_at_70():
    # vision is nearer the median 96: vision price, min(80, 70)
    assert vision_cross_check(110.0, 95.0, 96.0, 80) == (95.0, 70, SOURCE_VISION)
    # primary is nearer: primary price and source, score below the cap stays
    assert vision_cross_check(95.0, 110.0, 96.0, 35, primary_source="firecrawl") == (95.0, 35, "firecrawl")


def test_vision_disagreement_without_a_median_keeps_the_primary():
    assert vision_cross_check(110.0, 95.0, None, 80, primary_source="playwright") == (110.0, 70, "playwright")


def test_vision_missing_or_alone():
    assert vision_cross_check(95.49, None, 96.0, 80) == (95.49, 80, "firecrawl")
    assert vision_cross_check(None, 95.0, 96.0, 80) == (95.0, 70, SOURCE_VISION)
    assert vision_cross_check(None, None, 96.0, 80) == (None, 0, "firecrawl")


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([], None),
        ([5.0], 5.0),
        ([3.0, 1.0], 3.0),  # even n: the upper one (element 1), not the mean 2.0
        ([4.0, 1.0, 3.0, 2.0], 3.0),
        ([9.0, 1.0, 5.0], 5.0),
    ],
)
def test_upper_median(values, expected):
    assert upper_median(values) == expected


# the vision decision ---------------------------------------------------------------------------

def test_agreement_names_the_real_fetcher():
    decision = decide_vision(79.10, True, 80, "http", 80.00, True, 80, 79.60)
    assert (decision.verdict, decision.price, decision.confidence, decision.source, decision.chosen) == (
        "agreed", 79.10, 99, "http+vision", "primary")


def test_disagreement_takes_the_price_nearer_the_median_capped_at_70():
    primary_nearer = decide_vision(79.10, True, 80, "playwright", 95.00, True, 35, 79.60)
    assert (primary_nearer.verdict, primary_nearer.price, primary_nearer.confidence, primary_nearer.source,
            primary_nearer.chosen) == ("disagreed", 79.10, 70, "playwright", "primary")
    vision_nearer = decide_vision(99.00, True, 35, "http", 79.40, True, 80, 79.60)
    assert (vision_nearer.verdict, vision_nearer.price, vision_nearer.confidence, vision_nearer.source,
            vision_nearer.chosen) == ("disagreed", 79.40, 35, SOURCE_VISION, "vision")


def test_vision_only_is_its_own_source_capped_at_70():
    decision = decide_vision(None, None, None, "http", 80.50, True, 80, 79.60)
    assert (decision.verdict, decision.price, decision.confidence, decision.source, decision.chosen) == (
        "vision_only", 80.50, 70, SOURCE_VISION, "vision")


def test_vision_out_of_stock_marks_but_never_overrides():
    decision = decide_vision(79.10, True, 80, "http", 79.10, False, 80, 79.60)
    assert (decision.verdict, decision.chosen, decision.stock_disagrees) == ("agreed", "primary", True)
    unread = decide_vision(79.10, True, 80, "http", None, False, None, 79.60)
    assert (unread.verdict, unread.price, unread.confidence, unread.stock_disagrees) == ("unread", 79.10, 80, True)


@pytest.mark.parametrize(("vision", "others", "published"), [
    (82.00, [79.60, 79.90, 80.00], True),     # 82.00 vs upper median 79.90: 2.63%
    (82.40, [79.60, 80.00], True),            # exactly 3% of 80.00
    (82.41, [79.60, 80.00], False),
    (77.60, [79.60, 79.90, 80.00], True),     # 2.88% below
    (77.40, [79.60, 79.90, 80.00], False),
    (80.00, [], False),                       # no other vendor: never published
])
def test_vision_only_published_within_3_percent_of_the_other_vendors(vision, others, published):
    assert vision_publishable(vision, others) is published
