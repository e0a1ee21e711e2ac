"""`staktrakr merge`: fold the poller branches' data/ into main (push with lease, retry)."""

from __future__ import annotations

from typing import Annotated

import typer

from staktrakr.cli.common import DryRunOpt, JsonOpt, console, emit_json, finish_run, handle_errors, setup
from staktrakr.jobs.merge import MergeOptions, MergeResult, run_merge
from staktrakr.store import Store

BranchesOpt = Annotated[str | None, typer.Option("--branches", help="Source branches, comma-separated "
                                                    "(default MERGE_BRANCHES).", show_default=False)]
IntoOpt = Annotated[str | None, typer.Option("--into", help="Target branch (default MERGE_INTO).",
                                                show_default=False)]
SHOWN_PATHS = 20


def _render(result: MergeResult) -> None:
    for name, head in result.used.items():
        console.print(f"  using   {name} @ {head[:12]}", markup=False)
    for name, reason in result.skipped.items():
        console.print(f"  skipped {name}: {reason}", markup=False)
    if result.nothing_to_do:
        console.print(f"{result.into}: nothing to do (already the merge of these heads)", markup=False)
        return
    verb = "would change" if result.dry_run else "changed"
    console.print(f"{result.into}: {len(result.added)} added, {len(result.changed)} {verb}, "
                  f"{len(result.removed)} removed", markup=False)
    for label, paths in (("added", result.added), ("changed", result.changed), ("removed", result.removed)):
        for path in paths[:SHOWN_PATHS]:
            console.print(f"  {label:7} {path}", markup=False)
    if result.commit:
        console.print(f"commit {result.commit} pushed to {result.into} (attempt {result.attempts})", markup=False)


def register(app: typer.Typer) -> None:
    @app.command("merge")
    @handle_errors
    def merge(branches: BranchesOpt = None, into: IntoOpt = None, dry_run: DryRunOpt = False,
              json_output: JsonOpt = False) -> None:
        """Merge the poller branches' data/ into main: freshest observation per vendor, medians
        recomputed, spot and Goldback files unioned. A bad branch is reported and skipped."""
        settings = setup()
        names = [b.strip() for b in branches.split(",") if b.strip()] if branches else None
        with Store.open(settings) as store:
            result = run_merge(settings, MergeOptions(branches=names, into=into, dry_run=dry_run), store)
        if json_output:
            emit_json(result.to_dict(), settings)
        else:
            _render(result)
        finish_run(result.run, json_output)
