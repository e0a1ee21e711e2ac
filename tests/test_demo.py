"""`staktrakr demo`: bundled sample pages served on 127.0.0.1, the real scrape job, the embedded database."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from staktrakr.errors import ConfigError, JobFailed
from staktrakr.jobs.demo import demo_database_url, run_demo
from staktrakr.jobs.publish import PublishOptions, run_publish
from staktrakr.store import Store
from tests.cli_helpers import run_cli

EXPECTED = {
    ("age", "apmex"): (3098.50, True), ("age", "gainesvillecoins"): (3112.40, True),
    ("ase", "apmex"): (77.85, True), ("ase", "jmbullion"): (82.15, True), ("ase", "sdbullion"): (76.25, True),
    ("ase", "summitmetals"): (77.40, True), ("ase", "monumentmetals"): (77.80, True),
    ("ase", "herobullion"): (81.20, True), ("maple-silver", "providentmetals"): (80.55, False),
}


def test_demo_runs_the_real_job_into_its_own_database(make_settings):
    settings = make_settings()
    result = run_demo(settings)
    assert not (settings.var_dir / "staktrakr.db").exists()  # the real embedded database stays untouched
    settings = settings.model_copy(update={"turso_database_url": demo_database_url(settings)})
    assert settings.database_url.endswith("/demo.db")
    got = {(o.coin_slug, o.vendor_id): (o.price, o.in_stock) for o in result.outcomes if o.ok}
    assert got == EXPECTED
    [failed] = [o for o in result.outcomes if not o.ok]
    assert (failed.coin_slug, failed.vendor_id) == ("age", "bullionexchanges")
    assert failed.reason.startswith("wrong_product: page title names 1/10 oz")
    with Store.open(settings) as store:
        stored = store.db.query("SELECT coin_slug, vendor, price, poller_id FROM price_snapshots WHERE is_failed = 0")
        runs = store.db.query("SELECT status, captured, total FROM poller_runs")
    assert {(r["coin_slug"], r["vendor"]): r["price"] for r in stored} == {k: v[0] for k, v in EXPECTED.items()}
    assert {r["poller_id"] for r in stored} == {"demo"}
    assert runs == [{"status": "ok", "captured": 9, "total": 10}]


def test_demo_refuses_a_shared_database(make_settings):
    with pytest.raises(ConfigError, match="TURSO_DATABASE_URL points at a shared database"):
        run_demo(make_settings(turso_database_url="https://db.example.turso.io"))


def test_demo_command_json(tmp_path):
    result = run_cli(["demo", "--json"], var_dir=tmp_path / "var")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert (report["captured"], report["total"], report["status"]) == (9, 10, "ok")
    assert report["stored_rows"] == 10 + 1


def test_demo_command_prints_the_table_from_a_fresh_directory(tmp_path):
    """As a newcomer runs it: `staktrakr demo` in an empty directory, no network settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TURSO", "FIRECRAWL", "HOME_PROXY", "STAKTRAKR"))}
    env["STAKTRAKR_ENV_FILE"] = "/nonexistent/.env"
    done = subprocess.run([sys.executable, "-m", "staktrakr", "demo"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "captured 9/10" in done.stdout
    assert "wrong_product" in done.stdout and "$3,098.50" in done.stdout
    assert (tmp_path / "var" / "demo.db").exists() and not (tmp_path / "var" / "staktrakr.db").exists()
    assert "(10 price snapshots (9 priced), 1 failure record stored)" in done.stdout and "True" not in done.stdout and "None" not in done.stdout


def test_demo_told_where_to_write_and_publish_refuses_its_rows(make_settings, tmp_path):
    """TURSO_DATABASE_URL=file:... is the operator's choice; publish then refuses the sample rows
    (poller `demo`) instead of putting them into a real tree, dry run included."""
    settings = make_settings(turso_database_url=f"file:{tmp_path}/shared.db", api_export_dir=tmp_path / "export",
                             poller_id="home")
    assert run_demo(settings).captured == 9
    for dry_run in (True, False):
        with Store.open(settings) as store, pytest.raises(JobFailed, match="sample rows of `staktrakr demo`"):
            run_publish(settings, store, PublishOptions(dry_run=dry_run))
    assert not (tmp_path / "export" / "data").exists()
    with Store.open(settings) as store:
        store.db.execute("DELETE FROM price_snapshots WHERE poller_id = 'demo'")
        assert not run_publish(settings, store, PublishOptions(dry_run=True)).failed  # refused no more
