"""Run the real Typer app in-process with a clean, explicit environment; check a command line against it
and its one-line errors."""

from __future__ import annotations

import os
from pathlib import Path

from typer.testing import CliRunner

from staktrakr.cli import app
from staktrakr.settings import Settings

_SETTING_NAMES = {name.upper() for name in Settings.model_fields} | {"STAKTRAKR_VAR_DIR", "STAKTRAKR_CATALOG_SOURCE"}


def run_cli(args: list[str], env: dict[str, str] | None = None, var_dir: Path | None = None):
    """Invoke `staktrakr ARGS` with only the given settings in the environment."""
    clean = {name: None for name in os.environ if name.upper() in _SETTING_NAMES}
    clean["STAKTRAKR_ENV_FILE"] = "/nonexistent/.env"
    clean["STAKTRAKR_LOG_FORMAT"] = "json"
    if var_dir is not None:
        clean["STAKTRAKR_VAR_DIR"] = str(var_dir)
    clean.update(env or {})
    return CliRunner().invoke(app, args, env=clean, catch_exceptions=False)


def cli_problems(job: str, args: tuple[str, ...], root) -> list[str]:
    """What in `staktrakr JOB ARGS` the Typer app would reject (unknown command or option, a missing
    value, required option or argument, too many arguments).

    Duck-typed (groups have `commands`, params a `param_type_name`): Typer may ship its own click.
    """
    command = root.commands.get(job)
    if command is None:
        return [f"no command {job!r}"]
    words = list(args)
    while hasattr(command, "commands"):
        if not words or words[0] not in command.commands:
            return [f"{job}: needs one of {sorted(command.commands)}"]
        job = f"{job} {words[0]}"
        command = command.commands[words.pop(0)]
    options = {name: param for param in command.params if param.param_type_name == "option"
               for name in (*param.opts, *param.secondary_opts)}
    positional = [param for param in command.params if param.param_type_name == "argument"]
    takes_any_number = any(param.nargs == -1 for param in positional)
    # `ops cron JOB ARGS`: everything after the first argument belongs to the job, options included
    passes_through = command.context_settings.get("allow_interspersed_args", True) is False
    problems, seen_positional, seen_options = [], 0, set()
    while words:
        word = words.pop(0)
        if passes_through and seen_positional:
            seen_positional += 1
        elif word.startswith("-"):
            name, has_value, _ = word.partition("=")
            option = options.get(name)
            if option is None:
                problems.append(f"{job}: unknown option {name}")
                continue
            seen_options.add(option.name)
            if not option.is_flag and not has_value:
                if not words:
                    problems.append(f"{job}: {name} needs a value")
                else:
                    words.pop(0)
        else:
            seen_positional += 1
    if seen_positional > len(positional) and not takes_any_number:
        problems.append(f"{job}: {seen_positional} arguments, the command takes {len(positional)}")
    required = sum(1 for param in positional if param.required)
    if seen_positional < required:
        problems.append(f"{job}: {seen_positional} arguments, the command needs {required}")
    problems += [f"{job}: missing {param.opts[0]}" for param in options.values()
                 if param.required and param.name not in seen_options]
    return sorted(set(problems), key=problems.index)
def not_a_dir(tmp_path: Path) -> Path:
    """A var dir path that cannot be created (its parent is a regular file)."""
    blocker = tmp_path / "blocker"
    blocker.write_text("a file, not a directory\n", encoding="utf-8")
    return blocker / "var"


def assert_one_line_error(result, *needles: str) -> None:
    """Exactly one `error: ` line on stderr, holding every needle, and no traceback anywhere."""
    stderr = result.stderr
    assert "Traceback" not in stderr and "Traceback" not in result.stdout
    error_lines = [line for line in stderr.splitlines() if line.startswith("error: ")]
    assert len(error_lines) == 1, stderr
    for needle in needles:
        assert needle in error_lines[0], error_lines[0]
