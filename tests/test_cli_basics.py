"""The command line: help on every command, version, one-line errors and one JSON document when a
command fails."""

from __future__ import annotations

import itertools
import re
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


def _every_command(group, path=()):
    for name, command in group.commands.items():
        if hasattr(command, "commands"):
            yield from _every_command(command, (*path, name))
        else:
            yield (*path, name)


def test_help_shows_no_python_types_and_whole_paragraphs(monkeypatch):
    """Flags bare, values by name (`--coin COIN`), docstrings wrapped as paragraphs (not at their source
    line breaks), for every command."""
    import typer.main

    from staktrakr.cli import app as the_app

    monkeypatch.setenv("COLUMNS", "300")
    root = typer.main.get_command(the_app)
    commands = [()] + [path for path in _every_command(root) if path != ("ops", "cron")]
    for path in commands:
        result = run_cli([*path, "--help"])
        assert result.exit_code == 0, (path, result.output)
        for python_type in ("<bool>", "<list[str]>", "<str>", "<int>", "<Path>"):
            assert python_type not in result.output, (path, python_type)
        command = root
        for name in path:
            command = command.commands[name]
        lines = [" ".join(line.split()).strip("│ ") for line in result.output.splitlines()]
        for paragraph in (command.help or "").split("\n\n"):
            source = [line.split() for line in paragraph.strip().splitlines()]
            for before, after in itertools.pairwise(source):  # a source line break inside a paragraph
                if before and after and not after[0].startswith(("-", "*", "|")):
                    joint = f"{before[-1]} {after[0]}".replace("`", "").replace("**", "")
                    assert any(joint in line for line in lines), (path, joint)
    assert re.search(r"--coin\s+COIN\s", run_cli(["scrape", "--help"]).output)
    demo = run_cli(["demo", "--help"]).output
    assert "Serve bundled sample dealer pages on 127.0.0.1 and run the real scrape job against them into" in demo


def test_verbose_and_quiet_set_the_log_level(tmp_path):
    import logging

    assert run_cli(["--quiet", "providers", "validate"], env={"PROVIDERS_FILE": str(REPO / "providers.json")},
                   var_dir=tmp_path).exit_code == 0
    assert logging.getLogger().level == logging.WARNING
    assert run_cli(["--verbose", "providers", "validate"], env={"PROVIDERS_FILE": str(REPO / "providers.json")},
                   var_dir=tmp_path).exit_code == 0
    assert logging.getLogger().level == logging.DEBUG
    both = run_cli(["--verbose", "--quiet", "providers", "validate"], var_dir=tmp_path)
    assert both.exit_code == 2 and "not both" in both.output
    assert "--install-completion" in run_cli(["--help"]).output
