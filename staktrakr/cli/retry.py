"""`staktrakr retry`: re-scrape this poller's failed targets of a window and render the result."""

from __future__ import annotations

from typing import Annotated

import typer

from staktrakr.cli.common import DryRunOpt, EvidenceOpt, JsonOpt, console, emit_json, finish_run, handle_errors, setup
from staktrakr.cli.scrape import finish, progress_display

WindowOpt = Annotated[str | None, typer.Option(
    "--window", help="Window to retry, e.g. 2026-03-15T17:30:00Z (default: the current window).", show_default=False)]


def register(app: typer.Typer) -> None:
    @app.command("retry")
    @handle_errors
    def retry_command(window: WindowOpt = None, dry_run: DryRunOpt = False, keep_evidence: EvidenceOpt = False,
                      json_output: JsonOpt = False) -> None:
        """Re-scrape the targets whose latest row in the window failed (fallback fetchers first)."""
        from staktrakr.catalog.load import load_run_catalog
        from staktrakr.jobs.retry import check_window, run_retry
        from staktrakr.store import Store

        if window:
            check_window(window)
        settings = setup()
        with Store.open(settings) as store:
            targets = load_run_catalog(settings, store).targets()
            with progress_display(None, "retry", not json_output) as progress:
                result = run_retry(settings, store, targets, window=window, dry_run=dry_run, progress=progress,
                                   keep_evidence=True if keep_evidence else None)
        if result.scrape is None:
            if json_output:
                emit_json(result.to_json())
            else:
                console.print(f"retry: nothing to retry in window {result.window_start}"
                              + (f" ({len(result.not_in_catalog)} failed targets no longer in the catalog)"
                                 if result.not_in_catalog else ""), markup=False, highlight=False)
            finish_run(result.run, json_output)
            return
        finish(result.scrape, json_output, json_payload=result.to_json())
