"""`staktrakr publish` (placeholder until its issue lands)."""

from __future__ import annotations

import typer

from staktrakr.errors import ConfigError


def register(app: typer.Typer) -> None:
    @app.command("publish", help="Not built yet.")
    def _publish() -> None:
        raise ConfigError("publish: not built yet")

