"""`staktrakr doctor`: check this host's set-up, one line per check, exit 0 (no failure) or 1."""

from __future__ import annotations

import json

import typer

from staktrakr.cli.common import JsonOpt, console, emit_json, handle_errors
from staktrakr.cli.text import out_console

MARK = {"ok": "[green]ok  [/green]", "warn": "[yellow]warn[/yellow]", "fail": "[red]FAIL[/red]", "skip": "skip"}


def _duration_text(seconds: float) -> str:
    """Seconds as the README writes a duration: 6h, 90m, 45s (the largest unit that divides it)."""
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds / size:g}{unit}"
    return f"{seconds:g}s"


def _setting_text(value: object, name: str = "") -> str:
    """A setting as its variable would be written: SPOT_BANDS as `metal=low:high,...`, lists
    comma-separated, durations as 6h, unset for none."""
    if value is None:
        return "unset"
    if name == "alert_repeat" and isinstance(value, (int, float)):
        return _duration_text(float(value))
    if isinstance(value, list):
        return ",".join(str(item) for item in value)
    if isinstance(value, dict) and all(isinstance(band, dict) and {"low", "high"} <= set(band)
                                       for band in value.values()):
        return ",".join(f"{metal}={band['low']:g}:{band['high']:g}" for metal, band in value.items())
    return value if isinstance(value, str) else json.dumps(value)


def register(app: typer.Typer) -> None:
    @app.command("doctor")
    @handle_errors
    def doctor(json_output: JsonOpt = False) -> None:
        """Check the env file, every setting, the database, git remote, Chromium, Firecrawl and
        MetalPriceAPI (when configured) and disk space; print the configuration with secrets masked.

        Exit 0 when no check failed (warnings allowed), 1 otherwise.
        """
        from rich.markup import escape
        from rich.table import Table

        from staktrakr.ops.doctor import run_doctor
        from staktrakr.settings import Settings

        report = run_doctor()
        if json_output:
            emit_json(report.as_dict())
        else:
            out = out_console(console)
            grid = Table.grid(padding=(0, 1))  # the detail wraps at words under itself on a narrow terminal
            grid.add_column(no_wrap=True)
            grid.add_column(no_wrap=True)
            grid.add_column(overflow="fold")
            for check in report.checks:
                grid.add_row(MARK[check.state], check.name, escape(check.detail))
            out.print(grid, highlight=False)
            if report.configuration:
                console.print("configuration (secrets masked):", highlight=False)
                for name, value in report.configuration.items():
                    field = Settings.model_fields[name]
                    variable = field.validation_alias if isinstance(field.validation_alias, str) else name.upper()
                    console.print(f"  {variable}={_setting_text(value, name)}", markup=False, highlight=False)
            failed = sum(check.state == "fail" for check in report.checks)
            console.print(f"doctor: {failed} check{'s' if failed != 1 else ''} failed" if failed
                          else "doctor: all checks passed", highlight=False)
        raise typer.Exit(0 if report.ok else 1)
