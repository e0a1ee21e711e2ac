"""`staktrakr scrape` (placeholder until its issue lands)."""

from __future__ import annotations

import typer

from staktrakr.errors import ConfigError


def register(app: typer.Typer) -> None:
    @app.command("scrape", help="Not built yet.")
    def _scrape() -> None:
        raise ConfigError("scrape: not built yet")

    @app.command("demo", help="Not built yet.")
    def _demo() -> None:
        raise ConfigError("demo: not built yet")

