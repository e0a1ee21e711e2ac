"""`staktrakr providers`: validate, list and sync the catalog."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from staktrakr.catalog import load_catalog
from staktrakr.catalog.load import select_targets
from staktrakr.cli.common import CoinOpt, JsonOpt, VendorOpt, console, emit_json, handle_errors, setup
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
    table = Table("coin", "vendor", "fetchers", "url")
    for t in targets:
        table.add_row(t.coin.slug, t.vendor_id, ",".join(t.rules.fetchers), t.urls[0])
    console.print(table)
    console.print(f"{len(targets)} targets")


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
            write_json_atomic(settings.providers_file, merged.to_json_data(), durable=True)
            result = {"direction": "from-db", "coins": len(loaded.coins),
                      "vendors": sum(len(c.providers) for c in loaded.coins.values())}
    if json_output:
        emit_json(result)
    else:
        console.print(f"providers sync {result['direction']}: {result['coins']} coins, {result['vendors']} vendor rows")
