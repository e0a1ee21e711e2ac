"""Second round of attacks on configuration, secrets and accounting: env lines no reader can
parse, secrets echoed back encoded, catalog tables that are not valid, runs refused at the
start that left no row, and messages that said the wrong thing. Real processes, real sqld."""

from __future__ import annotations

import json
import subprocess
from urllib.parse import quote, quote_plus

import pytest
from fake_apis import Reply, ScriptedServer
from filelock import FileLock

from staktrakr.errors import JobInterrupted
from staktrakr.jobs.harness import RunReport, conclude
from staktrakr.settings import load_settings
from staktrakr.store import Store
from tests.conftest import free_port
from tests.faults import REPO, job_env, run_job

RUNNER = REPO / "bin" / "staktrakr-cron"
DEAD = f"https://127.0.0.1:{free_port()}"   # nothing listens: every fetch fails at once


def query(env: dict[str, str], sql: str, args=()) -> list[dict]:
    settings = load_settings(turso_database_url=env["TURSO_DATABASE_URL"], STAKTRAKR_VAR_DIR=env["STAKTRAKR_VAR_DIR"])
    with Store.open(settings) as store:
        return store.db.query(sql, list(args))


def one_line_error(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.startswith("error: ")]
    assert len(lines) == 1 and "Traceback" not in stderr, stderr
    return lines[0]


# --- env lines no reader can parse -----------------------------------------------------------------

@pytest.mark.parametrize("line, expected", [
    ('TURSO_DATABASE_URL="http://127.0.0.1:1\n', "line 2: not a KEY=value assignment"),
    ("=abc\n", "line 2: not a KEY=value assignment"),
    ("TURSO_DATABASE_URL\n", "line 2: no '=' on the line"),
])
def test_an_env_line_no_reader_can_parse_is_refused(line, expected, tmp_path):
    """python-dotenv dropped such a line with a warning that was not JSON, and through the cron
    runner the job went on without it (all data to the local var/staktrakr.db, exit 0)."""
    env_file = tmp_path / "env"
    env_file.write_text("POLLER_ID=home\n" + line + "SERVE_PORT=8080\n", encoding="utf-8")
    env_file.chmod(0o600)
    env = {**job_env(tmp_path / "var", "", REPO / "providers.json"), "STAKTRAKR_ENV_FILE": str(env_file)}
    del env["TURSO_DATABASE_URL"]
    direct = run_job(env, "status")
    assert direct.returncode == 2
    assert expected in one_line_error(direct.stderr) and str(env_file) in direct.stderr
    assert "could not parse" not in direct.stderr
    cron = subprocess.run([str(RUNNER), "status"], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert cron.returncode == 2 and expected in cron.stderr and "could not parse" not in cron.stderr
    assert not (tmp_path / "var" / "staktrakr.db").exists()


def test_the_export_prefix_error_names_its_own_fix(tmp_path):
    env_file = tmp_path / "env"
    env_file.write_text("export POLLER_ID=home\n", encoding="utf-8")
    env_file.chmod(0o600)
    env = {**job_env(tmp_path / "var", "file:" + str(tmp_path / "db"), REPO / "providers.json"),
           "STAKTRAKR_ENV_FILE": str(env_file)}
    done = run_job(env, "status")
    line = one_line_error(done.stderr)
    assert done.returncode == 2 and "remove the 'export ' prefix" in line and "comments" not in line


# --- secrets echoed back encoded -------------------------------------------------------------------

KEY = 'k3y+SECRET/abc=="q'


@pytest.mark.parametrize("echo", ["url-encoded", "url-encoded-lower", "plus-encoded", "json-escaped"])
def test_an_encoded_echo_of_the_api_key_is_redacted(echo, libsql_server, tmp_path):
    body = {"url-encoded": f'{{"success": false, "error": {{"statusCode": 101, "info": "bad key {quote(KEY, safe="")}"}}}}',
            "url-encoded-lower": '{"success": false, "error": {"statusCode": 101, "info": "bad key '
                                 + quote(KEY, safe="").replace("%2B", "%2b").replace("%2F", "%2f") + '"}}',
            "plus-encoded": f'{{"success": false, "error": {{"statusCode": 101, "info": "bad key {quote_plus(KEY)}"}}}}',
            "json-escaped": "[" + json.dumps(f"bad key {KEY}") + "]"}[echo]
    server = ScriptedServer(lambda path, query, headers: Reply(status=400, body=body)).start()
    try:
        env = job_env(tmp_path / "var", libsql_server.url, REPO / "providers.json", METAL_PRICE_API_KEY=KEY,
                      METAL_PRICE_API_BASE_URL=server.url + "/v1")
        done = run_job(env, "spot", "--json")
    finally:
        server.stop()
    assert done.returncode == 1, done.stderr
    stored = query(env, "SELECT error FROM poller_runs WHERE job = 'spot'")[0]["error"]
    assert "bad key ***" in stored
    for text in (done.stdout, done.stderr, stored):
        assert "SECRET" not in text and "abc" not in text, text


# --- catalog tables that are not valid -------------------------------------------------------------

@pytest.fixture
def db_catalog(libsql_server, tmp_path):
    catalog = tmp_path / "providers.json"
    catalog.write_text(json.dumps({
        "coins": {"ase": {"name": "American Silver Eagle", "metal": "silver", "weight_oz": 1, "providers": [
            {"id": "apmex", "name": "APMEX", "url": f"{DEAD}/apmex/ase"}]}},
        "vendors": {"default": {"fetchers": ["http"], "timeout_s": 5}, "apmex": {"wait_ms": 500}}}), encoding="utf-8")
    env = job_env(tmp_path / "var", libsql_server.url, catalog, STAKTRAKR_CATALOG_SOURCE="db", SCRAPE_ATTEMPTS="1",
                  API_EXPORT_DIR=str(tmp_path / "export"))
    assert run_job(env, "providers", "sync", "--to-db").returncode == 0
    return env


@pytest.mark.parametrize("hints, problem", [("{not json", "not JSON"), ("[1,2]", "expected a JSON object")])
def test_catalog_tables_that_are_not_valid_are_one_line_and_the_run_is_recorded(hints, problem, db_catalog):
    settings = load_settings(turso_database_url=db_catalog["TURSO_DATABASE_URL"],
                             STAKTRAKR_VAR_DIR=db_catalog["STAKTRAKR_VAR_DIR"])
    with Store.open(settings) as store:
        store.db.execute("UPDATE provider_vendors SET hints = ?", [hints])
    scrape = run_job(db_catalog, "scrape")
    assert scrape.returncode == 2
    line = one_line_error(scrape.stderr)
    assert "provider_vendors (ase, apmex).hints" in line and problem in line
    runs = query(db_catalog, "SELECT job, status, error FROM poller_runs")
    assert len(runs) == 1 and runs[0]["job"] == "scrape" and runs[0]["status"] == "error"
    assert problem in runs[0]["error"]
    publish = run_job(db_catalog, "publish", "--dry-run")
    assert publish.returncode == 2 and problem in one_line_error(publish.stderr)


def test_a_database_catalog_with_the_database_down_falls_back_to_the_file(db_catalog, libsql_server):
    libsql_server.stop()
    scrape = run_job(db_catalog, "scrape", "--json")
    assert scrape.returncode == 1, scrape.stderr          # every target failed (nothing listens), rows queued
    assert "Traceback" not in scrape.stderr
    assert "the database catalog cannot be read" in scrape.stderr and "using" in scrape.stderr
    result = json.loads(scrape.stdout)
    assert result["total"] == 1 and result["queued_rows"] >= 1


# --- runs refused at the start still get their row -------------------------------------------------

def test_a_run_that_finds_its_lock_held_is_recorded(libsql_server, tmp_path):
    env = job_env(tmp_path / "var", libsql_server.url, REPO / "providers.json", METAL_PRICE_API_KEY="k" * 8)
    lock_dir = tmp_path / "var" / "locks"
    lock_dir.mkdir(parents=True)
    held = FileLock(str(lock_dir / "spot.lock"))
    with held:
        done = run_job(env, "spot")
    assert done.returncode == 1
    assert "another spot is running on this host" in one_line_error(done.stderr)
    runs = query(env, "SELECT job, status, error FROM poller_runs")
    assert len(runs) == 1 and runs[0]["status"] == "error" and "another spot is running" in runs[0]["error"]


def test_a_run_whose_var_dir_is_unusable_is_recorded(libsql_server, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    env = job_env(blocker / "var", libsql_server.url, REPO / "providers.json", METAL_PRICE_API_KEY="k" * 8)
    done = run_job(env, "spot")
    assert done.returncode == 1
    assert f"cannot take the lock {blocker}/var/locks/spot.lock" in one_line_error(done.stderr)
    runs = query({**env, "STAKTRAKR_VAR_DIR": str(tmp_path / "elsewhere")}, "SELECT status, error FROM poller_runs")
    assert len(runs) == 1 and runs[0]["status"] == "error" and "STAKTRAKR_VAR_DIR" in runs[0]["error"]


# --- messages --------------------------------------------------------------------------------------

def test_an_interrupted_job_that_stores_no_rows_says_what_it_did():
    """A merge stopped after its push said "1/1 captured, 0 rows stored"."""
    report = RunReport(job="merge", run_id="api-merge-1", poller_id="api", started_at="2026-03-15T20:00:00.000Z",
                       status="interrupted", total=1, captured=1, signal="SIGTERM",
                       summary="commit 0123456789ab pushed to main")
    with pytest.raises(JobInterrupted) as raised:
        conclude(report)
    assert str(raised.value) == ("merge: interrupted by SIGTERM: commit 0123456789ab pushed to main "
                                 "(run api-merge-1)")


def test_an_interrupted_scrape_summary_counts_against_the_planned_targets(tmp_path):
    from staktrakr.cli.scrape import summary_line
    from staktrakr.jobs.scrape import ScrapeResult
    from staktrakr.jobs.scrape_target import TargetOutcome

    outcome = TargetOutcome(coin_slug="ase", vendor_id="apmex", vendor_name="APMEX", url="https://x.test/a",
                             scraped_at="2026-03-15T20:00:05.000Z", price=31.5)
    result = ScrapeResult(job="scrape", run_id="r", poller_id="api", window_start="2026-03-15T20:00:00Z",
                          started_at="2026-03-15T20:00:00.000Z", planned=24, outcomes=[outcome] * 8, signal="SIGTERM")
    line = summary_line(result)
    assert "/24 (8 finished, stopped by SIGTERM)" in line and "/8 " not in line
