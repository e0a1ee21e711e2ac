"""Operator-experience review: failure modes an operator can fix give one line and an exit code,
and secrets echoed back by a provider never reach output or the database."""

from __future__ import annotations

import asyncio
import json
import subprocess
from pathlib import Path

from staktrakr.fetch.firecrawl import FirecrawlFetcher
from tests.cli_helpers import run_cli
from tests.scrape_fixtures import farm, farm_settings  # noqa: F401 (fixtures)

REPO = Path(__file__).resolve().parent.parent
RUNNER = REPO / "bin" / "staktrakr-cron"
DEALER = "https://www.apmex.example/product/ase"


def not_a_dir(tmp_path: Path) -> Path:
    """A var dir path that cannot be created (its parent is a regular file)."""
    blocker = tmp_path / "blocker"
    blocker.write_text("a file, not a directory\n", encoding="utf-8")
    return blocker / "var"


def assert_one_line_error(result, *needles: str) -> None:
    stderr = result.stderr
    assert "Traceback" not in stderr and "Traceback" not in result.stdout
    error_lines = [line for line in stderr.splitlines() if line.startswith("error: ")]
    assert len(error_lines) == 1, stderr
    for needle in needles:
        assert needle in error_lines[0], error_lines[0]


def test_firecrawl_error_echoing_the_key_is_redacted(farm, farm_settings):
    farm.firecrawl().forced_answer = (200, {"success": False, "error": "Invalid token: Bearer fc-test-key"})
    fetcher = FirecrawlFetcher(farm_settings())

    async def go():
        try:
            return await fetcher.fetch(DEALER)
        finally:
            await fetcher.aclose()

    result = asyncio.run(go())
    assert not result.ok and "Invalid token" in result.detail
    assert "fc-test-key" not in result.model_dump_json()


def test_unwritable_var_dir_is_one_line(tmp_path):
    var_dir = not_a_dir(tmp_path)
    env = {"PROVIDERS_FILE": str(REPO / "providers.json")}
    for args in (["db", "migrate"], ["db", "flush"], ["publish", "--no-push"]):
        result = run_cli(args, env=env, var_dir=var_dir)
        assert result.exit_code == 1, (args, result.stdout, result.stderr)
        assert_one_line_error(result, str(var_dir))


def test_status_with_unwritable_var_dir_reports_the_database(tmp_path):
    var_dir = not_a_dir(tmp_path)
    result = run_cli(["status", "--json"], env={"PROVIDERS_FILE": str(REPO / "providers.json")}, var_dir=var_dir)
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["database_error"] and str(var_dir) in report["database_error"]
    assert_one_line_error(result, "database")


def test_unwritable_export_dir_is_one_line(tmp_path):
    export_dir = not_a_dir(tmp_path)
    result = run_cli(["publish", "--no-push"], env={"PROVIDERS_FILE": str(REPO / "providers.json"),
                                                   "API_EXPORT_DIR": str(export_dir)}, var_dir=tmp_path / "var")
    assert result.exit_code == 1, result.stderr
    assert_one_line_error(result, str(export_dir))


def test_retry_refuses_a_window_that_is_not_a_date(tmp_path):
    env = {"PROVIDERS_FILE": str(REPO / "providers.json")}
    for window in ("2026-13-45T00:00:00Z", "2026-02-30T10:00:00Z", "2026-03-15T25:00:00Z"):
        result = run_cli(["retry", "--window", window, "--dry-run"], env=env, var_dir=tmp_path / "var")
        assert result.exit_code == 2, (window, result.stdout)
        assert_one_line_error(result, "--window")


def test_cron_runner_with_unwritable_var_dir_logs_its_json_line(tmp_path):
    var_dir = not_a_dir(tmp_path)
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "STAKTRAKR_VAR_DIR": str(var_dir),
           "STAKTRAKR_ENV_FILE": str(tmp_path / "absent.env"), "STAKTRAKR_LOG_FORMAT": "json",
           "PROVIDERS_FILE": str(REPO / "providers.json")}
    (tmp_path / "absent.env").write_text("POLLER_ID=home\n", encoding="utf-8")
    (tmp_path / "absent.env").chmod(0o600)
    done = subprocess.run([str(RUNNER), "status"], env=env, capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert str(var_dir) in done.stderr
    record = json.loads(done.stdout.strip().splitlines()[-1])
    assert (record["event"], record["job"], record["status"], record["exit_code"]) == ("cron", "status", "config_error", 2)


def test_outbox_batch_after_a_torn_append_is_kept(tmp_path):
    from staktrakr.store.outbox import Outbox

    outbox = Outbox(tmp_path / "outbox.jsonl")
    outbox.append([{"kind": "spot", "rows": [{"metal": "gold"}]}], "down")
    with open(outbox.path, "a", encoding="utf-8") as handle:   # a crash mid-append leaves half a line
        handle.write('{"id":"torn","ops":[{"kind":"spot","ro')
    outbox.append([{"kind": "spot", "rows": [{"metal": "silver"}]}], "down")
    kept = [entry.ops[0]["rows"][0]["metal"] for entry in outbox.entries()]
    assert kept == ["gold", "silver"]


def test_spot_note_is_one_line_in_cron_logs(tmp_path):
    from fake_apis import API_KEY, FakeMetalPriceApi

    with FakeMetalPriceApi() as api:
        result = run_cli(["spot"], env={"METAL_PRICE_API_KEY": API_KEY, "METAL_PRICE_API_BASE_URL": api.base_url,
                                        "TURSO_DATABASE_URL": "http://127.0.0.1:1"}, var_dir=tmp_path / "var")
    assert result.exit_code == 0, result.output
    notes = [line for line in result.stdout.splitlines() if line.startswith("database unreachable")]
    assert len(notes) == 1 and notes[0].rstrip().endswith(")"), result.stdout
    assert (tmp_path / "var" / "outbox.jsonl").exists()


def test_json_commands_print_one_json_document_on_failure_too(tmp_path):
    """A pipe reading `--json` always gets exactly one JSON document: the result, or the error."""
    import json as _json

    from tests.cli_helpers import run_cli

    broken = tmp_path / "providers.json"
    broken.write_text("{")
    failed = run_cli(["providers", "validate", "--json"], env={"PROVIDERS_FILE": str(broken)}, var_dir=tmp_path)
    assert failed.exit_code == 2
    document = _json.loads(failed.stdout)
    assert document["exit_code"] == 2 and document["error"].startswith(f"{broken}: line 1 column 2: invalid JSON")

    down = run_cli(["status", "--json"], env={"TURSO_DATABASE_URL": "http://127.0.0.1:1"}, var_dir=tmp_path)
    assert down.exit_code == 1
    report = _json.loads(down.stdout)  # the report itself, not a second error object
    assert isinstance(report, dict) and "exit_code" not in report
