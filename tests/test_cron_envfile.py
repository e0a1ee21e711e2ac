"""The env file the entrypoint writes and the cron runner reads: 0600 from the start, values intact,
every line read as systemd reads it or refused."""

from __future__ import annotations

import os
import stat
import subprocess
import sys

import pytest

from staktrakr.errors import ConfigError
from staktrakr.ops.envfile import load_env_file, settings_variable_names, write_env_file
from tests.conftest import REPO
from tests.ops_fixtures import env_file

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


# --- the env file means one thing to systemd, the cron runner and the app ---------------------------

# What systemd's EnvironmentFile= makes of each line (systemd.exec(5), env-file parsing): quotes
# removed, backslash escapes in double quotes, unquoted values trimmed, "#" only starts a comment
# at the beginning of a line. Our loader must give the same value, or refuse the line.
SYSTEMD_READS = [
    (b"TOKEN=abc\n", "abc"),
    (b"TOKEN=  abc  \n", "abc"),
    (b'TOKEN="a b # c"\n', "a b # c"),
    (b"TOKEN='a b # c'\n", "a b # c"),
    (b"TOKEN=a#b\n", "a#b"),
    (b'TOKEN="say \\"hi\\""\n', 'say "hi"'),
    (b"# TOKEN=commented\nTOKEN=real\n", "real"),
]
REFUSED = [
    b"TOKEN=abc   # comment\n",       # systemd: "abc   # comment"; dotenv: "abc"
    b'TOKEN="abc" # comment\n',       # systemd: 'abc # comment'; dotenv: "abc"
    b"export TOKEN=abc\n",            # systemd: no such syntax
]


@pytest.mark.parametrize("line, value", SYSTEMD_READS)
def test_env_file_values_match_systemd(line, value, tmp_path):
    assert load_env_file(env_file(tmp_path, line))["TOKEN"] == value


@pytest.mark.parametrize("line", REFUSED)
def test_env_file_lines_systemd_reads_differently_are_refused(line, tmp_path):
    with pytest.raises(ConfigError, match=r"TOKEN: (inline comment|'export' prefix)"):
        load_env_file(env_file(tmp_path, line))


def test_env_example_is_read_alike_by_every_reader():
    """Every line of the shipped example, uncommented, is one systemd and dotenv agree on."""
    text = (REPO / "home-scraper" / ".env.example").read_text(encoding="utf-8")
    uncommented = "\n".join(line[2:] if line.startswith("# ") and "=" in line.split()[1] else line
                            for line in text.splitlines() if line.strip())
    from staktrakr.ops.envfile import systemd_disagreements

    assert systemd_disagreements(text) == [] and systemd_disagreements(uncommented) == []


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
