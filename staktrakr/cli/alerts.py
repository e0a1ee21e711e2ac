"""`staktrakr alerts`: evaluate the alert rules against the shared database and notify (ops/alerts.py)."""

from __future__ import annotations

import typer

from staktrakr.cli.common import DryRunOpt, JsonOpt, console, emit_json, err_console, handle_errors, setup
from staktrakr.errors import JobFailed


def register(app: typer.Typer) -> None:
    @app.command("alerts")
    @handle_errors
    def alerts_command(dry_run: DryRunOpt = False, json_output: JsonOpt = False) -> None:
        """Evaluate the alert rules (stale feeds, failing vendors and jobs, stuck runs, outbox, price jumps)
        and notify ALERT_URLS through Apprise: once, again every ALERT_REPEAT, and when resolved."""
        from staktrakr.ops.alerts import run_alerts
        from staktrakr.store import Store

        settings = setup()
        with Store.open(settings) as store:
            result = run_alerts(settings, store, dry_run=dry_run)
        if json_output:
            emit_json(result.to_json(), settings)
        else:
            for alert in result.active:
                state = ("sent" if alert["key"] in result.sent else "failed" if alert["key"] in result.failed
                         else "held (sent recently)")
                verb = "would send" if (dry_run or not result.notify) and state == "sent" else state
                console.print(f"{alert['key']}: {alert['detail']} [{verb}]", markup=False, highlight=False)
            for key in result.resolved:
                console.print(f"{key}: resolved [{'would send' if dry_run or not result.notify else 'sent'}]",
                              markup=False, highlight=False)
            console.print(f"alerts: {len(result.active)} active, {len(result.sent)} "
                          f"{'to send' if dry_run or not result.notify else 'sent'}, {len(result.resolved)} resolved"
                          + (" (dry run: nothing sent or recorded)" if dry_run else ""),
                          markup=False, highlight=False)
            if result.catalog_error:
                err_console.print(f"warning: catalog rules skipped: {result.catalog_error}", markup=False,
                                  highlight=False)
            if not result.notify and not dry_run:
                err_console.print("warning: ALERT_URLS is not set: nothing sent or recorded", markup=False,
                                  highlight=False)
        if result.database_error:
            raise JobFailed(f"alerts: the database cannot be read ({result.database_error}); only this host's "
                            "database_unreachable alert was evaluated")
        if result.failed:
            raise JobFailed(f"alerts: {len(result.failed)} notification(s) not delivered ({', '.join(result.failed)}); "
                            "the next run tries again")
