"""The env file the entrypoint writes and the cron runner reads: 0600 from the start, values intact."""

from __future__ import annotations

import os
import stat
import subprocess
import sys

import pytest

from staktrakr.errors import ConfigError
from staktrakr.ops.envfile import load_env_file, settings_variable_names, write_env_file

AWKWARD = 'p@ss "quoted" $HOME ${X} back\\slash # not a comment\tand\nnewline'


def test_written_file_is_private_and_round_trips(tmp_path):
    path = tmp_path / "run" / "env"
    environ = {"TURSO_AUTH_TOKEN": AWKWARD, "POLLER_ID": "api", "UNRELATED_SECRET": "x", "GITHUB_TOKEN": ""}
    written = write_env_file(path, environ, ["POLLER_ID", "TURSO_AUTH_TOKEN", "GITHUB_TOKEN"])
    assert written == ["POLLER_ID", "TURSO_AUTH_TOKEN"]  # empty values skipped
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    values = load_env_file(path)
    assert values == {"POLLER_ID": "api", "TURSO_AUTH_TOKEN": AWKWARD}
    assert "UNRELATED_SECRET" not in path.read_text()


def test_rewrite_replaces_and_stays_private(tmp_path):
    path = tmp_path / "env"
    path.write_text("OLD=1\n")
    path.chmod(0o644)
    write_env_file(path, {"POLLER_ID": "home"}, ["POLLER_ID"])
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_env_file(path) == {"POLLER_ID": "home"}


def test_load_refuses_world_readable(tmp_path):
    path = tmp_path / "env"
    path.write_text("POLLER_ID=api\n")
    path.chmod(0o644)
    with pytest.raises(ConfigError, match="chmod 600"):
        load_env_file(path)


def test_names_cover_every_setting():
    names = settings_variable_names()
    for expected in ("POLLER_ID", "TURSO_DATABASE_URL", "TURSO_AUTH_TOKEN", "GITHUB_TOKEN", "OPS_TRIGGER_TOKEN",
                     "METAL_PRICE_API_KEY", "STAKTRAKR_VAR_DIR", "API_EXPORT_DIR"):
        assert expected in names


def test_ops_env_file_writes_only_settings(tmp_path):
    path = tmp_path / "env"
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "POLLER_ID": "api", "OPS_TRIGGER_TOKEN": "tok-123",
           "SOMETHING_ELSE": "nope"}
    result = subprocess.run([sys.executable, "-P", "-m", "staktrakr", "ops", "env-file", str(path)], env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert f"env file {path}: wrote " in result.stderr
    values = load_env_file(path)
    assert values["POLLER_ID"] == "api" and values["OPS_TRIGGER_TOKEN"] == "tok-123"
    assert "SOMETHING_ELSE" not in values
    assert "tok-123" not in result.stderr


def test_ops_env_file_that_cannot_be_written_is_one_line(tmp_path):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    result = subprocess.run([sys.executable, "-P", "-m", "staktrakr", "ops", "env-file", str(blocker / "env")],
                            env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "POLLER_ID": "api"},
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    errors = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(errors) == 1 and errors[0].startswith(f"error: env file {blocker / 'env'}: cannot write"), result.stderr
