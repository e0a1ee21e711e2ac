"""`staktrakr scrape` and `staktrakr demo`: run the retail scrape job and render its result."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from staktrakr.cli.common import (
    CoinOpt,
    DryRunOpt,
    JsonOpt,
    VendorOpt,
    console,
    emit_json,
    err_console,
    finish_run,
    handle_errors,
    setup,
)
from staktrakr.errors import ConfigError, JobFailed
from staktrakr.fetch.registry import FETCHER_NAMES

if TYPE_CHECKING:
    from staktrakr.jobs.scrape import ScrapeResult
    from staktrakr.jobs.scrape_target import TargetOutcome

FetcherOpt = Annotated[str | None, typer.Option("--fetcher", help=f"Use only this fetcher: {', '.join(FETCHER_NAMES)}.",
                                                   show_default=False)]


@contextmanager
def progress_display(total: int | None, label: str, enabled: bool) -> Iterator[Any]:
    """A live bar on stderr while targets finish (only on a terminal); yields the per-target callback."""
    if not enabled or not err_console.is_terminal:
        yield None
        return
    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TextColumn("{task.fields[last]}"), TimeElapsedColumn(), console=err_console, transient=True) as bar:
        task = bar.add_task(label, total=total, last="")

        def advance(outcome: TargetOutcome) -> None:
            shown = f"${outcome.price:,.2f}" if outcome.ok else (outcome.reason or "failed")
            bar.update(task, advance=1, last=f"{outcome.coin_slug}/{outcome.vendor_id} {shown}"[:60])

        yield advance


def render_result(result: ScrapeResult) -> None:
    """The per-target table and one summary line."""
    table = Table()
    for name in ("coin", "vendor", "price", "stock", "source", "conf", "time"):
        table.add_column(name, no_wrap=name in ("price", "conf", "time", "stock"),
                         justify="right" if name in ("price", "conf", "time") else "left")
    if result.vision is not None:
        table.add_column("vision", overflow="fold")
    table.add_column("reason", overflow="fold", ratio=3)
    for outcome in result.outcomes:
        stock = ("-" if not outcome.ok and outcome.in_stock is None
                 else "in" if outcome.in_stock is not False else "out")
        cells = [outcome.coin_slug, outcome.vendor_id, f"${outcome.price:,.2f}" if outcome.ok else "-",
                 stock, outcome.source or "-", "-" if outcome.confidence is None else str(outcome.confidence),
                 f"{outcome.elapsed_ms / 1000:.1f}s"]
        if result.vision is not None:
            cells.append(vision_cell(outcome))
        table.add_row(*cells, outcome.reason or "")
    # Piped output (cron logs, CI) has no terminal width: do not squeeze the table into 80 columns.
    (console if console.is_terminal else Console(width=220)).print(table)
    console.print(summary_line(result), markup=False, highlight=False, soft_wrap=True)
    if result.vision is not None:
        from staktrakr.jobs.vision import vision_summary

        console.print(vision_summary(result.vision.to_json()), markup=False, highlight=False, soft_wrap=True)
    if result.signal:
        console.print(f"stopped by {result.signal}: {result.total} of {result.planned} targets finished, "
                      "the rest not started", markup=False, highlight=False)
    if result.queued_rows:
        console.print(f"database unreachable ({result.store_error}); {result.queued_rows} rows kept in the outbox, "
                      "the next run replays them (or: staktrakr db flush)", markup=False, highlight=False)


def vision_cell(outcome: TargetOutcome) -> str:
    """The vision column: the model's price and the verdict ("agreed $80.00"), why it has none, or "-"."""
    check = outcome.vision
    if check is None:
        return "-"
    if not check.ok:
        return f"failed: {check.failure}"
    shown = f"${check.price:,.2f}" if check.price is not None else "no price"
    stock = ", out" if check.in_stock is False else ""
    verdict = (check.verdict or "").replace("_", "-")
    return f"{verdict} {shown}{stock}" + (" (reused)" if check.reused else "")


def summary_line(result: ScrapeResult) -> str:
    where = "dry run: nothing written" if result.dry_run else (
        f"{result.stored_rows} rows stored" if not result.queued_rows else f"{result.queued_rows} rows queued")
    return (f"{result.job}: captured {result.captured}/{result.total} in {result.duration_s:.1f} s, "
            f"window {result.window_start}, run {result.run_id} ({where})")


def finish(result: ScrapeResult, json_output: bool, json_payload: dict[str, Any] | None = None) -> None:
    """Render (table or JSON), then the run's end: a signal -> 143/130, "every target failed" -> 1."""
    if json_output:
        emit_json(json_payload if json_payload is not None else result.to_json())
    else:
        render_result(result)
    finish_run(result.run, json_output)
    if result.total and not result.captured:
        raise JobFailed(f"{result.job}: every target failed ({result.total})")


def register(app: typer.Typer) -> None:
    @app.command("scrape")
    @handle_errors
    def scrape_command(coin: CoinOpt = None, vendor: VendorOpt = None, fetcher: FetcherOpt = None,
                       dry_run: DryRunOpt = False, json_output: JsonOpt = False) -> None:
        """Scrape every enabled (coin, vendor) target once and store the cycle (one batch)."""
        from staktrakr.catalog.load import select_targets
        from staktrakr.jobs.scrape import ScrapeOptions, run_scrape
        from staktrakr.store import Store

        if fetcher is not None and fetcher not in FETCHER_NAMES:
            raise ConfigError(f"--fetcher {fetcher}: expected one of {', '.join(FETCHER_NAMES)}")
        settings = setup()
        with Store.open(settings) as store:
            targets = select_targets(settings, store, coin, vendor)
            if not targets:
                raise ConfigError("scrape: no enabled targets match the --coin/--vendor filters")
            with progress_display(len(targets), "scrape", not json_output) as progress:
                result = run_scrape(settings, store, targets,
                                    ScrapeOptions(fetcher=fetcher, dry_run=dry_run, progress=progress))
        finish(result, json_output)

    @app.command("demo")
    @handle_errors
    def demo_command(json_output: JsonOpt = False) -> None:
        """Serve bundled sample dealer pages on 127.0.0.1 and run the real scrape job against them
        into the configured database (no network needed)."""
        from staktrakr.jobs.demo import run_demo

        settings = setup()
        with progress_display(None, "demo", not json_output) as progress:
            result = run_demo(settings, progress=progress)
        finish(result, json_output)
