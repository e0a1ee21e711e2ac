"""`staktrakr retry` (placeholder until its issue lands)."""

from __future__ import annotations

import typer

from staktrakr.errors import ConfigError


def register(app: typer.Typer) -> None:
    @app.command("retry", help="Not built yet.")
    def _retry() -> None:
        raise ConfigError("retry: not built yet")

