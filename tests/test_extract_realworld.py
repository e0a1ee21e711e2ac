"""Every page of ../shared/realworld (price and stock mistakes reported by builders of price
trackers) through the real scrape job: served over HTTP on 127.0.0.1, fetched by the real http
fetcher, read with the vendor's catalog rules. Each gives its exact price and stock, or fails
with the exact reason; the --json view of a target says why its number won."""

from __future__ import annotations

import json

import pytest

from staktrakr.catalog import Coin, Target
from tests.conftest import shared_path
from tests.extract_fixtures import CATALOG
from tests.farm import Page
from tests.scrape_fixtures import scrape

REALWORLD = shared_path("realworld")
CASES = json.loads((REALWORLD / "cases.json").read_text(encoding="utf-8"))
# Failure reasons for pages that must not give a price (the case file says only "fail").
EXPECTED_FAILURE = {"page-in-canadian-dollars": "wrong_currency"}


def target_for(case: dict, url: str) -> Target:
    rules = CATALOG.rules_for(case["vendor"]).model_copy(update={"fetchers": ["http"], "proxy": "never",
                                                                 "timeout_s": 5})
    coin = Coin(**case["coin"], providers=[])
    return Target(coin=coin, vendor_id=case["vendor"], vendor_name=case["vendor"], urls=(url,), rules=rules)


@pytest.mark.parametrize("case", CASES, ids=[case["id"] for case in CASES])
def test_realworld_page_gives_its_right_answer(farm, farm_settings, case):
    url = farm.host("realworld").add(f"/{case['id']}", Page((REALWORLD / case["page"]).read_text(encoding="utf-8")))
    result = scrape(farm_settings(), [target_for(case, url)], dry_run=True)
    outcome = result.outcomes[0]
    expected = case["expect"]
    if expected.get("fail"):
        assert (outcome.price, outcome.ok) == (None, False)
        assert outcome.reason.split(":")[0] == EXPECTED_FAILURE.get(case["id"], outcome.reason.split(":")[0])
    else:
        assert (outcome.price, outcome.in_stock, outcome.reason) == (expected["price"], expected["in_stock"], None)
        assert outcome.decision  # --json answers "why this number"
        chosen = [reading for reading in outcome.readings if reading["verdict"] == "chosen"]
        assert [reading["amount"] for reading in chosen] == [expected["price"]]


def test_json_of_a_target_names_the_losing_reading(farm, farm_settings):
    """The card-column page: the structured price lost because it is the table's card column."""
    case = next(case for case in CASES if case["id"] == "structured-price-is-card-column")
    url = farm.host("realworld").add("/card", Page((REALWORLD / case["page"]).read_text(encoding="utf-8")))
    outcome = scrape(farm_settings(), [target_for(case, url)], dry_run=True).outcomes[0]
    data = outcome.to_json()
    lost = [r for r in data["readings"] if r["rule"] == "jsonld" and r["role"] == "unit"]
    assert lost and lost[0]["amount"] == 89.85 and lost[0]["verdict"].startswith("equals the card price")
    assert data["decision"].startswith("table check_wire 86.39")
