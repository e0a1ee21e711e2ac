"""`staktrakr spot` through the CLI: exit codes, one-line errors and notes, --json, the key never printed."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from staktrakr.cli import app
from tests.cli_helpers import run_cli
from tests.fake_apis import API_KEY, FakeMetalPriceApi, Reply, error_body


@pytest.fixture
def env(make_settings, monkeypatch, tmp_path):
    make_settings()  # isolates the environment
    with FakeMetalPriceApi() as api:
        monkeypatch.setenv("METAL_PRICE_API_KEY", API_KEY)
        monkeypatch.setenv("METAL_PRICE_API_BASE_URL", api.base_url)
        monkeypatch.setenv("STAKTRAKR_VAR_DIR", str(tmp_path / "var"))
        monkeypatch.setenv("STAKTRAKR_LOG_FORMAT", "json")
        yield api


def test_spot_json_output(env):
    result = CliRunner().invoke(app, ["spot", "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["status"] == "stored" and payload["prices"]["gold"] == 5018.96
    assert API_KEY not in result.output


def test_spot_failure_is_one_line_and_exit_1(env):
    env.default_latest = Reply(body=error_body(101, "Invalid API Key."))
    result = CliRunner().invoke(app, ["spot"])
    assert result.exit_code == 1
    lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and "Invalid API Key" in lines[0] and "nothing stored" in lines[0]
    assert API_KEY not in result.output


def test_spot_note_is_one_line_in_cron_logs(tmp_path):
    with FakeMetalPriceApi() as api:
        result = run_cli(["spot"], env={"METAL_PRICE_API_KEY": API_KEY, "METAL_PRICE_API_BASE_URL": api.base_url,
                                        "TURSO_DATABASE_URL": "http://127.0.0.1:1"}, var_dir=tmp_path / "var")
    assert result.exit_code == 0, result.output
    notes = [line for line in result.stdout.splitlines() if line.startswith("database unreachable")]
    assert len(notes) == 1 and notes[0].rstrip().endswith(")"), result.stdout
    assert (tmp_path / "var" / "outbox.jsonl").exists()


def test_spot_without_key_is_exit_2(env, monkeypatch):
    monkeypatch.delenv("METAL_PRICE_API_KEY")
    result = CliRunner().invoke(app, ["spot"])
    assert result.exit_code == 2 and "METAL_PRICE_API_KEY is not set" in result.stderr


def test_backfill_options(env):
    result = CliRunner().invoke(app, ["spot", "--since", "2026-03-01"])
    assert result.exit_code == 2 and "only apply with --backfill" in result.stderr
    result = CliRunner().invoke(app, ["spot", "--backfill", "--since", "March 1"])
    assert result.exit_code == 2 and "expected a date YYYY-MM-DD" in result.stderr
    result = CliRunner().invoke(app, ["spot", "--backfill", "--since", "2026-03-01", "--until", "2026-03-02",
                                      "--dry-run", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["missing"] == {"2026-03-01": ["gold", "silver", "platinum", "palladium"],
                                                     "2026-03-02": ["gold", "silver", "platinum", "palladium"]}
