"""Run the real Typer app in-process with a clean, explicit environment."""

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
