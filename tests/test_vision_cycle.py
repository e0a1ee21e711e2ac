"""The vision cross-check inside a real scrape cycle: dealer pages on 127.0.0.1 rendered in
Chromium, the fake Gemini endpoint, the real database. Agreement, disagreement, vision only,
stock, the budget and its rotation, screenshot reuse, and a cycle where Gemini is down."""

from __future__ import annotations

import json

import pytest
from rich.console import Console

from staktrakr.jobs.publish import PublishOptions, run_publish
from staktrakr.store import Store
from tests.fake_gemini import GEMINI_KEY, Answer, FakeGemini
from tests.farm import Page, make_target
from tests.scrape_fixtures import rows, scrape


def product_page(price: str | None, stock: str = "InStock", title: str = "2026 1 oz American Silver Eagle Coin") -> str:
    """A dealer page: schema.org offer with `price` (None: no price anywhere on the page)."""
    offer = (f'"offers": {{"@type": "Offer", "price": "{price}", "priceCurrency": "USD", '
             f'"availability": "https://schema.org/{stock}"}}') if price else '"sku": "ASE"'
    shown = f"<p>Price: ${price}</p>" if price else "<p>Call for price</p>"
    return (f'<!doctype html><html><head><title>{title}</title><script type="application/ld+json">'
            f'{{"@context": "https://schema.org", "@type": "Product", "name": "{title}", {offer}}}</script></head>'
            f"<body><main><h1>{title}</h1>{shown}<button>Add to Cart</button></main></body></html>")


@pytest.fixture
def gemini():
    with FakeGemini() as fake:
        yield fake


@pytest.fixture
def vision_settings(farm_settings, gemini):
    def _make(**overrides: object):
        return farm_settings(gemini_api_key=GEMINI_KEY, gemini_base_url=gemini.base_url, **overrides)
    return _make


def vendors(farm, prices: dict[str, str | None], vision: set[str], fetchers: tuple[str, ...] = ("browser",)):
    """One target per vendor (coin ase) on its own farm host; `vision` names the vendors opted in."""
    return [make_target("ase", vendor, farm.host(vendor).add("/ase", product_page(price)),
                        fetchers=list(fetchers), vision=vendor in vision)
            for vendor, price in prices.items()]


def snapshot_rows(settings):
    return rows(settings, "SELECT vendor, price, source, confidence, is_failed, in_stock, evidence "
                          "FROM price_snapshots ORDER BY vendor, source")


def test_agreement_confirms_the_scraped_price(farm, vision_settings, gemini):
    gemini.answers["Apmex"] = Answer(price=80.00)
    targets = vendors(farm, {"apmex": "79.10", "jmbullion": "79.60"}, vision={"apmex"})
    settings = vision_settings()
    result = scrape(settings, targets)
    assert result.vision is not None
    assert (result.vision.calls, result.vision.agreed, result.vision.tokens) == (1, 1, 1440)
    stored = snapshot_rows(settings)
    assert [(r["vendor"], r["price"], r["source"], r["confidence"]) for r in stored] == [
        ("apmex", 80.00, "gemini-vision", 80), ("apmex", 79.10, "playwright+vision", 99),
        ("jmbullion", 79.60, "playwright", 80)]
    evidence = json.loads(stored[1]["evidence"])["vision"]
    assert (evidence["price"], evidence["verdict"], evidence["scraped_price"]) == (80.0, "agreed", 79.10)
    [run] = rows(settings, "SELECT vision FROM poller_runs")
    assert json.loads(run["vision"])["agreed"] == 1
    assert result.to_json()["vision"]["calls"] == 1


def test_disagreement_keeps_the_price_nearer_the_median(farm, vision_settings, gemini):
    # apmex's page is right and the model misread; sdbullion's page is wrong and the model read it right
    gemini.answers["Apmex"] = Answer(price=95.00)
    gemini.answers["Sdbullion"] = Answer(price=79.40)
    prices = {"apmex": "79.10", "jmbullion": "79.60", "monument": "79.90", "sdbullion": "99.00"}
    settings = vision_settings()
    result = scrape(settings, vendors(farm, prices, vision={"apmex", "sdbullion"}))
    assert (result.vision.disagreed, result.vision.agreed) == (2, 0)
    stored = {(r["vendor"], r["source"], r["is_failed"]): r for r in snapshot_rows(settings)}
    apmex = stored[("apmex", "playwright", 0)]
    assert apmex["price"] == 79.10 and apmex["confidence"] <= 70
    assert json.loads(apmex["evidence"])["vision"]["price"] == 95.0
    refused = stored[("sdbullion", "playwright", 1)]
    assert refused["price"] is None
    assert json.loads(refused["evidence"])["reason"] == (
        "vision_disagrees: scraped $99.00, vision $79.40 nearer the window median $79.60")
    chosen = stored[("sdbullion", "gemini-vision", 0)]
    assert chosen["price"] == 79.40 and chosen["confidence"] <= 70
    failure = rows(settings, "SELECT vendor_id, error FROM provider_failures")
    assert [f["vendor_id"] for f in failure] == ["sdbullion"]


def test_vision_only_price_is_published_only_near_the_other_vendors(farm, vision_settings, gemini, tmp_path):
    gemini.answers["Apmex"] = Answer(price=80.50)        # within 3% of the others' median
    gemini.answers["Sdbullion"] = Answer(price=88.00)    # 10% off: stored, never published
    prices = {"apmex": None, "jmbullion": "79.60", "monument": "79.90", "sdbullion": None}
    settings = vision_settings(api_export_dir=tmp_path / "export")
    result = scrape(settings, vendors(farm, prices, vision={"apmex", "sdbullion"}))
    assert result.vision.vision_only == 2
    assert result.captured == 2
    stored = {(r["vendor"], r["source"]): r for r in snapshot_rows(settings)}
    assert stored[("apmex", "gemini-vision")]["price"] == 80.50
    assert stored[("apmex", "gemini-vision")]["confidence"] <= 70
    assert stored[("sdbullion", "gemini-vision")]["price"] == 88.00
    assert stored[("apmex", "playwright")]["is_failed"] == 1
    with Store.open(settings) as store:
        run_publish(settings, store, PublishOptions(push=False))
    latest = json.loads((tmp_path / "export/data/api/ase/latest.json").read_text())
    assert set(latest["vendors"]) == {"apmex", "jmbullion", "monument"}
    assert latest["vendors"]["apmex"]["price"] == 80.50
    assert latest["vendors"]["apmex"]["source"] == "gemini-vision"


def test_vision_out_of_stock_never_overrides_an_in_stock_reading(farm, vision_settings, gemini):
    gemini.answers["Apmex"] = Answer(price=79.10, in_stock=False)
    settings = vision_settings()
    result = scrape(settings, vendors(farm, {"apmex": "79.10"}, vision={"apmex"}))
    [outcome] = result.outcomes
    assert (outcome.price, outcome.in_stock, outcome.vision.stock_disagrees) == (79.10, True, True)
    scraped = [r for r in snapshot_rows(settings) if r["source"] != "gemini-vision"]
    assert scraped[0]["in_stock"] == 1
    assert json.loads(scraped[0]["evidence"])["vision"]["stock_disagrees"] is True


def test_budget_takes_failed_targets_first_then_rotates(farm, vision_settings, gemini):
    gemini.default = Answer(price=79.50)
    prices = {"apmex": "79.10", "jmbullion": "79.60", "monument": "79.90"}
    targets = vendors(farm, prices, vision=set(prices))
    settings = vision_settings(vision_max_per_cycle=1)
    first = scrape(settings, targets)
    assert (first.vision.eligible, first.vision.planned, first.vision.calls) == (3, 1, 1)
    checked = {o.vendor_id for o in first.outcomes if o.vision is not None}
    second = scrape(settings, targets)
    checked_second = {o.vendor_id for o in second.outcomes if o.vision is not None}
    assert len(checked_second) == 1 and checked_second != checked   # never checked before comes first
    # a target whose last scraped row failed jumps the rotation
    broken = [t if t.vendor_id != "monument" else
              make_target("ase", "monument", farm.host("monument2").add("/ase", product_page(None)),
                          fetchers=["browser"], vision=True) for t in targets]
    scrape(settings, broken)
    third = scrape(settings, targets)
    assert {o.vendor_id for o in third.outcomes if o.vision is not None} == {"monument"}


def test_identical_screenshot_reuses_the_last_reading(farm, vision_settings, gemini):
    gemini.answers["Apmex"] = Answer(price=80.00)
    targets = vendors(farm, {"apmex": "79.10"}, vision={"apmex"})
    settings = vision_settings()
    first = scrape(settings, targets)
    second = scrape(settings, targets)
    assert (first.vision.calls, first.vision.reused) == (1, 0)
    assert (second.vision.calls, second.vision.reused, second.vision.agreed) == (0, 1, 1)
    assert len(gemini.calls) == 1
    assert second.outcomes[0].source == "playwright+vision"


def test_page_read_over_http_is_screenshotted_from_its_html(farm, vision_settings, gemini):
    gemini.answers["Apmex"] = Answer(price=79.10)
    host = farm.host("apmex")
    host.add("/css/site.css", Page(body="main { font-size: 20px }", content_type="text/css"))
    page = product_page("79.10").replace("</title>", '</title><link rel="stylesheet" href="/css/site.css">')
    target = make_target("ase", "apmex", host.add("/ase", page), fetchers=["http"], vision=True)
    plain = make_target("ase", "jmbullion", farm.host("jm").add("/ase", product_page("79.60")), fetchers=["http"])
    result = scrape(vision_settings(), [target, plain])
    assert result.outcomes[0].source == "http+vision"
    assert result.vision.calls == 1 and len(gemini.calls) == 1
    assert host.hits["/ase"] == 1            # the vendor is not asked for the page again
    assert host.hits["/css/site.css"] == 1   # laid out with its own stylesheet (relative link resolved)
    assert farm.host("jm").hits["/ase"] == 1


def test_vision_needs_the_key_and_the_catalog_flag(farm, farm_settings, vision_settings, gemini):
    targets = vendors(farm, {"apmex": "79.10"}, vision=set())
    assert scrape(vision_settings(), targets).vision is None
    keyless = vendors(farm, {"jmbullion": "79.10"}, vision={"jmbullion"})
    assert scrape(farm_settings(), keyless).vision is None
    assert gemini.calls == []


def test_cycle_completes_when_gemini_is_down(farm, vision_settings, gemini):
    gemini.default = Answer(mode="500")
    prices = {"apmex": "79.10", "jmbullion": "79.60"}
    settings = vision_settings()
    result = scrape(settings, vendors(farm, prices, vision=set(prices)))
    assert result.status == "ok" and result.captured == 2
    assert (result.vision.failed, result.vision.calls, result.vision.agreed) == (2, 2, 0)
    stored = snapshot_rows(settings)
    assert [(r["vendor"], r["price"], r["source"]) for r in stored] == [
        ("apmex", 79.10, "playwright"), ("jmbullion", 79.60, "playwright")]
    assert len(gemini.calls) == 6   # three calls each, then given up


def test_scrape_table_shows_the_vision_column(farm, vision_settings, gemini, capsys):
    from staktrakr.cli.scrape import render_result

    gemini.answers["Apmex"] = Answer(price=80.00)
    gemini.answers["Sdbullion"] = Answer(mode="blocked")
    prices = {"apmex": "79.10", "jmbullion": "79.60", "sdbullion": "79.90"}
    result = scrape(vision_settings(), vendors(farm, prices, vision={"apmex", "sdbullion"}))
    render_result(result, Console(width=200))
    out = capsys.readouterr().out
    header = next(line for line in out.splitlines() if "vendor" in line)
    assert "vision" in header
    lines = {line.split()[1]: line for line in out.splitlines() if line.strip().startswith("ase ")}
    assert "agreed $80.00" in lines["apmex"] and "$79.10" in lines["apmex"] and " 99 " in lines["apmex"]
    assert "failed: blocked: SAFETY" in lines["sdbullion"]
    assert "vision: 2 calls, 0 reused, 1 agreed, 0 disagreed, 0 vision-only, 1 failed" in out
    render_result(result, Console(width=80))    # the narrow table says it in the result column
    narrow = " ".join(capsys.readouterr().out.split())   # the result column wraps
    assert "vision: agreed $80.00" in narrow


def test_no_vision_column_without_the_cross_check(farm, farm_settings, capsys):
    from staktrakr.cli.scrape import render_result

    render_result(scrape(farm_settings(), vendors(farm, {"apmex": "79.10"}, vision=set())), Console(width=200))
    header = next(line for line in capsys.readouterr().out.splitlines() if "vendor" in line)
    assert "vision" not in header


def test_a_hanging_gemini_is_cut_when_the_fetching_ends(farm, vision_settings, gemini):
    gemini.latency_s = 5.0     # past VISION_TIMEOUT_S on every call, and past the wait at the cycle's end
    settings = vision_settings(vision_timeout_s=1)
    result = scrape(settings, vendors(farm, {"apmex": "79.10"}, vision={"apmex"}))
    [outcome] = result.outcomes
    assert (outcome.price, outcome.source, result.status) == (79.10, "playwright", "ok")
    assert outcome.vision.failure == "cut: no answer before the cycle ended"
    assert result.vision.failed == 1
    assert rows(settings, "SELECT COUNT(*) AS n FROM price_snapshots")[0]["n"] == 1
