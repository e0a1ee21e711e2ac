"""`staktrakr status`: the operator's terminal view of every poller (read-only), and its exit code.

Exit codes (README, Commands): 0 the database is reachable and every feed is fresh; 1 the database
could not be read (what was read is still shown, the rest says "unknown"); 3 the database is
reachable but a feed is stale or has never been written. `--check` prints one line per problem
(or one `ok` line) instead of the tables, for scripts and monitoring.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from staktrakr.cli.common import JsonOpt, console, emit_json, err_console, handle_errors, setup
from staktrakr.cli.db import render_journals
from staktrakr.cli.text import UNKNOWN, ago, id_column, out_console, shown, span, table, text_column
from staktrakr.jobs.status import StatusReport, collect_status
from staktrakr.log import shorten
from staktrakr.store import Store

COLUMN_GAP = 3  # between two table columns
ERROR_MIN = 24  # the least useful width of an error column; below it, a list instead of a table
EXIT_OK = 0
EXIT_DATABASE_UNREACHABLE = 1
EXIT_FEED_STALE = 3

CheckOpt = Annotated[bool, typer.Option("--check", help="Print only the problems, one line each (or one ok line).")]


def exit_code(report: StatusReport) -> int:
    """0 all fresh, 1 the database could not be read, 3 a feed stale or never written."""
    if report.database_error:
        return EXIT_DATABASE_UNREACHABLE
    return EXIT_FEED_STALE if any(feed.stale for feed in report.freshness.feeds) else EXIT_OK


def database_problem(report: StatusReport) -> str:
    """'database X: unreachable: <reason>', naming the database once (the store's errors start with it)."""
    reason = str(report.database_error).removeprefix(f"database {report.database}: ")
    return f"database {report.database}: unreachable: {reason}"


def problems(report: StatusReport) -> list[str]:
    """One line per thing that needs the operator: the database, each stale feed, the outbox files."""
    lines = []
    if report.database_error:
        lines.append(database_problem(report))
    for feed in report.freshness.feeds:
        if feed.state == "stale":
            lines.append(f"feed {feed.feed}: stale, newest {feed.newest} ({ago(feed.age_s)}, "
                         f"limit {span(feed.max_age_s)})")
        elif feed.state == "never":
            lines.append(f"feed {feed.feed}: never written")
        elif feed.state == "unknown":
            lines.append(f"feed {feed.feed}: unknown (database unreachable)")
    outbox = report.outbox
    if outbox.get("quarantined"):
        lines.append(f"outbox: {outbox['quarantined']} quarantined entries in {outbox['quarantine_path']}")
    if outbox.get("rejected"):
        lines.append(f"outbox: {outbox['rejected']} rejected entries in {outbox['rejected_path']}")
    return lines


def render_check(report: StatusReport, out: Console) -> None:
    found = problems(report)
    if not found:
        out.print(f"ok: database reachable, {len(report.freshness.feeds)} feeds fresh, outbox "
                  f"{report.outbox['entries']} entries", markup=False, highlight=False)
    for line in found:
        out.print(line, markup=False, highlight=False, soft_wrap=True)


def render(report: StatusReport, out: Console) -> None:
    """The tables at the console's width (80 columns and up); the database error itself is printed
    once, by the caller, on stderr."""
    out.print(f"status at {report.generated_at[:19].replace('T', ' ')} UTC, this host: {report.poller_id}",
              markup=False, highlight=False)
    out.print(f"database: {report.database} "
              f"({'unreachable' if report.database_error else 'reachable'})", markup=False, highlight=False)

    feeds = table(title="freshness")
    id_column(feeds, "feed", [feed.feed for feed in report.freshness.feeds])
    feeds.add_column("newest", no_wrap=True)
    feeds.add_column("age", no_wrap=True)
    feeds.add_column("limit", no_wrap=True)
    feeds.add_column("state", no_wrap=True)
    for feed in report.freshness.feeds:
        colour = {"ok": "green", "unknown": "yellow"}.get(feed.state, "red")
        feeds.add_row(feed.feed, shown(feed.newest, UNKNOWN if feed.unknown else "-"),
                      ago(feed.age_s, UNKNOWN if feed.unknown else "never"), span(feed.max_age_s),
                      f"[{colour}]{feed.state}[/{colour}]")
    out.print(feeds)

    if report.database_error:
        out.print("runs, coverage, chronic failures: unknown (database unreachable)", highlight=False)
    now = report.generated_at
    for poller, runs in report.runs.items():
        grid = table(title=f"runs: {poller}")
        id_column(grid, "job", [run.job for run in runs])
        grid.add_column("started", no_wrap=True)
        grid.add_column("status", no_wrap=True)
        grid.add_column("captured", no_wrap=True, justify="right")
        grid.add_column("took", no_wrap=True, justify="right")
        text_column(grid, "error")
        for run in runs:
            colour = {"ok": "green", "error": "red"}.get(run.status, "yellow")
            captured = "-" if run.total is None else f"{shown(run.captured, '-')}/{run.total}"
            grid.add_row(run.job, ago(_seconds_between(run.started_at, now), "-"),
                         f"[{colour}]{run.status}[/{colour}]", captured, span(run.duration_s),
                         shorten(run.error or "", 200))
        out.print(grid)
    if not report.runs and not report.database_error:
        out.print("runs: none in the last 7 days")

    if report.coverage is not None:
        coverage = report.coverage
        percent = "" if coverage.percent is None else f" ({coverage.percent:.0f}%)"
        out.print(f"coverage this hour (since {coverage.hour_start[11:16]} UTC): {coverage.covered}/"
                  f"{coverage.enabled} targets priced{percent}", markup=False, highlight=False)
        if coverage.missing:
            listed = ", ".join(coverage.missing[:20]) + (f" and {len(coverage.missing) - 20} more"
                                                         if len(coverage.missing) > 20 else "")
            grid = Table.grid(padding=(0, 1))  # continuation lines indented under the list
            grid.add_column(no_wrap=True)
            grid.add_column()
            grid.add_row("  missing:", Text(listed))
            out.print(grid, highlight=False)
    elif report.coverage_error:
        out.print(f"coverage: catalog unavailable: {report.coverage_error}", markup=False, highlight=False)

    if report.chronic:
        render_chronic(report, out)
    elif not report.database_error:
        out.print("chronic failures: none")

    from staktrakr.jobs.vision import vision_summary

    for poller, counters in sorted(report.vision.items()):
        out.print(f"last scrape of {poller}, {vision_summary(counters)}", markup=False, highlight=False)

    outbox = report.outbox
    out.print(f"outbox: {outbox['entries']} entries, {outbox['rows']} rows waiting ({outbox['path']})",
              markup=False, highlight=False)
    if outbox.get("quarantined"):
        out.print(f"[red]outbox quarantine:[/red] {outbox['quarantined']} unreadable entries kept in "
                  f"{outbox['quarantine_path']} (once the cause is fixed: staktrakr db flush --quarantined)",
                  highlight=False)
    if outbox.get("rejected"):
        out.print(f"[red]rejected by the database:[/red] {outbox['rejected']} entries kept in "
                  f"{outbox['rejected_path']} (once the cause is fixed: staktrakr db flush --rejected)",
                  highlight=False)
    render_journals(report.journals, out)


def render_chronic(report: StatusReport, out: Console) -> None:
    """A table where it fits with room for the error; else two lines per target, the error on the second."""
    now, items = report.generated_at, report.chronic
    coin_width = max(len("coin"), *(len(item.coin_slug) for item in items))
    vendor_width = max(len("vendor"), *(len(item.vendor_id) for item in items))
    if coin_width + vendor_width + len("fails") + len("31.6 h ago") + 4 * COLUMN_GAP + ERROR_MIN <= out.width:
        chronic = table(title="chronic failures (3+ in 7 days)")
        id_column(chronic, "coin", [item.coin_slug for item in items])
        id_column(chronic, "vendor", [item.vendor_id for item in items])
        chronic.add_column("fails", no_wrap=True, justify="right")
        chronic.add_column("last", no_wrap=True)
        text_column(chronic, "last error")
        for item in items:
            chronic.add_row(item.coin_slug, item.vendor_id, str(item.failures),
                            ago(_seconds_between(item.last_failed_at, now), "-"), shorten(item.last_error or "", 200))
        out.print(chronic)
        return
    out.print("chronic failures (3+ in 7 days)", highlight=False)
    for item in items:
        out.print(f"  {item.coin_slug}/{item.vendor_id}: {item.failures} failures, last "
                  f"{ago(_seconds_between(item.last_failed_at, now), 'unknown')}", markup=False, highlight=False)
        out.print(f"      {shorten(item.last_error or '', 200)}", markup=False, highlight=False)


def _seconds_between(earlier: str | None, later: str) -> float | None:
    from staktrakr.timeutil import parse_time

    if not earlier:
        return None
    try:
        return max(0.0, (parse_time(later) - parse_time(earlier)).total_seconds())
    except ValueError:
        return None


def register(app: typer.Typer) -> None:
    @app.command("status")
    @handle_errors
    def status(check: CheckOpt = False, json_output: JsonOpt = False) -> None:
        """Runs per poller, this hour's coverage, chronic failures, feed freshness, outbox (read-only).

        Exit 0 when the database is reachable and every feed fresh, 1 when the database cannot be
        read (the rest shows "unknown"), 3 when a feed is stale or was never written.
        """
        settings = setup()
        with Store.open(settings) as store:
            report = collect_status(settings, store)
        if json_output:
            emit_json(report.as_dict(), settings)
        elif check:
            render_check(report, console)
        else:
            render(report, out_console(console))
        if report.database_error and not check:
            err_console.print(f"error: {database_problem(report)}", markup=False,
                              highlight=False, soft_wrap=True)
        raise typer.Exit(exit_code(report))
