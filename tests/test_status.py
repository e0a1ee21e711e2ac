"""`staktrakr status`: runs per poller, this hour's coverage, chronic failures, freshness, outbox;
read-only; both timestamp shapes compared as times, not text."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest

from staktrakr.jobs.status import collect_status
from staktrakr.models import PollerRun, PriceObservation, ProviderFailure
from staktrakr.store import Store
from staktrakr.store.schema import MIGRATIONS
from staktrakr.timeutil import iso_z, window_start
from tests.cli_helpers import assert_one_line_error, not_a_dir, run_cli
from tests.conftest import REPO
from tests.ops_fixtures import now_utc, seed_feeds

CATALOG = {
    "coins": {
        "ase": {"name": "American Silver Eagle", "metal": "silver", "weight_oz": 1, "providers": [
            {"id": "apmex", "name": "APMEX", "url": "https://www.apmex.com/ase"},
            {"id": "sdbullion", "name": "SD Bullion", "url": "https://sdbullion.com/ase"},
            {"id": "jmbullion", "name": "JM Bullion", "enabled": False},
        ]},
        "age": {"name": "American Gold Eagle", "metal": "gold", "weight_oz": 1, "providers": [
            {"id": "apmex", "name": "APMEX", "url": "https://www.apmex.com/age"},
        ]},
    },
    "vendors": {"default": {}},
}


@pytest.fixture
def catalog_file(tmp_path):
    path = tmp_path / "providers.json"
    path.write_text(json.dumps(CATALOG), encoding="utf-8")
    return path


def _price(coin, vendor, at, failed=False, poller="api"):
    return PriceObservation(scraped_at=iso_z(at), window_start=window_start(at), coin_slug=coin, vendor=vendor,
                            price=None if failed else 40.0, source="http", is_failed=failed, poller_id=poller,
                            run_id=f"run-{at.isoformat()}")


def _failure(coin, vendor, at_text, error, run_id):
    return ProviderFailure(coin_slug=coin, vendor_id=vendor, url="https://x.test", error=error, failed_at=at_text,
                           run_id=run_id)


def _sqlite_time(moment):
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def test_status_report(any_db_url, store_for, make_settings, catalog_file, tmp_path):
    settings = make_settings(turso_database_url=any_db_url, providers_file=catalog_file,
                             api_export_dir=tmp_path / "export", poller_id="api")
    now = now_utc().replace(minute=40, second=0, microsecond=0)
    hour = now.replace(minute=0)
    store = store_for(any_db_url, providers_file=catalog_file)
    seed_feeds(store, tmp_path / "export", now)  # ase/apmex priced now
    runs = []
    for index in range(7):
        started = now - timedelta(minutes=15 * index)
        runs.append(PollerRun(run_id=f"api-scrape-{index}", poller_id="api", job="scrape", started_at=iso_z(started),
                              finished_at=iso_z(started + timedelta(seconds=60 + index)), status="ok", total=3,
                              captured=3 - index % 2, failures=index % 2))
    runs.append(PollerRun(run_id="home-spot-1", poller_id="home", job="spot", started_at=iso_z(now),
                          finished_at=iso_z(now + timedelta(seconds=2)), status="error", total=4, captured=0,
                          failures=4, error="MetalPriceAPI: HTTP 500"))
    store.write([
        *runs,
        _price("age", "apmex", hour, failed=True),                # a failure row is not coverage
        _price("ase", "sdbullion", hour - timedelta(minutes=1)),  # last hour: not this hour's coverage
        _price("ase", "jmbullion", hour),                         # disabled target: not counted
        # ase/sdbullion: 3 failures in 7 days, the oldest in SQLite's format on the boundary day
        _failure("ase", "sdbullion", _sqlite_time(now - timedelta(days=6, hours=23)), "timeout", "f1"),
        _failure("ase", "sdbullion", iso_z(now - timedelta(days=2)), "blocked 403", "f2"),
        _failure("ase", "sdbullion", _sqlite_time(now - timedelta(hours=3)), "no price found", "f3"),
        # age/apmex: 2 inside, 1 just outside 7 days (same date prefix as the cutoff): not chronic
        _failure("age", "apmex", _sqlite_time(now - timedelta(days=7, hours=1)), "old", "f4"),
        _failure("age", "apmex", iso_z(now - timedelta(days=1)), "timeout", "f5"),
        _failure("age", "apmex", iso_z(now - timedelta(hours=1)), "timeout", "f6"),
    ])

    report = collect_status(settings, store, now)

    assert report.database_error is None
    assert list(report.runs) == ["api", "home"]
    assert [run.started_at for run in report.runs["api"]] == [iso_z(now - timedelta(minutes=15 * i)) for i in range(5)]
    assert report.runs["api"][1].captured == 2 and report.runs["api"][1].total == 3
    assert report.runs["api"][1].duration_s == 61
    assert report.runs["home"][0].status == "error" and report.runs["home"][0].error == "MetalPriceAPI: HTTP 500"

    assert report.coverage is not None
    assert (report.coverage.covered, report.coverage.enabled) == (1, 3)
    assert sorted(report.coverage.missing) == ["age/apmex", "ase/sdbullion"]
    assert report.coverage.hour_start == hour.strftime("%Y-%m-%dT%H:00:00Z")

    assert [(c.coin_slug, c.vendor_id, c.failures) for c in report.chronic] == [("ase", "sdbullion", 3)]
    assert report.chronic[0].last_error == "no price found"

    assert {feed.feed: feed.stale for feed in report.freshness.feeds} == {
        "retail": False, "spot": False, "goldback": False, "publish": False}
    data = report.as_dict()
    json.dumps(data)  # JSON-able as --json prints it
    assert data["coverage"]["percent"] == pytest.approx(33.3)


def test_status_is_read_only(make_settings, catalog_file, tmp_path):
    """No schema, no outbox replay: the queued entry is still there and reported."""
    settings = make_settings(providers_file=catalog_file)
    with Store.open(settings) as store:
        store.outbox.append([{"kind": "poller_runs", "rows": []}], reason="test")
        report = collect_status(settings, store)
        tables = store.db.query("SELECT name FROM sqlite_master WHERE type = 'table'")
    assert tables == []
    assert report.outbox["entries"] == 1
    assert report.runs == {} and report.chronic == []
    assert report.coverage is not None and report.coverage.covered == 0 and report.coverage.enabled == 3
    with Store.open(settings) as store:
        assert store.outbox.size()[0] == 1


def test_status_cli_json_and_text(make_settings, catalog_file, tmp_path):
    var_dir = tmp_path / "var"
    settings = make_settings(providers_file=catalog_file)
    with Store.open(settings) as store:
        seed_feeds(store, tmp_path / "export", now_utc())
    env = {"PROVIDERS_FILE": str(catalog_file), "API_EXPORT_DIR": str(tmp_path / "export"), "POLLER_ID": "api"}
    result = run_cli(["status", "--json"], env=env, var_dir=var_dir)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["freshness"]["status"] == "ok"
    assert data["poller_id"] == "api"
    assert data["outbox"]["entries"] == 0

    text = run_cli(["status"], env=env, var_dir=var_dir)
    assert text.exit_code == 0
    assert "coverage this hour" in text.stdout
    assert "freshness" in text.stdout


def test_status_cli_database_down_exits_1(tmp_path, catalog_file):
    env = {"PROVIDERS_FILE": str(catalog_file), "TURSO_DATABASE_URL": "http://127.0.0.1:9"}
    result = run_cli(["status", "--json"], env=env, var_dir=tmp_path / "var")
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["database_error"]
    assert data["freshness"]["database"]["reachable"] is False


def test_status_with_unwritable_var_dir_reports_the_database(tmp_path):
    var_dir = not_a_dir(tmp_path)
    result = run_cli(["status", "--json"], env={"PROVIDERS_FILE": str(REPO / "providers.json")}, var_dir=var_dir)
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["database_error"] and str(var_dir) in report["database_error"]
    assert_one_line_error(result, "database")


def test_status_exit_3_when_a_feed_is_stale_and_check_lists_it(make_settings, catalog_file, tmp_path):
    var_dir = tmp_path / "var"
    settings = make_settings(providers_file=catalog_file)
    with Store.open(settings) as store:
        seed_feeds(store, tmp_path / "export", now_utc(), spot_age=timedelta(hours=3))
    env = {"PROVIDERS_FILE": str(catalog_file), "API_EXPORT_DIR": str(tmp_path / "export"), "POLLER_ID": "api"}
    text = run_cli(["status"], env=env, var_dir=var_dir)
    assert text.exit_code == 3, text.output
    assert re.search(r"3\.\d h ago", text.stdout) and "stale" in text.stdout and "error:" not in text.stderr
    check = run_cli(["status", "--check"], env=env, var_dir=var_dir)
    assert check.exit_code == 3
    assert check.stdout.splitlines() == [line for line in check.stdout.splitlines() if line.startswith("feed spot")]
    assert "feed spot: stale" in check.stdout and "limit 75 min" in check.stdout
    assert run_cli(["status", "--json"], env=env, var_dir=var_dir).exit_code == 3


def test_status_check_ok_exits_0(make_settings, catalog_file, tmp_path):
    settings = make_settings(providers_file=catalog_file)
    with Store.open(settings) as store:
        seed_feeds(store, tmp_path / "export", now_utc())
    env = {"PROVIDERS_FILE": str(catalog_file), "API_EXPORT_DIR": str(tmp_path / "export")}
    check = run_cli(["status", "--check"], env=env, var_dir=tmp_path / "var")
    assert check.exit_code == 0, check.output
    assert check.stdout.startswith("ok: database reachable, 4 feeds fresh")


def test_status_database_down_says_unknown_and_prints_the_error_once(tmp_path, catalog_file):
    env = {"PROVIDERS_FILE": str(catalog_file), "TURSO_DATABASE_URL": "http://127.0.0.1:9"}
    result = run_cli(["status"], env=env, var_dir=tmp_path / "var")
    assert result.exit_code == 1
    assert_one_line_error(result, "error: database http://127.0.0.1:9: unreachable: ")
    assert "127.0.0.1:9" not in result.stdout.replace("database: http://127.0.0.1:9", "")  # the reason only on stderr
    assert result.stderr.count("http://127.0.0.1:9") == 1 and "ssl:default" not in result.stderr
    rows = {line.split()[0]: line for line in result.stdout.splitlines() if line.strip().startswith(
        ("retail", "spot", "goldback"))}
    assert set(rows) == {"retail", "spot", "goldback"} and all("unknown" in line for line in rows.values())
    assert "None" not in result.stdout and "False" not in result.stdout  # publish (a file) may say never
    check = run_cli(["status", "--check"], env=env, var_dir=tmp_path / "var")
    assert check.exit_code == 1 and "database http://127.0.0.1:9: unreachable: " in check.stdout
    assert check.stdout.count("http://127.0.0.1:9") == 1 and "ssl:default" not in check.stdout
    assert "feed spot: unknown" in check.stdout


def test_db_status_exit_codes_and_words(tmp_path):
    down = run_cli(["db", "status"], env={"TURSO_DATABASE_URL": "http://127.0.0.1:9"}, var_dir=tmp_path / "var")
    assert down.exit_code == 1
    assert_one_line_error(down, "error: database http://127.0.0.1:9: unreachable: ")
    assert down.stderr.count("http://127.0.0.1:9") == 1 and "ssl:default" not in down.stderr
    assert "(unreachable)" in down.stdout and "schema version: unknown" in down.stdout
    for word in ("None", "False", "True"):
        assert word not in down.stdout
    assert json.loads(run_cli(["db", "status", "--json"], env={"TURSO_DATABASE_URL": "http://127.0.0.1:9"},
                              var_dir=tmp_path / "var").stdout)["reachable"] is False
    up = run_cli(["db", "status"], var_dir=tmp_path / "var")
    assert up.exit_code == 0, up.output
    assert "(reachable)" in up.stdout and "schema version: none" in up.stdout and "None" not in up.stdout
    run_cli(["db", "migrate"], var_dir=tmp_path / "var")
    migrated = run_cli(["db", "status"], var_dir=tmp_path / "var")
    latest = max(migration.version for migration in MIGRATIONS)
    assert migrated.exit_code == 0 and "newest window: none" in migrated.stdout
    assert f"schema version: {latest}" in migrated.stdout
