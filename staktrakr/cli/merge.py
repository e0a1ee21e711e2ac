"""`staktrakr merge` (placeholder until its issue lands)."""

from __future__ import annotations

import typer

from staktrakr.errors import ConfigError


def register(app: typer.Typer) -> None:
    @app.command("merge", help="Not built yet.")
    def _merge() -> None:
        raise ConfigError("merge: not built yet")

