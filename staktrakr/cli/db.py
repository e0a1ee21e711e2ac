"""`staktrakr db`: migrate, status, flush (replay the outbox by hand)."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from staktrakr.cli.common import JsonOpt, console, emit_json, err_console, handle_errors, setup
from staktrakr.errors import JobFailed
from staktrakr.log import shorten
from staktrakr.store import Store
from staktrakr.store.queries.status import database_status
from staktrakr.store.session import count_journal_problems

app = typer.Typer(help="Database: schema migrations, status, outbox flush.", no_args_is_help=True)


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
    """Tables, row counts, newest window, migrations and outbox size."""
    settings = setup()
    with Store.open(settings) as store:
        report = database_status(store)
    if json_output:
        emit_json(report)
        return
    console.print(f"database: {report['database']}  reachable: {report['reachable']}")
    if report.get("error"):
        console.print(f"  {report['error']}", markup=False)
    table = Table("table", "rows")
    for name, count in report["tables"].items():
        table.add_row(name, "-" if count is None else str(count))
    console.print(table)
    console.print(f"schema version: {report['schema_version']}  newest window: {report['newest_window']}")
    render_local_state(report["outbox"], report["journals"], console)


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
    """Journals of killed runs waiting to be queued, of runs in progress, and strangers in the folder."""
    if journals["abandoned"]:
        out.print(f"journals: {len(journals['abandoned'])} of killed runs waiting in {journals['path']} "
                  f"({', '.join(journals['abandoned'][:5])}); the next job queues them, or: staktrakr db flush",
                  markup=False, highlight=False)
    if journals["running"]:
        out.print(f"journals: {len(journals['running'])} of runs in progress ({', '.join(journals['running'][:5])})",
                  markup=False, highlight=False)
    for path in journals["not_journals"]:
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
