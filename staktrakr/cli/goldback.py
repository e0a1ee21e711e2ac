"""`staktrakr goldback` (placeholder until its issue lands)."""

from __future__ import annotations

import typer

from staktrakr.errors import ConfigError


def register(app: typer.Typer) -> None:
    @app.command("goldback", help="Not built yet.")
    def _goldback() -> None:
        raise ConfigError("goldback: not built yet")

