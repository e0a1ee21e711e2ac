"""`staktrakr status`: the operator's terminal view of every poller (read-only)."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

from staktrakr.cli.common import JsonOpt, console, emit_json, handle_errors, setup
from staktrakr.errors import JobFailed
from staktrakr.jobs.status import StatusReport, collect_status
from staktrakr.log import shorten
from staktrakr.store import Store


def _age(seconds: float | None) -> str:
    if seconds is None:
        return "never"
    if seconds < 120:
        return f"{seconds:.0f}s"
    if seconds < 2 * 3600:
        return f"{seconds / 60:.0f}m"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.1f}h"
    return f"{seconds / 86400:.1f}d"


def render(report: StatusReport) -> None:
    out = console if console.is_terminal else Console(width=200)
    out.print(f"status at {report.generated_at} (this host: {report.poller_id}, database: {report.database})",
              markup=False, highlight=False)
    if report.database_error:
        out.print(f"[red]database unreachable:[/red] {report.database_error}", highlight=False)

    feeds = Table("feed", "newest", "age", "limit", "state", title="freshness")
    for feed in report.freshness.feeds:
        state = "[red]stale[/red]" if feed.stale else "[green]ok[/green]"
        feeds.add_row(feed.feed, feed.newest or "-", _age(feed.age_s), _age(feed.max_age_s), state)
    out.print(feeds)

    for poller, runs in report.runs.items():
        table = Table("job", "started", "status", "captured/total", "duration", "error", title=f"runs: {poller}")
        for run in runs:
            colour = {"ok": "green", "error": "red"}.get(run.status, "yellow")
            captured = (f"{run.captured if run.captured is not None else '-'}/"
                        f"{run.total if run.total is not None else '-'}")
            duration = "-" if run.duration_s is None else f"{run.duration_s:.0f}s"
            table.add_row(run.job, run.started_at, f"[{colour}]{run.status}[/{colour}]", captured, duration,
                          shorten(run.error or "", 80))
        out.print(table)
    if not report.runs and not report.database_error:
        out.print("runs: none in the last 7 days")

    if report.coverage is not None:
        coverage = report.coverage
        percent = "-" if coverage.percent is None else f"{coverage.percent:.0f}%"
        out.print(f"coverage this hour (since {coverage.hour_start}): {coverage.covered}/{coverage.enabled} "
                  f"targets priced ({percent})", markup=False, highlight=False)
        if coverage.missing:
            shown = ", ".join(coverage.missing[:20]) + (" ..." if len(coverage.missing) > 20 else "")
            out.print(f"  missing: {shown}", markup=False, highlight=False)
    elif report.coverage_error:
        out.print(f"coverage: catalog unavailable: {report.coverage_error}", markup=False, highlight=False)

    if report.chronic:
        chronic = Table("coin", "vendor", "failures (7d)", "last", "last error",
                        title="chronic failures (3+ in 7 days)")
        for item in report.chronic:
            chronic.add_row(item.coin_slug, item.vendor_id, str(item.failures), item.last_failed_at or "-",
                            shorten(item.last_error or "", 100))
        out.print(chronic)
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
                  f"{outbox['quarantine_path']} (inspect, then delete the file)", highlight=False)
    if outbox.get("rejected"):
        out.print(f"[red]rejected by the database:[/red] {outbox['rejected']} entries kept in "
                  f"{outbox['rejected_path']} (inspect, then delete the file)", highlight=False)


def register(app: typer.Typer) -> None:
    @app.command("status")
    @handle_errors
    def status(json_output: JsonOpt = False) -> None:
        """Runs per poller, this hour's coverage, chronic failures, feed freshness, outbox (read-only).

        Exit 1 when the database cannot be read (the report still shows what is known).
        """
        settings = setup()
        with Store.open(settings) as store:
            report = collect_status(settings, store)
        if json_output:
            emit_json(report.as_dict(), settings)
        else:
            render(report)
        if report.database_error:
            raise JobFailed(f"database unreachable: {report.database_error}")
