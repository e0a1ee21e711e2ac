"""The command line: help on every command, version, one-line errors and one JSON document when a
command fails."""

from __future__ import annotations

import subprocess
import sys

from tests.cli_helpers import assert_one_line_error, not_a_dir, run_cli
from tests.conftest import REPO

GROUPS = ["scrape", "demo", "retry", "spot", "goldback", "publish", "merge", "serve", "status", "providers", "db", "ops"]


def test_help_lists_every_command_group(tmp_path):
    result = run_cli(["--help"], var_dir=tmp_path)
    assert result.exit_code == 0
    for name in GROUPS:
        assert f" {name} " in result.stdout


def test_every_command_has_help(tmp_path):
    for args in [[name, "--help"] for name in GROUPS] + [["providers", "sync", "--help"], ["db", "flush", "--help"],
                                                         ["ops", "crontab", "--help"], ["ops", "env-file", "--help"]]:
        result = run_cli(args, var_dir=tmp_path)
        assert result.exit_code == 0, (args, result.output)
        assert "Usage:" in result.stdout


def test_version_and_module_entry_point():
    out = subprocess.run([sys.executable, "-m", "staktrakr", "--version"], capture_output=True, text=True, cwd=REPO)
    assert out.returncode == 0 and out.stdout.strip() == "staktrakr 0.1.0"


def test_usage_error_exits_2(tmp_path):
    assert run_cli(["db", "status", "--no-such-flag"], var_dir=tmp_path).exit_code == 2
    assert run_cli(["providers", "sync"], var_dir=tmp_path).exit_code == 2


def test_unwritable_var_dir_is_one_line(tmp_path):
    var_dir = not_a_dir(tmp_path)
    env = {"PROVIDERS_FILE": str(REPO / "providers.json")}
    for args in (["db", "migrate"], ["db", "flush"], ["publish", "--no-push"]):
        result = run_cli(args, env=env, var_dir=var_dir)
        assert result.exit_code == 1, (args, result.stdout, result.stderr)
        assert_one_line_error(result, str(var_dir))


def test_json_commands_print_one_json_document_on_failure_too(tmp_path):
    """A pipe reading `--json` always gets exactly one JSON document: the result, or the error."""
    import json as _json

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
