"""`staktrakr spot`: store this slot's validated spot prices, or `--backfill` missing days."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

import typer
from rich.table import Table

from staktrakr.cli.common import DryRunOpt, JsonOpt, console, emit_json, finish_run, handle_errors, setup
from staktrakr.errors import ConfigError
from staktrakr.jobs.spot import run_spot
from staktrakr.jobs.spot_backfill import DAILY_SLOT, DEFAULT_BACKFILL_DAYS, run_backfill
from staktrakr.store import Store

BACKFILL_HELP = (
    f"Fill days without a spot value from MetalPriceAPI /timeframe: one row per metal per missing day "
    f"at {DAILY_SLOT} UTC, source 'metalprice-api-timeframe' (15-minute gaps are reported, not invented)."
)


def _date(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError:
        raise ConfigError(f"{option} {value!r}: expected a date YYYY-MM-DD") from None


def register(app: typer.Typer) -> None:
    @app.command("spot")
    @handle_errors
    def spot(
        backfill: Annotated[bool, typer.Option("--backfill", help=BACKFILL_HELP)] = False,
        since: Annotated[str | None, typer.Option(
            "--since", show_default=False,
            help=f"Backfill from this UTC date (YYYY-MM-DD; default: {DEFAULT_BACKFILL_DAYS} days back).")] = None,
        until: Annotated[str | None, typer.Option(
            "--until", show_default=False,
            help="Backfill up to this UTC date, inclusive (default: yesterday).")] = None,
        json_output: JsonOpt = False,
        dry_run: DryRunOpt = False,
    ) -> None:
        """Fetch MetalPriceAPI spot prices, validate them (bands, jump rule) and store one row per metal
        for this 15-minute slot. Exit 1 with the reason when the answer is unusable: nothing is stored."""
        settings = setup()
        if not backfill and (since or until):
            raise ConfigError("--since/--until only apply with --backfill")
        with Store.open(settings) as store:
            if backfill:
                result = run_backfill(settings, store, since=_date(since, "--since"), until=_date(until, "--until"),
                                      dry_run=dry_run)
                _render_backfill(result.to_dict()) if not json_output else emit_json(result.to_dict(), settings)
                finish_run(result.run, json_output)
                return
            outcome = run_spot(settings, store, dry_run=dry_run)
        if json_output:
            emit_json(outcome.to_dict(), settings)
            finish_run(outcome.run, json_output)
            return
        table = Table("metal", "USD/oz", title=f"spot {outcome.slot}: {outcome.status}")
        for metal, price in outcome.prices.items():
            table.add_row(metal, f"{price:,.2f}" + (" (jump confirmed)" if metal in outcome.confirmed else ""))
        if outcome.prices:
            console.print(table)
        else:
            console.print(f"spot {outcome.slot}: {outcome.status}")
        for note in outcome.notes:
            console.print(note, markup=False, soft_wrap=True)  # one line each in cron logs
        finish_run(outcome.run, json_output)


def _render_backfill(result: dict[str, Any]) -> None:
    missing = sum(len(metals) for metals in result["missing"].values())
    console.print(f"spot backfill {result['since']}..{result['until']}: {result['status']}; "
                  f"{missing} day/metal values missing, {len(result['filled'])} filled, "
                  f"{result['missing_slots']} incomplete 15-minute slots (not filled)", markup=False, soft_wrap=True)
    for line in result["unfilled"]:
        console.print(f"  not filled: {line}", markup=False, soft_wrap=True)
