"""`staktrakr status` (placeholder until its issue lands)."""

from __future__ import annotations

import typer

from staktrakr.errors import ConfigError


def register(app: typer.Typer) -> None:
    @app.command("status", help="Not built yet.")
    def _status() -> None:
        raise ConfigError("status: not built yet")

