"""`staktrakr doctor`: one line per check, exit 0 when nothing failed and 1 otherwise, secrets masked.

Run as a separate process, as the operator does: the doctor loads the hosts' env file into its own
environment like the cron runner."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

SECRETS = {"GITHUB_TOKEN": "ghp_doctorsecret123456", "OPS_TRIGGER_TOKEN": "trigger-secret-98765",
           "TURSO_AUTH_TOKEN": "turso-secret-abcdef"}


def _doctor(tmp_path: Path, env_lines: list[str], *args: str, mode: int = 0o600,
            columns: int = 250) -> subprocess.CompletedProcess[str]:
    env_file = tmp_path / "staktrakr.env"
    env_file.write_text("\n".join(env_lines) + "\n", encoding="utf-8")
    env_file.chmod(mode)
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("TURSO", "STAKTRAKR", "API_", "GITHUB", "FIRECRAWL", "METAL_PRICE"))}
    env.update({"STAKTRAKR_ENV_FILE": str(env_file), "STAKTRAKR_LOG_FORMAT": "json", "COLUMNS": str(columns)})
    return subprocess.run([sys.executable, "-m", "staktrakr", "doctor", *args], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=180)


def _lines(result: subprocess.CompletedProcess[str]) -> dict[str, str]:
    """check name -> its line (the first word is the state)."""
    found = {}
    for line in result.stdout.splitlines():
        words = line.split()
        if len(words) >= 2 and words[0] in ("ok", "warn", "FAIL", "skip"):
            found[words[1]] = line
    return found


def _bare_remote(tmp_path: Path) -> Path:
    remote = tmp_path / "remote.git"
    subprocess.run(["git", "init", "--bare", "-q", str(remote)], check=True)
    return remote


def test_doctor_all_up_exits_0_and_masks_secrets(libsql_server, tmp_path):
    if not Path("/usr/bin/chromium").exists():
        pytest.skip("needs /usr/bin/chromium (bin/setup installs it)")
    subprocess.run([sys.executable, "-m", "staktrakr", "db", "migrate"], check=True, capture_output=True,
                   env={**os.environ, "TURSO_DATABASE_URL": libsql_server.url, "STAKTRAKR_ENV_FILE": "/nonexistent"})
    remote = _bare_remote(tmp_path)
    result = _doctor(tmp_path, [
        "POLLER_ID=home", f"TURSO_DATABASE_URL={libsql_server.url}", f"STAKTRAKR_VAR_DIR={tmp_path / 'var'}",
        f"PROVIDERS_FILE={REPO / 'providers.json'}", f"API_DATA_REPO={remote}",
        *(f"{name}={value}" for name, value in SECRETS.items()),
    ])
    assert result.returncode == 0, result.stdout + result.stderr
    lines = _lines(result)
    assert list(lines) == ["env", "settings", "catalog", "database", "git", "chromium", "firecrawl", "metalpriceapi",
                           "serve", "disk"]
    for name in ("env", "settings", "catalog", "database", "git", "chromium", "serve", "disk"):
        assert lines[name].startswith("ok"), lines[name]
    assert "schema version" in lines["database"] and "(current)" in lines["database"]
    assert "GITHUB_TOKEN set" in lines["git"] and "branch home not pushed yet" in lines["git"]
    assert lines["firecrawl"].startswith("skip") and lines["metalpriceapi"].startswith("skip")
    assert "doctor: all checks passed" in result.stdout
    assert "  GITHUB_TOKEN=**********" in result.stdout and "  FIRECRAWL_API_KEY=unset" in result.stdout
    for secret in SECRETS.values():
        assert secret not in result.stdout and secret not in result.stderr
    narrow = _doctor(tmp_path, [f"STAKTRAKR_VAR_DIR={tmp_path / 'var'}", f"API_DATA_REPO={remote}",
                                f"PROVIDERS_FILE={REPO / 'providers.json'}"], columns=80)
    checks = narrow.stdout[:narrow.stdout.index("configuration")].splitlines()
    assert max(len(line.rstrip()) for line in checks) <= 80  # long details wrap under themselves
    assert any(line.startswith(" " * 10) for line in checks) and "git remote" in narrow.stdout

    as_json = _doctor(tmp_path, [f"TURSO_DATABASE_URL={libsql_server.url}", f"STAKTRAKR_VAR_DIR={tmp_path / 'var'}",
                                 f"PROVIDERS_FILE={REPO / 'providers.json'}", f"GITHUB_TOKEN={SECRETS['GITHUB_TOKEN']}"],
                      "--json")
    report = json.loads(as_json.stdout)
    assert report["ok"] is True and report["configuration"]["github_token"] == "**********"
    assert SECRETS["GITHUB_TOKEN"] not in as_json.stdout


def test_doctor_database_down_and_remote_missing_exit_1(tmp_path):
    result = _doctor(tmp_path, [
        "TURSO_DATABASE_URL=http://127.0.0.1:9", f"STAKTRAKR_VAR_DIR={tmp_path / 'var'}",
        f"API_DATA_REPO={tmp_path / 'no-such-remote.git'}", "FIRECRAWL_BASE_URL=http://127.0.0.1:9",
        f"GITHUB_TOKEN={SECRETS['GITHUB_TOKEN']}", "DB_CONNECT_TIMEOUT_S=3",
    ])
    assert result.returncode == 1, result.stdout + result.stderr
    lines = _lines(result)
    assert lines["database"].startswith("FAIL") and "127.0.0.1:9" in lines["database"]
    assert lines["git"].startswith("FAIL") and "no-such-remote.git" in lines["git"]
    assert lines["firecrawl"].startswith("FAIL") and "unreachable" in lines["firecrawl"]
    assert lines["env"].startswith("ok") and lines["settings"].startswith("ok")
    assert lines["catalog"].startswith("FAIL") and "providers.json" in lines["catalog"]  # none in tmp_path
    assert "doctor: 4 checks failed" in result.stdout
    assert SECRETS["GITHUB_TOKEN"] not in result.stdout + result.stderr


def test_doctor_env_file_others_can_read_and_bad_setting(tmp_path):
    readable = _doctor(tmp_path, [f"STAKTRAKR_VAR_DIR={tmp_path / 'var'}"], mode=0o644)
    assert readable.returncode == 1
    assert _lines(readable)["env"].startswith("FAIL") and "chmod 600" in _lines(readable)["env"]

    bad = _doctor(tmp_path, [f"STAKTRAKR_VAR_DIR={tmp_path / 'var'}", "SERVE_PORT=eighty"])
    assert bad.returncode == 1
    lines = _lines(bad)
    assert lines["settings"].startswith("FAIL") and "SERVE_PORT" in lines["settings"]
    assert all(lines[name].startswith("skip") for name in ("database", "git", "chromium", "disk"))


def test_doctor_masks_credentials_and_tokens_inside_urls(tmp_path):
    result = _doctor(tmp_path, [
        f"STAKTRAKR_VAR_DIR={tmp_path / 'var'}", "DB_CONNECT_TIMEOUT_S=3",
        "TURSO_DATABASE_URL=libsql://127.0.0.1:9?authToken=tok-in-query-1234",
        "API_DATA_REPO=https://x:repo-pass-5678@127.0.0.1:9/org/api.git",
        "FIRECRAWL_BASE_URL=http://fc:firecrawl-pass-9012@127.0.0.1:9",
        "FLEET_HEALTH_URLS=http://a:fleet-pass-3456@127.0.0.1:9,https://127.0.0.2:9/healthz?token=fleet-tok-7890",
        "ALERT_REPEAT=6h",
    ])
    printed = result.stdout + result.stderr
    for secret in ("tok-in-query-1234", "repo-pass-5678", "firecrawl-pass-9012", "fleet-pass-3456", "fleet-tok-7890"):
        assert secret not in printed, printed
    lines = _lines(result)
    assert lines["firecrawl"].startswith("FAIL") and "http://127.0.0.1:9" in lines["firecrawl"]
    assert "  TURSO_DATABASE_URL=libsql://127.0.0.1:9\n" in result.stdout
    assert "  FLEET_HEALTH_URLS=http://127.0.0.1:9,https://127.0.0.2:9/healthz\n" in result.stdout
    assert "  ALERT_REPEAT=6h\n" in result.stdout


def test_doctor_fails_database_url_with_user_password(tmp_path):
    result = _doctor(tmp_path, [f"STAKTRAKR_VAR_DIR={tmp_path / 'var'}",
                                "TURSO_DATABASE_URL=http://admin:db-pass-4321@127.0.0.1:9"])
    assert result.returncode == 1
    line = _lines(result)["settings"]
    assert line.startswith("FAIL") and "TURSO_DATABASE_URL" in line and "TURSO_AUTH_TOKEN" in line
    assert "db-pass-4321" not in result.stdout + result.stderr


def test_doctor_warns_when_serve_is_open_with_a_weak_trigger_token(tmp_path):
    weak = _doctor(tmp_path, [f"STAKTRAKR_VAR_DIR={tmp_path / 'var'}", "SERVE_HOST=0.0.0.0",
                              "OPS_TRIGGER_TOKEN=short-trigger"])
    line = _lines(weak)["serve"]
    assert line.startswith("warn") and "OPS_TRIGGER_TOKEN" in line and "0.0.0.0" in line
    assert "short-trigger" not in weak.stdout
    local = _doctor(tmp_path, [f"STAKTRAKR_VAR_DIR={tmp_path / 'var'}", "OPS_TRIGGER_TOKEN=short-trigger"])
    assert _lines(local)["serve"].startswith("ok")
    dashboard = _doctor(tmp_path, [f"STAKTRAKR_VAR_DIR={tmp_path / 'var'}", "DASHBOARD_TOKEN=letmein"])
    assert dashboard.returncode == 1 and _lines(dashboard)["settings"].startswith("FAIL")
    assert "DASHBOARD_TOKEN" in _lines(dashboard)["settings"] and "letmein" not in dashboard.stdout
