"""`staktrakr db`: migrate, status, flush (replay the outbox by hand), snapshot (offline copy)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from staktrakr.cli.common import JsonOpt, console, emit_json, err_console, handle_errors, setup
from staktrakr.cli.text import UNKNOWN, id_column, out_console, shown, table
from staktrakr.errors import JobFailed
from staktrakr.log import shorten
from staktrakr.store import Store
from staktrakr.store.queries.status import database_status
from staktrakr.store.session import count_journal_problems

app = typer.Typer(help="Database: schema migrations, status, outbox flush, offline snapshot.", no_args_is_help=True)
DEFAULT_SNAPSHOT_DAYS = 30
MAX_SNAPSHOT_DAYS = 36_500  # a century: more than any database holds, small enough for date arithmetic


@app.command()
@handle_errors
def migrate(json_output: JsonOpt = False) -> None:
    """Create absent tables and apply pending additive migrations (safe to re-run)."""
    settings = setup()
    with Store.open(settings) as store:
        applied = store.migrate()
    if json_output:
        emit_json({"database": store.db.display, "applied": applied})
    else:
        console.print(f"{store.db.display}: " + (f"applied migrations {applied}" if applied else "schema is current"))


@app.command()
@handle_errors
def status(json_output: JsonOpt = False) -> None:
    """Tables, row counts, newest window, migrations and outbox size.

    Exit 0 when the database answered, 1 when it could not be read (values it could not read say "unknown").
    """
    settings = setup()
    with Store.open(settings) as store:
        report = database_status(store)
    if json_output:
        emit_json(report)
    else:
        render_status(report, out_console(console))
    if not report["reachable"]:
        reason = str(report.get("error")).removeprefix(f"database {report['database']}: ")
        err_console.print(f"error: database {report['database']}: unreachable: {reason}", markup=False, highlight=False,
                          soft_wrap=True)
        raise typer.Exit(1)


def render_status(report: dict[str, Any], out: Console) -> None:
    """`db status` for people: counts, "unknown" for what could not be read, no Python reprs."""
    reachable = bool(report["reachable"])
    out.print(f"database: {report['database']} ({'reachable' if reachable else 'unreachable'})",
              markup=False, highlight=False)
    grid = table()
    id_column(grid, "table", list(report["tables"]))
    grid.add_column("rows", justify="right", no_wrap=True)
    for name, count in report["tables"].items():
        grid.add_row(name, (UNKNOWN if not reachable else "absent") if count is None else f"{count:,}")
    out.print(grid)
    missing = UNKNOWN if not reachable else "none"
    out.print(f"schema version: {shown(report['schema_version'], missing)}", markup=False, highlight=False)
    out.print(f"newest window: {shown(report['newest_window'], missing)}", markup=False, highlight=False)
    render_local_state(report["outbox"], report["journals"], out)


def render_local_state(outbox: dict[str, Any], journals: dict[str, Any], out: Console) -> None:
    """The outbox, what was moved aside and the journals (`db status`)."""
    out.print(f"outbox: {outbox['entries']} entries, {outbox['rows']} rows waiting ({outbox['path']})", markup=False,
              highlight=False)
    if outbox["unreadable_lines"]:
        out.print(f"  {outbox['unreadable_lines']} unreadable lines (the next replay quarantines them)",
                  markup=False, highlight=False)
    if outbox["quarantined"]:
        out.print(f"  quarantined: {outbox['quarantined']} entries in {outbox['quarantine_path']} (unreadable or "
                  "invalid; once the cause is fixed: staktrakr db flush --quarantined)", markup=False, highlight=False)
    if outbox["rejected"]:
        out.print(f"  rejected: {outbox['rejected']} entries in {outbox['rejected_path']} (the database refused "
                  "them; once the cause is fixed: staktrakr db flush --rejected)", markup=False, highlight=False)
    render_journals(journals, out)


def render_journals(journals: dict[str, Any], out: Console) -> None:
    """Journals of killed runs waiting to be queued, of runs in progress, and strangers in the folder
    (`journals`: store/journal.py's JournalFolder.as_dict(); an empty dict shows nothing)."""
    abandoned, running = journals.get("abandoned", []), journals.get("running", [])
    if abandoned:
        out.print(f"journals: {len(abandoned)} of killed runs waiting in {journals.get('path')} "
                  f"({', '.join(abandoned[:5])}); the next job queues them, or: staktrakr db flush",
                  markup=False, highlight=False)
    if running:
        out.print(f"journals: {len(running)} of runs in progress ({', '.join(running[:5])})",
                  markup=False, highlight=False)
    for path in journals.get("not_journals", []):
        out.print(f"journals: {path} is not a journal (a link, a folder or unreadable): left alone, remove it",
                  markup=False, highlight=False)


RejectedOpt = Annotated[bool, typer.Option("--rejected", help="First move the entries of rejected.jsonl back into "
                                            "the outbox (after fixing what the database refused).")]
QuarantinedOpt = Annotated[bool, typer.Option("--quarantined", help="First move the readable entries of the "
                                              "quarantine file back into the outbox (after fixing their cause).")]


@app.command()
@handle_errors
def flush(rejected: RejectedOpt = False, quarantined: QuarantinedOpt = False, json_output: JsonOpt = False) -> None:
    """Replay the outbox into the database now (every job also does this first): journals of killed
    runs are queued first; unreadable entries go to the quarantine file, refused rows to the
    rejected file (exit 1 naming them), the rest replay. --rejected / --quarantined put those
    entries back into the outbox first, so they are applied once their cause is fixed."""
    settings = setup()
    with Store.open(settings) as store:
        requeued, kept = store.requeue(rejected=rejected, quarantined=quarantined)
        recovered = store.recover_journals()
        store.ensure_schema()   # the database down: one line, exit 1 (the outbox keeps everything)
        result = store.replay_outbox()
        count_journal_problems(recovered, result)
        outbox = store.outbox
    if json_output:
        emit_json({**result.__dict__, "recovered_runs": [run.run_id for run in recovered if run.queued],
                   "requeued_entries": requeued, "still_kept_aside": kept})
    else:
        if rejected or quarantined:
            console.print(f"requeued {requeued} entries into the outbox" + (
                f"; {kept} lines are still no entry and stay where they were" if kept else ""), markup=False)
        for run in recovered:
            if run.queued:
                console.print(f"journal: run {run.run_id} ({run.targets} targets) queued from {run.path}", markup=False)
            else:
                console.print(f"journal: {run.path} had no readable header: {run.quarantined_lines} lines "
                              f"quarantined in {outbox.quarantine_path}", markup=False)
        console.print(f"outbox: replayed {result.replayed_entries} entries ({result.replayed_rows} rows), "
                      f"{result.remaining_entries} remaining, {result.quarantined_entries} quarantined, "
                      f"{result.rejected_entries} rejected", markup=False)
        for problem in result.problems:
            err_console.print(f"warning: {shorten(problem, 400)}", markup=False, highlight=False, soft_wrap=True)
    if result.busy:
        raise JobFailed("outbox: another process on this host is replaying it right now; try again")
    if result.error:
        raise JobFailed(f"outbox replay stopped: {result.error}")
    if result.needs_attention:
        raise JobFailed(f"outbox: {result.quarantined_entries} entries quarantined in {outbox.quarantine_path}, "
                        f"{result.rejected_entries} rejected in {outbox.rejected_path}; inspect them, fix the cause, "
                        "then: staktrakr db flush --quarantined --rejected")


@app.command()
@handle_errors
def snapshot(
    out: Annotated[Path, typer.Argument(help="The SQLite file to write (replaced atomically, read-only).")],
    days: Annotated[int, typer.Option("--days", min=0, max=MAX_SNAPSHOT_DAYS,
                                      help="Days of history back from the newest window (1-36500); 0: all.")] = (
        DEFAULT_SNAPSHOT_DAYS),
    force: Annotated[bool, typer.Option("--force", help="Replace OUT even when it is not an earlier snapshot.")] = (
        False),
    json_output: JsonOpt = False,
) -> None:
    """Write the published tables (prices, spot, Goldback, coins; only the columns the API
    publishes) as one read-only SQLite file for offline use. OUT is never the database itself;
    an existing OUT is replaced only when it is an earlier snapshot or with --force (exit 2 otherwise)."""
    from staktrakr.catalog.load import load_run_catalog
    from staktrakr.store.queries.snapshot import check_snapshot_target, write_snapshot

    settings = setup()
    check_snapshot_target(out, settings.database_url, force=force)
    with Store.open(settings) as store:
        try:
            report = write_snapshot(store, out, days or None, settings.spot_bands, load_run_catalog(settings, store))
        except OSError as exc:
            raise JobFailed(f"db snapshot: cannot write {out}: {exc.strerror or exc}") from exc
    if json_output:
        emit_json(report)
        return
    rows = report["rows"]
    console.print(f"{out}: {rows['price_snapshots']} price rows since {report['since'] or 'the start'}, "
                  f"{rows['spot_prices']} spot slots, {rows['goldback_rates']} Goldback rates, "
                  f"{rows['coins']} coins", markup=False)
