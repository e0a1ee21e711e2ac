"""`staktrakr diagnose`: every fetcher and egress on one target's pages, every reading, the fix."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from staktrakr.cli.common import JsonOpt, console, emit_json, handle_errors, setup
from staktrakr.errors import ConfigError

if TYPE_CHECKING:
    from staktrakr.jobs.diagnose import Diagnosis

READINGS_SHOWN = 12


def render(diagnosis: Diagnosis) -> None:
    """The probes table, each read page's readings with their verdicts, the outcome and the suggestions."""
    out = console if console.is_terminal else Console(width=200, soft_wrap=True)
    out.print(f"{diagnosis.coin_slug} / {diagnosis.vendor_id}: fetchers {','.join(diagnosis.fetchers)}, "
              f"proxy {diagnosis.proxy_rule} (HOME_PROXY_URL {'set' if diagnosis.proxy_configured else 'unset'}), "
              f"sanity band {diagnosis.band}", markup=False, highlight=False)
    table = Table("url", "fetcher", "egress", "status", "final url", "size", "time", "result")
    for probe in diagnosis.probes:
        table.add_row(str(diagnosis.urls.index(probe.url) + 1), probe.fetcher, "proxy" if probe.via_proxy else "direct",
                      "-" if probe.status is None else str(probe.status),
                      probe.final_url if probe.final_url and probe.final_url != probe.url else "",
                      f"{probe.size_bytes:,}", f"{probe.elapsed_ms / 1000:.1f}s", probe.result_line())
    out.print(table)
    for probe in diagnosis.probes:
        if probe.finding is None:
            continue
        egress = "proxy" if probe.via_proxy else "direct"
        out.print(f"\n{probe.fetcher} {egress}: decision: {probe.finding.decision or '-'}", markup=False,
                  highlight=False)
        out.print(f"  stock: {probe.finding.stock_evidence or 'no stock signal'}", markup=False, highlight=False)
        readings = Table("amount", "cur", "role", "locus", "rule", "verdict", "evidence")
        for reading in probe.finding.readings[:READINGS_SHOWN]:
            readings.add_row(f"{reading['amount']:,.2f}", str(reading["currency"]), str(reading["role"]),
                             str(reading["locus"]), str(reading["rule"]), str(reading["verdict"]),
                             str(reading["evidence"])[:60])
        if probe.finding.readings:
            out.print(readings)
        hidden = len(probe.finding.readings) - READINGS_SHOWN
        if hidden > 0:
            out.print(f"  ... {hidden} more readings (--json shows all)", markup=False, highlight=False)
    out.print(f"\noutcome with the current catalog: {diagnosis.outcome}", markup=False, highlight=False)
    for suggestion in diagnosis.suggestions:
        out.print(f"suggestion: {suggestion.reason}\n  {suggestion.command}", markup=False, highlight=False)
    if not diagnosis.suggestions:
        out.print("no catalog change suggested (the cause is not one diagnose can fix by itself)", markup=False,
                  highlight=False)
    if diagnosis.saved_dir:
        out.print(f"pages saved in {diagnosis.saved_dir}", markup=False, highlight=False)


def save_option(value: str | None) -> Path | None:
    """`--save DIR` as a path: ConfigError (exit 2, naming --save) when it is empty or names an
    existing file (or lies under one) instead of a directory that is or can be made."""
    if value is None:
        return None
    if not value.strip():
        raise ConfigError("--save: give a directory to save the pages in (got an empty value)")
    path = Path(value).expanduser()
    existing = path
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if existing.exists() and not existing.is_dir():
        what = "is" if existing == path else f"lies under {existing}, which is"
        raise ConfigError(f"--save {value}: {what} a file, not a directory; give a directory")
    return path


def register(app: typer.Typer) -> None:
    @app.command("diagnose")
    @handle_errors
    def diagnose_command(
        coin: Annotated[str, typer.Option("--coin", help="Coin slug of the target.", show_default=False)],
        vendor: Annotated[str, typer.Option("--vendor", help="Vendor id of the target.", show_default=False)],
        url: Annotated[list[str] | None, typer.Option(
            "--url", help="Probe this URL instead of the catalog's (repeatable).", show_default=False)] = None,
        save: Annotated[str | None, typer.Option(
            "--save", help="Save pages and screenshots here (default var/diagnose/<coin>-<vendor>-<time>).",
            show_default=False)] = None,
        json_output: JsonOpt = False,
    ) -> None:
        """Fetch one target with every fetcher (direct and through the proxy), show every price reading and
        why it won or lost, save the pages, and print the `providers` command that fixes a clear cause."""
        from staktrakr.catalog.load import load_run_catalog
        from staktrakr.jobs.diagnose import default_save_dir, diagnose_target
        from staktrakr.store import Store
        from staktrakr.store.queries.spot import latest_spot

        save_dir = save_option(save)
        settings = setup()
        with Store.open(settings) as store:
            target = load_run_catalog(settings, store).target(coin, vendor)
            spot = latest_spot(store, settings.spot_bands)
        if not (url or target.urls):
            raise ConfigError(f"diagnose: {coin} / {vendor} has no URL in the catalog; give one with --url")
        for given in url or []:
            if not given.startswith(("http://", "https://")):
                raise ConfigError(f"--url {given}: expected an http:// or https:// URL")
        diagnosis = diagnose_target(settings, target, spot, save_dir or default_save_dir(settings, target), url)
        if json_output:
            emit_json(diagnosis.to_json(), settings)
        else:
            render(diagnosis)
