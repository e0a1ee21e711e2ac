"""`GET /api/dashboard`: every panel's numbers against a real libSQL server holding known rows
(tests/dashboard_fixtures.py), the same JSON over HTTP with a bearer token, FLEET_HEALTH_URLS
checked from the server at most once per interval, and an empty database."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

from staktrakr.models import PriceObservation
from staktrakr.ops.dashboard.cache import DashboardCache
from staktrakr.ops.dashboard.data import build_dashboard
from staktrakr.ops.server import create_app
from staktrakr.store import Store
from staktrakr.timeutil import iso_z, window_start
from tests.dashboard_fixtures import JM_URL, seed_fleet, write_catalog
from tests.ops_fixtures import running_server

NOW = datetime(2026, 3, 15, 20, 40, 0, tzinfo=UTC)
TOKEN = "dashboard-token-for-tests-0123456789"


@pytest.fixture
def fleet(libsql_server, make_settings, tmp_path):
    settings = make_settings(turso_database_url=libsql_server.url, providers_file=write_catalog(tmp_path),
                             api_export_dir=tmp_path / "export", poller_id="api", dashboard_token=TOKEN)
    store = Store.open(settings)
    seed_fleet(store, settings.export_dir, NOW)
    store.outbox.append([{"kind": "poller_runs", "rows": []}], reason="test")
    yield settings, store
    store.close()


def test_fleet_panel(fleet):
    settings, store = fleet
    data = build_dashboard(settings, store, NOW)
    json.dumps(data)
    assert data["database"]["error"] is None
    pollers = data["fleet"]["pollers"]
    assert sorted(pollers) == ["api", "home"]
    assert sorted(pollers["api"]["jobs"]) == ["merge", "publish", "scrape"]
    scrape = pollers["api"]["jobs"]["scrape"]
    assert [run["run_id"] for run in scrape["runs"]] == ["api-scrape-1", "api-scrape-2", "api-scrape-3", "api-scrape-0"]
    assert scrape["runs"][0]["duration_s"] == 60.0 and scrape["runs"][0]["captured"] == 3
    assert scrape["stats_24h"] == {"runs": 3, "ok_runs": 2, "success_percent": 66.7, "captured": 7, "total": 12,
                                   "capture_percent": 58.3, "avg_duration_s": 50.0}
    assert pollers["home"]["jobs"]["spot"]["stats_24h"]["avg_duration_s"] == 2.5
    assert pollers["home"]["jobs"]["scrape"]["stats_24h"] is None  # only a running one
    assert [(run["run_id"], run["running_s"]) for run in data["fleet"]["stuck_runs"]] == [("home-scrape-9", 10800.0)]
    assert [run["run_id"] for run in data["fleet"]["orphaned_runs"]] == ["api-publish-1"]
    assert data["fleet"]["health"] == []


def test_coverage_panel(fleet):
    settings, store = fleet
    coverage = build_dashboard(settings, store, NOW)["coverage"]
    retail = coverage["retail"]
    assert retail["enabled"] == 4
    assert (retail["latest_hour"]["covered"], retail["latest_hour"]["percent"]) == (3, 75.0)
    assert len(retail["hourly"]) == 48
    assert retail["hourly"][-1] == {"hour": "2026-03-15T20", "covered": 3, "percent": 75.0}
    assert retail["hourly"][-2] == {"hour": "2026-03-15T19", "covered": 1, "percent": 25.0}
    assert retail["hourly"][0]["hour"] == "2026-03-13T21"
    assert retail["avg_24h_percent"] == round(25.0 / 24, 1)  # hour 19 at 25 %, 23 empty hours

    spot = coverage["spot"]
    assert len(spot["slots"]) == 192 and spot["slots"][-1] == "2026-03-15T20:30"
    gold = spot["metals"]["gold"]
    assert (gold["filled"], gold["by_poller"]) == (3, {"api": 2, "home": 1})  # 0.01 is no slot
    assert gold["slots"][-3:] == ["home", "api", "api"] and gold["slots"][-4] is None
    assert spot["metals"]["silver"]["by_poller"] == {"api": 1}
    assert spot["metals"]["platinum"]["filled"] == 0

    assert coverage["goldback"]["newest"] == "2026-03-13"
    assert coverage["publish"]["age_s"] == 720.0 and not coverage["publish"]["stale"]
    assert list(coverage["publish"]["runs"]) == ["api", "home"]
    assert coverage["merge"]["newest"].startswith("2026-03-15T20:30:00") and coverage["merge"]["age_s"] == 600.0
    assert coverage["outbox"]["entries"] == 1


def test_failures_panel(fleet):
    settings, store = fleet
    failures = build_dashboard(settings, store, NOW)["failures"]
    assert failures["per_day"] == [{"day": f"2026-03-{day:02d}", "failures": count}
                                   for day, count in zip(range(9, 16), [0, 1, 0, 0, 1, 1, 2], strict=True)]
    assert [(c["coin_slug"], c["vendor_id"], c["failures"]) for c in failures["chronic"]] == [("ase", "jmbullion", 4)]
    assert failures["chronic"][0]["last_error"] == "blocked: HTTP 403"
    assert failures["chronic"][0]["last_url"] == JM_URL
    assert failures["missing_this_hour"] == ["ase/jmbullion"]


def test_prices_panel(fleet):
    settings, store = fleet
    coins = build_dashboard(settings, store, NOW)["prices"]["coins"]
    assert sorted(coins) == ["age", "ase"]
    ase = coins["ase"]
    assert ase["name"] == "American Silver Eagle"
    assert ase["daily"] == [{"day": "2026-03-14", "median": 35.0, "low": 30.0, "samples": 4},
                            {"day": "2026-03-15", "median": 41.0, "low": 40.0, "samples": 2}]  # vendor averages 31, 35 / 41; vision left out
    assert ase["windows"] == [{"window_start": "2026-03-15T19:00:00Z", "median": 42.0, "low": 42.0, "vendors": 1},
                              {"window_start": "2026-03-15T20:30:00Z", "median": 40.0, "low": 40.0, "vendors": 1}]
    table = {row["vendor"]: row for row in ase["vendor_table"]}
    assert [row["vendor"] for row in ase["vendor_table"]] == ["apmex", "sdbullion", "jmbullion"]
    assert (table["apmex"]["price"], table["apmex"]["in_stock"], table["apmex"]["source"]) == (40.0, True, "http")
    assert table["apmex"]["age_s"] == 595.0 and table["apmex"]["poller"] == "api"
    assert (table["sdbullion"]["price"], table["sdbullion"]["in_stock"]) == (41.0, False)
    assert table["jmbullion"]["price"] is None and table["jmbullion"]["age_s"] is None


def test_api_over_http_with_fleet_health(fleet, make_settings, tmp_path):
    """The same JSON through `serve` with a bearer token; the other poller's /healthz is asked once
    however often the dashboard is read within the interval."""
    settings, store = fleet
    asked: list[str] = []

    async def healthz(request):
        asked.append(request.url.path)
        return JSONResponse({"status": "stale", "poller": "home"}, status_code=503)

    other = Starlette(routes=[Route("/healthz", healthz)])
    with running_server(other) as other_url:
        dead = "http://127.0.0.1:9"  # discard port: nothing answers
        settings = settings.model_copy(update={"fleet_health_urls": [other_url, dead]})
        with running_server(create_app(settings, store)) as base:
            first = httpx.get(f"{base}/api/dashboard", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30)
            second = httpx.get(f"{base}/api/dashboard", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30)
    assert first.status_code == 200 and second.status_code == 200
    assert first.headers["cache-control"] == "no-store"
    health = {entry["url"]: entry for entry in first.json()["fleet"]["health"]}
    assert health[f"{other_url}/healthz"]["status_code"] == 503
    assert health[f"{other_url}/healthz"]["verdict"] == "stale" and health[f"{other_url}/healthz"]["poller"] == "home"
    assert health[f"{other_url}/healthz"]["latency_ms"] is not None
    assert health[f"{dead}/healthz"]["status_code"] is None and health[f"{dead}/healthz"]["error"]
    assert asked == ["/healthz"]  # the second read used the cached check
    assert second.json()["fleet"]["health"] == first.json()["fleet"]["health"]
    assert sorted(first.json()) == ["coverage", "database", "failures", "fleet", "freshness", "generated_at",
                                    "poller", "prices"]


def test_empty_database(libsql_server, make_settings, tmp_path):
    settings = make_settings(turso_database_url=libsql_server.url, providers_file=write_catalog(tmp_path))
    with Store.open(settings) as store:
        data = build_dashboard(settings, store, NOW)
    assert data["database"]["error"] is None
    assert data["fleet"]["pollers"] == {} and data["failures"]["chronic"] == []
    assert data["coverage"]["retail"]["hourly"][-1]["covered"] == 0
    assert data["prices"]["coins"]["ase"]["vendor_table"][0]["price"] is None


def test_database_down(make_settings, tmp_path):
    settings = make_settings(turso_database_url="http://127.0.0.1:9", providers_file=write_catalog(tmp_path),
                             db_connect_timeout_s=2)
    with Store.open(settings) as store:
        data = build_dashboard(settings, store, NOW - timedelta(0))
    error = data["database"]["error"]
    assert error
    # nothing the database holds reads as zero, never or none: each section says unknown
    for section in (data["fleet"], data["coverage"]["retail"], data["coverage"]["spot"], data["coverage"]["merge"],
                    data["failures"], data["prices"]):
        assert section["unknown"] is True and section["error"] == error
    assert data["fleet"]["pollers"] is None and data["prices"]["coins"] is None
    assert data["coverage"]["retail"]["enabled"] is None and data["coverage"]["retail"]["hourly"] is None
    assert data["failures"]["per_day"] is None and data["failures"]["chronic"] is None
    assert data["failures"]["missing_this_hour"] is None and data["coverage"]["merge"]["age_s"] is None
    states = {name: feed["state"] for name, feed in data["freshness"]["feeds"].items()}
    assert {state for name, state in states.items() if name != "publish"} == {"unknown"}, states  # publish: a file


def test_cache_keeps_settled_rows_and_reads_live_ones(fleet):
    """With the server's cache the answer equals a full read; afterwards a late row in a settled
    hour shows only once the cache is dropped (TTL), a row of the live hour at once."""
    settings, store = fleet
    clock = [0.0]
    cache = DashboardCache(ttl_s=3600, clock=lambda: clock[0])
    assert build_dashboard(settings, store, NOW, cache) == build_dashboard(settings, store, NOW)
    assert build_dashboard(settings, store, NOW, cache) == build_dashboard(settings, store, NOW)  # from the cache

    late = NOW.replace(hour=12, minute=15)  # a settled hour of today, a settled window of 8 h ago
    store.write([_price_row("age", "apmex", late, 2500.0), _price_row("ase", "jmbullion", NOW, 39.0)])
    cached = build_dashboard(settings, store, NOW, cache)
    hourly = {bar["hour"]: bar["covered"] for bar in cached["coverage"]["retail"]["hourly"]}
    assert hourly["2026-03-15T12"] == 0 and hourly["2026-03-15T20"] == 4  # the live hour is read again
    assert cached["prices"]["coins"]["age"]["daily"][-1]["low"] == 2500.0  # today is live
    assert "2026-03-15T12:15:00Z" not in [point["window_start"] for point in cached["prices"]["coins"]["age"]["windows"]]
    clock[0] = 3601
    refreshed = build_dashboard(settings, store, NOW, cache)
    assert refreshed == build_dashboard(settings, store, NOW)
    assert {bar["hour"]: bar["covered"] for bar in refreshed["coverage"]["retail"]["hourly"]}["2026-03-15T12"] == 1
    assert "2026-03-15T12:15:00Z" in [point["window_start"] for point in refreshed["prices"]["coins"]["age"]["windows"]]


def _price_row(coin, vendor, at, price):
    return PriceObservation(scraped_at=iso_z(at), window_start=window_start(at), coin_slug=coin, vendor=vendor,
                            price=price, source="http", confidence=85, poller_id="home", run_id=f"late-{coin}")
