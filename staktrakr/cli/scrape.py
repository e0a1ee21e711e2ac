"""`staktrakr scrape` and `staktrakr demo`: run the retail scrape job and render its result."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Column, Table
from rich.text import Text

from staktrakr.cli.base import Verbosity
from staktrakr.cli.common import (
    CoinOpt,
    DryRunOpt,
    EvidenceOpt,
    JsonOpt,
    VendorOpt,
    console,
    emit_json,
    err_console,
    finish_run,
    handle_errors,
    setup,
)
from staktrakr.cli.text import id_column, out_console, table, text_column
from staktrakr.errors import ConfigError, JobFailed, StaktrakrError
from staktrakr.fetch.registry import FETCHER_NAMES, FETCHER_OF_SOURCE

if TYPE_CHECKING:
    from staktrakr.jobs.scrape import ScrapeResult
    from staktrakr.jobs.scrape_target import TargetOutcome

def _complete_fetcher(incomplete: str) -> list[str]:
    return [name for name in FETCHER_NAMES if name.startswith(incomplete)]


FetcherOpt = Annotated[str | None, typer.Option("--fetcher", help=f"Use only this fetcher: {', '.join(FETCHER_NAMES)}.",
                                                   show_default=False, autocompletion=_complete_fetcher)]
AllOpt = Annotated[bool, typer.Option("--all", help="List every target, not only the failures grouped by reason.")]

COLUMN_GAP = 3      # what the table puts between two columns (padding and the blank rule)
REASON_MIN = 24     # the reason column's least useful width; below it the narrow layout is used
FULL_TABLE_MAX = 20  # up to this many targets the table lists them all; beyond, failures are grouped by reason
_URL = re.compile(r"https?://\S+")


@contextmanager
def progress_display(total: int | None, label: str, enabled: bool) -> Iterator[Any]:
    """A live line on stderr while targets finish (only on a terminal); yields the per-target callback.

    Count, elapsed time and ETA come first, so an 80-column terminal always shows them; the last
    target's text takes what is left and is cut at the line's end, never wrapped onto the next."""
    if not enabled or not err_console.is_terminal or Verbosity.quiet:
        yield None
        return
    with Progress(TextColumn("[bold]{task.description}"), MofNCompleteColumn(), TimeElapsedColumn(),
                  TextColumn("ETA"), TimeRemainingColumn(), BarColumn(bar_width=12),
                  TextColumn("{task.fields[last]}", table_column=Column(no_wrap=True, overflow="ellipsis", ratio=1)),
                  console=err_console, transient=True, expand=True) as bar:
        task = bar.add_task(label, total=total, last="")

        def advance(outcome: TargetOutcome) -> None:
            shown = f"${outcome.price:,.2f}" if outcome.ok else (outcome.reason or "failed")
            bar.update(task, advance=1, last=f"{outcome.coin_slug}/{outcome.vendor_id} {shown}")

        yield advance


def _stock(outcome: TargetOutcome) -> str:
    if not outcome.ok and outcome.in_stock is None:
        return "-"
    return "in" if outcome.in_stock is not False else "out"


def target_table(outcomes: list[TargetOutcome], width: int, vision: bool = False) -> Table:
    """One row per target; identifiers and numbers never cut, the reason wraps in what is left. Where
    the columns do not fit `width` with room for a reason, price, stock, fetcher, confidence and time
    share one wrapping `result` column. `vision`: a `vision` column (the cross-check's reading and
    verdict), or in the narrow table a "vision: ..." tail on the result."""
    prices = [f"${outcome.price:,.2f}" for outcome in outcomes if outcome.ok]
    fixed = [max([len("coin"), *(len(o.coin_slug) for o in outcomes)]),
             max([len("vendor"), *(len(o.vendor_id) for o in outcomes)]), max([len("price"), *map(len, prices)]),
             len("stock"), max([len("fetcher"), *(len(o.fetcher or "-") for o in outcomes)]), len("conf"), len("time")]
    wide = sum(fixed) + COLUMN_GAP * len(fixed) + REASON_MIN <= width
    grid = table()
    id_column(grid, "coin", [outcome.coin_slug for outcome in outcomes])
    id_column(grid, "vendor", [outcome.vendor_id for outcome in outcomes])
    if not wide:
        text_column(grid, "result")
        for outcome in outcomes:
            tail = f"; vision: {vision_cell(outcome)}" if vision else ""
            grid.add_row(outcome.coin_slug, outcome.vendor_id, _result_text(outcome) + tail)
        return grid
    id_column(grid, "price", prices, justify="right")
    grid.add_column("stock", no_wrap=True)
    id_column(grid, "fetcher", [outcome.fetcher or "-" for outcome in outcomes])
    grid.add_column("conf", no_wrap=True, justify="right")
    grid.add_column("time", no_wrap=True, justify="right")
    if vision:
        text_column(grid, "vision")
    text_column(grid, "reason")
    for outcome in outcomes:
        cells = [outcome.coin_slug, outcome.vendor_id, f"${outcome.price:,.2f}" if outcome.ok else "-",
                 _stock(outcome), outcome.fetcher or "-",
                 "-" if outcome.confidence is None else str(outcome.confidence), f"{outcome.elapsed_ms / 1000:.1f}s"]
        grid.add_row(*cells, *([vision_cell(outcome)] if vision else []), outcome.reason or "")
    return grid


def _result_text(outcome: TargetOutcome) -> str:
    """Price, stock, fetcher, confidence and time in words, for the narrow table."""
    took = f"{outcome.elapsed_ms / 1000:.1f}s"
    if outcome.ok:
        stock = "in stock" if outcome.in_stock is not False else "out of stock"
        confidence = "" if outcome.confidence is None else f", conf {outcome.confidence}"
        return f"${outcome.price:,.2f} {stock} ({outcome.fetcher or '-'}{confidence}, {took})"
    return f"{outcome.reason or 'failed'} ({outcome.fetcher or '-'}, {took})"


def failure_groups(outcomes: list[TargetOutcome]) -> list[tuple[str, list[TargetOutcome]]]:
    """Failed targets grouped by reason (URLs in a reason do not split a group), largest group first."""
    groups: dict[str, list[TargetOutcome]] = {}
    for outcome in outcomes:
        if not outcome.ok:
            groups.setdefault(_URL.sub("<url>", outcome.reason or "failed"), []).append(outcome)
    return sorted(groups.items(), key=lambda item: (-len(item[1]), item[0]))


def render_result(result: ScrapeResult, out: Console | None = None, show_all: bool = False) -> None:
    """Every target in a table when there are few (or `--all`); otherwise the failures grouped by
    reason with counts and a few of their targets; then one summary line."""
    out = out or out_console(console)
    if result.outcomes and (show_all or result.total <= FULL_TABLE_MAX):
        out.print(target_table(result.outcomes, out.width, vision=result.vision is not None))
    elif result.outcomes:
        groups = failure_groups(result.outcomes)
        grid = Table.grid(padding=(0, 1))  # a long reason or list wraps at words under itself
        grid.add_column(no_wrap=True, justify="right")
        grid.add_column()
        for reason, members in groups:
            names = ", ".join(f"{o.coin_slug}/{o.vendor_id}" for o in members[:3])
            more = f" and {len(members) - 3} more" if len(members) > 3 else ""
            grid.add_row(f"{len(members):>4} x", Text(reason))
            grid.add_row("", Text(names + more))
        if groups:
            out.print(grid, highlight=False)
        reasons = f" ({len(groups)} reason{'s' if len(groups) != 1 else ''})" if groups else ""
        out.print(f"priced {result.captured}, failed {result.failures}{reasons}; --all lists every target",
                  markup=False, highlight=False)
    out.print(summary_line(result), markup=False, highlight=False, soft_wrap=False)  # wrapped at words
    if result.vision is not None:
        from staktrakr.jobs.vision import vision_summary

        out.print(vision_summary(result.vision.to_json()), markup=False, highlight=False)
    if result.signal:
        out.print(f"stopped by {result.signal}: {result.total} of {result.planned} targets finished, "
                  "the rest not started", markup=False, highlight=False)
    if result.queued_rows:
        out.print(f"database unreachable ({result.store_error}); {result.queued_rows} rows kept in the outbox, "
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


def stored_text(result: ScrapeResult) -> str:
    """What the database took, by what the rows are: "10 price snapshots (9 priced), 1 failure record stored"."""
    if not result.stored_by_kind:
        return f"{result.stored_rows} database rows stored"
    snapshots = result.stored_by_kind.get("price_snapshots", 0)
    failures = result.stored_by_kind.get("provider_failures", 0)
    others = result.stored_rows - snapshots - failures
    parts = [f"{snapshots} price snapshot{'s' if snapshots != 1 else ''} ({result.captured} priced)",
             f"{failures} failure record{'s' if failures != 1 else ''}"]
    if others > 0:
        parts.append(f"{others} other row{'s' if others != 1 else ''}")
    return ", ".join(parts) + " stored"


def summary_line(result: ScrapeResult) -> str:
    """One line: captured/total, time, window, run id and where the rows went (no Python reprs)."""
    where = "dry run: nothing written" if result.dry_run else (
        stored_text(result) if not result.queued_rows
        else f"{result.queued_rows} database rows queued in the outbox")
    stopped = f" ({result.total} finished, stopped by {result.signal})" if result.signal else ""
    return (f"{result.job}: captured {result.captured}/{result.planned}{stopped} in {result.duration_s:.1f} s, "
            f"window {result.window_start}, run {result.run_id} ({where})")


def finish(result: ScrapeResult, json_output: bool, json_payload: dict[str, Any] | None = None,
           show_all: bool = False) -> None:
    """Render (table or JSON), then the run's end: a signal -> 143/130, "every target failed" -> 1."""
    if json_output:
        emit_json(json_payload if json_payload is not None else result.to_json())
    else:
        render_result(result, show_all=show_all)
    finish_run(result.run, json_output)
    if result.total and not result.captured:
        raise JobFailed(f"{result.job}: every target failed ({result.total})")


def register(app: typer.Typer) -> None:
    @app.command("scrape")
    @handle_errors
    def scrape_command(coin: CoinOpt = None, vendor: VendorOpt = None, fetcher: FetcherOpt = None,
                       dry_run: DryRunOpt = False, show_all: AllOpt = False, keep_evidence: EvidenceOpt = False,
                       json_output: JsonOpt = False) -> None:
        """Scrape every enabled (coin, vendor) target once and store the cycle (one batch)."""
        from staktrakr.catalog.load import select_targets
        from staktrakr.jobs.harness import record_refused_run
        from staktrakr.jobs.scrape import ScrapeOptions, run_scrape
        from staktrakr.store import Store

        if fetcher is not None and fetcher not in FETCHER_NAMES:
            stored_as = FETCHER_OF_SOURCE.get(fetcher)
            hint = f" (`{fetcher}` is how the database's `source` names fetcher {stored_as})" if stored_as else ""
            raise ConfigError(f"--fetcher {fetcher}: expected one of {', '.join(FETCHER_NAMES)}{hint}")
        settings = setup()
        with Store.open(settings) as store:
            try:
                targets = select_targets(settings, store, coin, vendor)
            except StaktrakrError as exc:  # e.g. catalog tables that are not valid: the run is still recorded
                if not dry_run:
                    record_refused_run(settings, store, "scrape", f"scrape: {exc}")
                raise
            if not targets:
                raise ConfigError("scrape: no enabled targets match the --coin/--vendor filters")
            with progress_display(len(targets), "scrape", not json_output) as progress:
                result = run_scrape(settings, store, targets,
                                    ScrapeOptions(fetcher=fetcher, dry_run=dry_run, progress=progress,
                                                  keep_evidence=True if keep_evidence else None))
        finish(result, json_output, show_all=show_all)

    @app.command("demo")
    @handle_errors
    def demo_command(show_all: AllOpt = False, json_output: JsonOpt = False) -> None:
        """Serve bundled sample dealer pages on 127.0.0.1 and run the real scrape job against them
        into its own database, var/demo.db (no network needed)."""
        from staktrakr.jobs.demo import demo_targets, run_demo

        settings = setup()
        planned = len(demo_targets("http://127.0.0.1", browser_available=settings.chromium_path.exists()))
        with progress_display(planned, "demo", not json_output) as progress:
            result = run_demo(settings, progress=progress)
        finish(result, json_output, show_all=show_all)
