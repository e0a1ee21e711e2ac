"""`staktrakr db`: migrate, status, flush (replay the outbox by hand)."""

from __future__ import annotations

import typer
from rich.table import Table

from staktrakr.cli.common import JsonOpt, console, emit_json, handle_errors, setup
from staktrakr.errors import JobFailed
from staktrakr.store import Store
from staktrakr.store.status import database_status

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
    console.print(f"outbox: {report['outbox']['entries']} entries, {report['outbox']['rows']} rows ({report['outbox']['path']})")


@app.command()
@handle_errors
def flush(json_output: JsonOpt = False) -> None:
    """Replay the outbox into the database now (every job also does this first)."""
    settings = setup()
    with Store.open(settings) as store:
        store.ensure_schema()
        result = store.replay_outbox()
    if json_output:
        emit_json(result.__dict__)
    else:
        console.print(f"outbox: replayed {result.replayed_entries} entries ({result.replayed_rows} rows), "
                      f"{result.remaining_entries} remaining")
    if result.error:
        raise JobFailed(f"outbox replay stopped: {result.error}")
