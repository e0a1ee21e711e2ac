"""Run the real Typer app in-process with a clean, explicit environment; check its one-line errors."""

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
