"""`staktrakr spot` (placeholder until its issue lands)."""

from __future__ import annotations

import typer

from staktrakr.errors import ConfigError


def register(app: typer.Typer) -> None:
    @app.command("spot", help="Not built yet.")
    def _spot() -> None:
        raise ConfigError("spot: not built yet")

