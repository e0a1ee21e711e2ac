"""`staktrakr goldback`: store today's Goldback G1 exchange rate under the publisher's effective date."""

from __future__ import annotations

import typer

from staktrakr.cli.common import DryRunOpt, JsonOpt, console, emit_json, finish_run, handle_errors, setup
from staktrakr.jobs.goldback import run_goldback
from staktrakr.store import Store


def register(app: typer.Typer) -> None:
    @app.command("goldback")
    @handle_errors
    def goldback(json_output: JsonOpt = False, dry_run: DryRunOpt = False) -> None:
        """Read "1 Goldback = $X" from goldback.com (providers.json feeds.goldback: its URL, fetchers and
        wait; GOLDBACK_URL overrides the URL), check it against gold spot, store it for the effective date
        (rates change business days 10:00 Mountain time).
        Exit 1 with what each fetcher saw when the page holds no usable rate: nothing is stored."""
        settings = setup()
        with Store.open(settings) as store:
            result = run_goldback(settings, store, dry_run=dry_run)
        if json_output:
            emit_json(result.to_dict(), settings)
        else:
            rate = f"${result.g1_usd:.2f}" if result.g1_usd is not None else "-"
            line = f"goldback {result.date}: G1 {rate} ({result.status}"
            if result.fetcher:
                line += f", {result.fetcher} {result.method}: {result.evidence}"
            console.print(line + ")", markup=False)
        finish_run(result.run, json_output)
