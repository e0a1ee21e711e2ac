"""STAKTRAKR_CATALOG_SOURCE: scrape, retry, publish, status and `providers list` all read the
catalog it picks, through one loader, and a database catalog takes the file's vendor defaults."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from staktrakr.catalog.load import load_run_catalog
from staktrakr.jobs.publish import PublishOptions, run_publish
from staktrakr.jobs.status import collect_status
from staktrakr.models import PriceObservation
from staktrakr.store import Store
from tests.cli_helpers import run_cli
from tests.conftest import free_port

WINDOW = "2026-03-15T20:00:00Z"
DEAD = f"https://127.0.0.1:{free_port()}"  # nothing listens: every fetch fails at once


def _write(path: Path, data: dict) -> Path:
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


@pytest.fixture
def sources(tmp_path: Path) -> dict[str, str]:
    """The tables hold ase (apmex with its own wait, sdbullion); the file now holds only age, and
    its vendors.default says http only. Returns the environment of a `db`-source run."""
    tables_catalog = _write(tmp_path / "tables.json", {
        "coins": {"ase": {"name": "American Silver Eagle", "metal": "silver", "weight_oz": 1, "providers": [
            {"id": "apmex", "name": "APMEX", "url": f"{DEAD}/apmex/ase"},
            {"id": "sdbullion", "name": "SD Bullion", "url": f"{DEAD}/sdbullion/ase"},
        ]}},
        "vendors": {"default": {}, "apmex": {"wait_ms": 500}},
    })
    file_catalog = _write(tmp_path / "providers.json", {
        "coins": {"age": {"name": "American Gold Eagle", "metal": "gold", "weight_oz": 1, "providers": [
            {"id": "apmex", "name": "APMEX", "url": f"{DEAD}/apmex/age"},
        ]}},
        "vendors": {"default": {"fetchers": ["http"], "timeout_s": 5}},
    })
    env = {"TURSO_DATABASE_URL": f"file:{tmp_path / 'db' / 'staktrakr.db'}", "POLLER_ID": "api",
           "SCRAPE_GAP_MIN_S": "0", "SCRAPE_GAP_MAX_S": "0", "SCRAPE_ATTEMPTS": "1",
           "API_EXPORT_DIR": str(tmp_path / "export")}
    synced = run_cli(["providers", "sync", "--to-db", "--json"], env={**env, "PROVIDERS_FILE": str(tables_catalog)},
                     var_dir=tmp_path / "var")
    assert synced.exit_code == 0, synced.output
    return {**env, "PROVIDERS_FILE": str(file_catalog), "STAKTRAKR_CATALOG_SOURCE": "db"}


def _settings(make_settings, env: dict[str, str]):
    return make_settings(turso_database_url=env["TURSO_DATABASE_URL"], providers_file=Path(env["PROVIDERS_FILE"]),
                         poller_id="api", api_export_dir=Path(env["API_EXPORT_DIR"]),
                         catalog_source=env.get("STAKTRAKR_CATALOG_SOURCE", "file"))


def test_a_database_catalog_takes_the_files_vendor_defaults(sources, make_settings):
    with Store.open(_settings(make_settings, sources)) as store:
        catalog = load_run_catalog(_settings(make_settings, sources), store)
    assert set(catalog.coins) == {"ase"}
    assert catalog.source.startswith("database ")
    assert catalog.rules_for("sdbullion").fetchers == ["http"] and catalog.rules_for("sdbullion").timeout_s == 5
    assert catalog.rules_for("apmex").fetchers == ["http"] and catalog.rules_for("apmex").wait_ms == 500


def test_providers_list_reads_the_configured_source(sources, tmp_path):
    from_tables = run_cli(["providers", "list", "--json"], env=sources, var_dir=tmp_path / "var")
    assert from_tables.exit_code == 0, from_tables.output
    assert [(row["coin"], row["vendor"], row["fetchers"]) for row in json.loads(from_tables.stdout)] == [
        ("ase", "apmex", ["http"]), ("ase", "sdbullion", ["http"])]
    from_file = run_cli(["providers", "list", "--json"], env={**sources, "STAKTRAKR_CATALOG_SOURCE": "file"},
                        var_dir=tmp_path / "var")
    assert [(row["coin"], row["vendor"]) for row in json.loads(from_file.stdout)] == [("age", "apmex")]


def test_scrape_and_retry_take_their_targets_from_the_tables(sources, make_settings, tmp_path):
    scraped = run_cli(["scrape", "--dry-run", "--json"], env=sources, var_dir=tmp_path / "var")
    assert scraped.exit_code == 1, scraped.output  # every target failed: nothing listens there
    outcomes = json.loads(scraped.stdout)["targets"]
    assert sorted((o["coin_slug"], o["vendor_id"]) for o in outcomes) == [("ase", "apmex"), ("ase", "sdbullion")]

    with Store.open(_settings(make_settings, sources)) as store:
        store.migrate()
        store.write([PriceObservation(scraped_at="2026-03-15T20:01:00.000Z", window_start=WINDOW, coin_slug="ase",
                                      vendor="sdbullion", price=None, source="http", is_failed=True, poller_id="api",
                                      run_id="api-scrape-1")])
    retried = run_cli(["retry", "--window", WINDOW, "--dry-run", "--json"], env=sources, var_dir=tmp_path / "var")
    report = json.loads(retried.stdout)
    assert report["failed_found"] == ["ase/sdbullion"] and report["not_in_catalog"] == []
    assert [(o["coin_slug"], o["vendor_id"]) for o in report["retried"]["targets"]] == [("ase", "sdbullion")]
    from_file = run_cli(["retry", "--window", WINDOW, "--dry-run", "--json"],
                        env={**sources, "STAKTRAKR_CATALOG_SOURCE": "file"}, var_dir=tmp_path / "var")
    assert json.loads(from_file.stdout)["not_in_catalog"] == ["ase/sdbullion"]


def test_publish_and_status_use_the_tables(sources, make_settings):
    settings = _settings(make_settings, sources)
    with Store.open(settings) as store:
        store.migrate()
        store.write([PriceObservation(scraped_at="2026-03-15T20:01:00.000Z", window_start=WINDOW, coin_slug="ase",
                                      vendor="apmex", price=90.5, source="http", poller_id="api", run_id="api-scrape-1")])
        run_publish(settings, store, PublishOptions(push=False))
        report = collect_status(settings, store)
    providers = json.loads((settings.export_dir / "data/api/providers.json").read_text())
    assert providers == {"ase": {"apmex": f"{DEAD}/apmex/ase", "sdbullion": f"{DEAD}/sdbullion/ase"}}
    assert report.coverage is not None and report.coverage.enabled == 2
