"""Bad configuration of every kind: one line on stderr naming what and where, exit 2, never a
traceback (a real `python -P -m staktrakr` process, and the cron runner for its own settings)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO, RUNNER
from tests.ops_fixtures import env_file


def base_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "STAKTRAKR_VAR_DIR": str(tmp_path / "var"),
           "STAKTRAKR_ENV_FILE": str(tmp_path / "absent.env"), "PROVIDERS_FILE": str(REPO / "providers.json"),
           "STAKTRAKR_LOG_FORMAT": "json"}
    env.update(extra)
    return env


def staktrakr(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-P", "-m", "staktrakr", *args], env=env, cwd=env["HOME"],
                          capture_output=True, text=True, timeout=60)


def assert_one_line_exit_2(result: subprocess.CompletedProcess, *needles: str) -> str:
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr + result.stdout
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, lines
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    return lines[0]


CASES = {
    "env file not UTF-8": ({"env_file": b"POLLER_ID=home\nOPS_TRIGGER_TOKEN=caf\xe9\n"},
                           ["staktrakr.env: line 2: not UTF-8 text (byte 0xe9)"]),
    "env file is a directory": ({"env_dir": True}, ["is a directory; point STAKTRAKR_ENV_FILE at a file"]),
    "inline comment in the env file": ({"env_file": b"OPS_TRIGGER_TOKEN=abc   # from .env.example\n"},
                                       ["line 1: OPS_TRIGGER_TOKEN: inline comment",
                                        "put comments on their own line"]),
    "export prefix in the env file": ({"env_file": b"export POLLER_ID=home\n"}, ["line 1: POLLER_ID: 'export' prefix"]),
    "malformed database URL": ({"TURSO_DATABASE_URL": "http://[::1"}, ["TURSO_DATABASE_URL: malformed URL"]),
    "database URL without host": ({"TURSO_DATABASE_URL": "libsql://"}, ["TURSO_DATABASE_URL: the URL names no host"]),
    "database URL the client refuses": ({"TURSO_DATABASE_URL": "http://127.0.0.1:9?tls=2"}, ["TURSO_DATABASE_URL:"]),
    "database URL with user:password": ({"TURSO_DATABASE_URL": "http://admin:pw-4321@127.0.0.1:9"},
                                        ["TURSO_DATABASE_URL: must not carry user:password; set TURSO_AUTH_TOKEN"]),
    "weak DASHBOARD_TOKEN": ({"DASHBOARD_TOKEN": "letmein"}, ["DASHBOARD_TOKEN: too weak: use at least 16"]),
    "blank DASHBOARD_TOKEN": ({"DASHBOARD_TOKEN": " " * 20}, ["DASHBOARD_TOKEN: too weak"]),
    "DASHBOARD_TOKEN not UTF-8": ({"DASHBOARD_TOKEN": b"dashboard-token-\xff-0123456789"},
                                  ["DASHBOARD_TOKEN: not valid UTF-8"]),
    "bad SPOT_BANDS": ({"SPOT_BANDS": "gold=1:x"}, ["SPOT_BANDS: 'gold=1:x' is not metal=low:high"]),
    "zero statement timeout": ({"DB_STATEMENT_TIMEOUT_S": "0"}, ["DB_STATEMENT_TIMEOUT_S"]),
    "zero breaker threshold": ({"SCRAPE_BREAKER_FAILURES": "0"}, ["SCRAPE_BREAKER_FAILURES"]),
    "catalog nested 2000 levels": ({"catalog": "deep"}, ["JSON nested too deeply"]),
    "catalog not UTF-8": ({"catalog": "latin1"}, ["providers.json: cannot read"]),
}


def prepare(tmp_path: Path, case: dict) -> dict[str, str]:
    env = base_env(tmp_path, **{k: v for k, v in case.items() if k.isupper()})
    if "env_file" in case:
        env["STAKTRAKR_ENV_FILE"] = str(env_file(tmp_path, case["env_file"]))
    if case.get("env_dir"):
        (tmp_path / "env.d").mkdir()
        env["STAKTRAKR_ENV_FILE"] = str(tmp_path / "env.d")
    if case.get("catalog") == "deep":
        (tmp_path / "providers.json").write_text('{"coins": ' + "[" * 2000 + "]" * 2000 + "}", encoding="utf-8")
        env["PROVIDERS_FILE"] = str(tmp_path / "providers.json")
    if case.get("catalog") == "latin1":
        (tmp_path / "providers.json").write_bytes('{"coins": {"ase": {"name": "Café"}}}'.encode("latin-1"))
        env["PROVIDERS_FILE"] = str(tmp_path / "providers.json")
    return env


@pytest.mark.parametrize("name", list(CASES))
def test_bad_configuration_is_one_line_and_exit_2(name, tmp_path):
    case, needles = CASES[name]
    env = prepare(tmp_path, case)
    # `scrape --dry-run` reads every kind of setting (catalog, database, bands) before it fetches
    line = assert_one_line_exit_2(staktrakr(env, "scrape", "--dry-run"), *needles)
    assert "pw-4321" not in line and "letmein" not in line


@pytest.mark.parametrize("name", ["weak DASHBOARD_TOKEN", "DASHBOARD_TOKEN not UTF-8"])
def test_serve_refuses_a_bad_dashboard_token_before_listening(name, tmp_path):
    env = prepare(tmp_path, CASES[name][0])
    assert_one_line_exit_2(staktrakr(env, "serve", "--port", "1"), "DASHBOARD_TOKEN")


@pytest.mark.parametrize("command", [["status"], ["publish", "--dry-run"], ["db", "status"], ["spot", "--dry-run"]])
def test_spot_bands_are_checked_by_every_job_not_only_spot(command, tmp_path):
    env = base_env(tmp_path, SPOT_BANDS="unobtainium=1:2")
    assert_one_line_exit_2(staktrakr(env, *command), "SPOT_BANDS: unknown metal 'unobtainium'")


@pytest.mark.parametrize("name", ["env file not UTF-8", "env file is a directory", "inline comment in the env file"])
def test_cron_runner_gives_the_same_line(name, tmp_path):
    case, needles = CASES[name]
    env = prepare(tmp_path, case)
    result = subprocess.run([str(RUNNER), "db", "status"], env=env, cwd=tmp_path, capture_output=True, text=True,
                            timeout=60)
    assert_one_line_exit_2(result, *needles)
    assert '"status":"config_error"' in result.stdout


def test_cron_runner_bad_timeout_override(tmp_path):
    env = prepare(tmp_path, {"env_file": b"POLLER_ID=home\n", "STAKTRAKR_CRON_TIMEOUT_S": "ten"})
    result = subprocess.run([str(RUNNER), "db", "status"], env=env, cwd=tmp_path, capture_output=True, text=True,
                            timeout=60)
    assert_one_line_exit_2(result, "STAKTRAKR_CRON_TIMEOUT_S: expected seconds")
