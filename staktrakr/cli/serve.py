"""`staktrakr serve` (placeholder until its issue lands)."""

from __future__ import annotations

import typer

from staktrakr.errors import ConfigError


def register(app: typer.Typer) -> None:
    @app.command("serve", help="Not built yet.")
    def _serve() -> None:
        raise ConfigError("serve: not built yet")

