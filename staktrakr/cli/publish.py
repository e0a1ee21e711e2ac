"""`staktrakr publish`: build the static JSON API from the database, commit data/, force-push."""

from __future__ import annotations

from typing import Annotated

import typer

from staktrakr.cli.common import DryRunOpt, JsonOpt, console, emit_json, finish_run, handle_errors, setup
from staktrakr.errors import JobFailed
from staktrakr.jobs.publish import PublishOptions, PublishResult, require_database_file, run_publish
from staktrakr.store import Store

NoPushOpt = Annotated[bool, typer.Option("--no-push", help="Commit locally, do not push.")]
FullOpt = Annotated[bool, typer.Option("--full", help="Rebuild the tree even when nothing new is in the database "
                                                      "(after rows were updated in place).")]
SHOWN_PATHS = 20


def _render(result: PublishResult) -> None:
    mode = "would change" if result.dry_run else "changed"
    console.print(f"publish {result.export_dir} (branch {result.branch}); retail generated_at "
                  f"{result.generated_at or '-'}, latest window {result.latest_window or '-'}", markup=False)
    console.print(f"{result.files} files: {len(result.added)} added, {len(result.changed)} {mode}, "
                  f"{len(result.removed)} removed", markup=False)
    for label, paths in (("added", result.added), ("changed", result.changed), ("removed", result.removed)):
        for path in paths[:SHOWN_PATHS]:
            console.print(f"  {label:7} {path}", markup=False)
        if len(paths) > SHOWN_PATHS:
            console.print(f"  ... and {len(paths) - SHOWN_PATHS} more {label}", markup=False)
    for slug, move in result.median_moves.items():
        console.print(f"  median {slug}: {_usd(move['from'])} -> {_usd(move['to'])}", markup=False)
    for note in result.notes:
        console.print(note, markup=False, soft_wrap=True)
    if not result.dry_run:
        console.print(f"commit: {result.commit or 'none (no change)'}; pushed: {_pushed(result)}", markup=False)


def _usd(value: object) -> str:
    """A median for people: "$3,112.40", or "none" where there was none (a new coin, a gap)."""
    return f"${value:,.2f}" if isinstance(value, int | float) else "none"


def _pushed(result: PublishResult) -> str:
    if result.pushed is True:
        return "yes"
    if result.pushed is False:
        return "no (the commit is kept; the next publish pushes it)"
    if result.push_error is not None:
        return "no"
    return f"not attempted ({result.push_skipped})" if result.push_skipped else "not attempted"


def register(app: typer.Typer) -> None:
    @app.command("publish")
    @handle_errors
    def publish(dry_run: DryRunOpt = False, no_push: NoPushOpt = False, full: FullOpt = False,
                json_output: JsonOpt = False) -> None:
        """Build data/ from the database, commit it and force-push to API_BRANCH (default POLLER_ID).

        --dry-run prints the files that would be added/changed/removed and the median moves, touching
        nothing. --full rebuilds even when the watermark says nothing moved (rows updated in place).
        """
        settings = setup()
        require_database_file(settings)
        with Store.open(settings) as store:
            result = run_publish(settings, store, PublishOptions(dry_run=dry_run, push=not no_push, full=full))
        if json_output:
            emit_json(result.to_dict(), settings)
        else:
            _render(result)
        finish_run(result.run, json_output)
        if result.failed:
            raise JobFailed(result.push_error or "publish failed")
