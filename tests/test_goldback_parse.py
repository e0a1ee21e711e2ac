"""Goldback page reading, plausibility band and the publisher's effective date (pure functions)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from staktrakr.extract.goldback import parse_goldback_rate
from staktrakr.rules.bands import goldback_rate_band
from staktrakr.rules.goldback_calendar import effective_date, in_update_grace


def page(body: str) -> str:
    return (f"<html><head><title>Goldback Exchange Rates</title></head><body><header>Spot gold $5,018.96</header>"
            f"{body}<footer>Prices in USD</footer></body></html>")


def first(html: str | None = None, markdown: str | None = None) -> tuple[float, str] | None:
    found = parse_goldback_rate(html=html, markdown=markdown)
    return (found[0].g1_usd, found[0].method) if found else None


@pytest.mark.parametrize("body, expected", [
    ("<h2>1 Goldback = $10.06</h2>", (10.06, "phrase")),
    ("<h2>One Goldback = $10</h2>", (10.0, "phrase")),
    ("<p>Today: <strong>1 Goldback</strong> <span>=</span> <em>$ 10.60</em> USD</p>", (10.6, "phrase")),
    ("<p>ONE GOLDBACK = $10.5.</p>", (10.5, "phrase")),
    ("<table><tr><th>Denomination</th><th>Exchange rate</th></tr><tr><td>1 Goldback</td><td>$10.06</td></tr>"
     "<tr><td>5 Goldbacks</td><td>$50.30</td></tr></table>", (10.06, "table")),
    ("<div class='goldback-exchange-rate'><span class='label'>Current rate</span></div>"
     "<span data-role='g1-usd'>$10.27</span>", (10.27, "labelled")),
    ('<script type="application/ld+json">{"@type": "ExchangeRateSpecification", "currency": "USD", '
     '"currentExchangeRate": {"@type": "UnitPriceSpecification", "price": 10.21}}</script>', (10.21, "json")),
    ('<script id="__DATA__" type="application/json">{"rates": {"goldbackRate": "$10.33"}}</script>',
     (10.33, "json")),
])
def test_rate_variants(body, expected):
    assert first(page(body)) == expected


@pytest.mark.parametrize("body", [
    "<p>Goldbacks are a currency. Spot gold $5,018.96. Shipping $10.06.</p>",          # no phrase: page changed
    "<script>document.write('1 Goldback = $10.06')</script><div id='rate'></div>",     # code is not the page
    "<p>11 Goldback = $110.60</p>",                                                    # not one Goldback
    "<p>1 Goldback = $10.065</p>",                                                     # not a cents amount
    "<table><tr><td>5 Goldbacks</td><td>$50.30</td></tr></table>",
])
def test_no_rate(body):
    assert parse_goldback_rate(html=page(body)) == []


def test_structure_comes_before_the_phrase():
    html = page("<p>Yesterday 1 Goldback = $10.21</p><table><tr><td>1 Goldback</td><td>$10.06</td></tr></table>")
    assert [(c.g1_usd, c.method) for c in parse_goldback_rate(html=html)] == [(10.06, "table"), (10.21, "phrase")]


def test_markdown_from_firecrawl():
    assert first(markdown="# Exchange Rates\n\n**One Goldback = $10.06**\n") == (10.06, "phrase")
    assert first(markdown="| Denomination | Rate |\n|---|---|\n| 1 Goldback | **$10** |\n") == (10.0, "table")


def test_band_follows_gold_spot():
    band = goldback_rate_band(5018.96)
    assert (band.low, band.high, band.basis) == (6.02, 20.08, "1.2-4x melt at gold $5,018.96")
    assert band.contains(10.06)
    assert (goldback_rate_band(None).low, goldback_rate_band(None).high) == (2.0, 50.0)
    assert (goldback_rate_band(float("nan")).low, goldback_rate_band(float("nan")).high) == (2.0, 50.0)


UTC = UTC


@pytest.mark.parametrize("moment, expected", [
    # winter (MST = UTC-7): 10:00 MT = 17:00 UTC
    (datetime(2026, 1, 14, 16, 59, tzinfo=UTC), date(2026, 1, 13)),   # Wed 09:59 MST -> Tue
    (datetime(2026, 1, 14, 17, 0, tzinfo=UTC), date(2026, 1, 14)),    # Wed 10:00 MST -> Wed
    (datetime(2026, 1, 15, 2, 0, tzinfo=UTC), date(2026, 1, 14)),     # Thu 02:00 UTC = Wed 19:00 MST
    (datetime(2026, 1, 12, 16, 0, tzinfo=UTC), date(2026, 1, 9)),     # Mon 09:00 MST -> Fri
    (datetime(2026, 1, 10, 20, 0, tzinfo=UTC), date(2026, 1, 9)),     # Saturday -> Fri
    (datetime(2026, 1, 11, 23, 0, tzinfo=UTC), date(2026, 1, 9)),     # Sunday -> Fri
    (datetime(2026, 1, 17, 3, 0, tzinfo=UTC), date(2026, 1, 16)),     # Sat 03:00 UTC = Fri 20:00 MST -> Fri
    # summer (MDT = UTC-6, DST from 2026-03-08): 10:00 MT = 16:00 UTC
    (datetime(2026, 3, 9, 16, 0, tzinfo=UTC), date(2026, 3, 9)),      # Mon 10:00 MDT -> Mon
    (datetime(2026, 3, 9, 15, 59, tzinfo=UTC), date(2026, 3, 6)),     # Mon 09:59 MDT -> Fri
    (datetime(2026, 3, 6, 16, 30, tzinfo=UTC), date(2026, 3, 5)),     # Fri 09:30 MST (before DST) -> Thu
    (datetime(2026, 11, 2, 16, 30, tzinfo=UTC), date(2026, 10, 30)),  # Mon 09:30 MST (after DST ends) -> Fri
    (datetime(2026, 11, 2, 17, 0, tzinfo=UTC), date(2026, 11, 2)),
])
def test_effective_date(moment, expected):
    assert effective_date(moment) == expected


def test_naive_times_are_utc():
    assert effective_date(datetime(2026, 1, 14, 17, 0)) == date(2026, 1, 14)


def test_update_grace_window():
    assert in_update_grace(datetime(2026, 3, 9, 16, 10, tzinfo=UTC))        # Mon 10:10 MDT
    assert not in_update_grace(datetime(2026, 3, 9, 17, 0, tzinfo=UTC))     # Mon 11:00 MDT
    assert not in_update_grace(datetime(2026, 3, 9, 15, 50, tzinfo=UTC))    # before the update
    assert not in_update_grace(datetime(2026, 3, 7, 16, 10, tzinfo=UTC))    # Saturday
