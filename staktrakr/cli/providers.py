"""`staktrakr providers`: validate, list and sync the catalog."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

from staktrakr.catalog import Target, load_catalog
from staktrakr.catalog.load import select_targets
from staktrakr.cli.common import CoinOpt, JsonOpt, VendorOpt, console, emit_json, handle_errors, setup
from staktrakr.cli.text import id_column, out_console, table
from staktrakr.errors import ConfigError
from staktrakr.export.files import write_json_atomic
from staktrakr.store import Store
from staktrakr.store.queries.catalog import catalog_from_db, catalog_to_db

app = typer.Typer(help="The catalog of coins x vendors (providers.json).", no_args_is_help=True)


@app.command()
@handle_errors
def validate(json_output: JsonOpt = False) -> None:
    """Check providers.json; exit 2 with the JSON path and reason when it is broken."""
    settings = setup()
    catalog = load_catalog(settings.providers_file)
    targets = catalog.targets()
    summary = {"file": str(settings.providers_file), "coins": len(catalog.coins), "targets": len(targets),
               "vendors": len({t.vendor_id for t in targets})}
    if json_output:
        emit_json(summary)
    else:
        console.print(f"{summary['file']}: ok, {summary['coins']} coins, {summary['targets']} enabled targets, "
                      f"{summary['vendors']} vendors")


@app.command("list")
@handle_errors
def list_targets(coin: CoinOpt = None, vendor: VendorOpt = None, json_output: JsonOpt = False) -> None:
    """List the enabled targets (coin, vendor, fetchers, URL) of the catalog STAKTRAKR_CATALOG_SOURCE picks."""
    settings = setup()
    with Store.open(settings) as store:
        targets = select_targets(settings, store, coin, vendor)
    if json_output:
        emit_json([{"coin": t.coin.slug, "metal": t.coin.metal, "weight_oz": t.coin.weight_oz, "vendor": t.vendor_id,
                    "fetchers": t.rules.fetchers, "urls": list(t.urls)} for t in targets])
        return
    render_targets(targets, out_console(console))


def render_targets(targets: list[Target], out: Console) -> None:
    """A table when the longest row fits the console; otherwise one line per target with its URL on
    the next line (printed whole: the terminal may wrap it, nothing cuts it)."""
    rows = [(t.coin.slug, t.vendor_id, ",".join(t.rules.fetchers), t.urls[0]) for t in targets]
    widths = [max([len(header), *(len(row[i]) for row in rows)]) for i, header in
              enumerate(("coin", "vendor", "fetchers", "url"))]
    if sum(widths) + 3 * (len(widths) - 1) <= out.width:  # 3: padding and rule between columns
        grid = table()
        for index, header in enumerate(("coin", "vendor", "fetchers", "url")):
            id_column(grid, header, [row[index] for row in rows])
        for row in rows:
            grid.add_row(*row)
        out.print(grid)
    else:
        coin_width, vendor_width = widths[0], widths[1]
        for coin, vendor, fetchers, url in rows:
            out.print(f"{coin:<{coin_width}}  {vendor:<{vendor_width}}  {fetchers}", markup=False, highlight=False)
            out.print(f"  {url}", markup=False, highlight=False, soft_wrap=True)
    out.print(f"{len(targets)} targets", highlight=False)


@app.command()
@handle_errors
def sync(
    to_db: Annotated[bool, typer.Option(
        "--to-db", help="Write the file's catalog into provider_coins/provider_vendors.")] = False,
    from_db: Annotated[bool, typer.Option(
        "--from-db", help="Rewrite the file from the tables (keeps the vendors section).")] = False,
    json_output: JsonOpt = False,
) -> None:
    """Copy the catalog between providers.json and the database tables."""
    if to_db == from_db:
        raise ConfigError("providers sync: give exactly one of --to-db or --from-db")
    settings = setup()
    catalog = load_catalog(settings.providers_file)
    with Store.open(settings) as store:
        store.ensure_schema()
        if to_db:
            counts = catalog_to_db(store, catalog)
            result = {"direction": "to-db", **counts}
        else:
            loaded = catalog_from_db(store, defaults=catalog.vendors["default"].model_dump())
            merged = loaded.model_copy(update={"vendors": {**catalog.vendors, **loaded.vendors},
                                               "feeds": catalog.feeds})  # the tables hold no feeds
            write_json_atomic(settings.providers_file, merged.to_json_data())
            result = {"direction": "from-db", "coins": len(loaded.coins),
                      "vendors": sum(len(c.providers) for c in loaded.coins.values())}
    if json_output:
        emit_json(result)
    else:
        console.print(f"providers sync {result['direction']}: {result['coins']} coins, {result['vendors']} vendor rows")
