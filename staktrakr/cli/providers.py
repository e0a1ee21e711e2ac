"""`staktrakr providers`: validate, list and sync the catalog, and edit it one command at a time."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, Any

import typer
from rich.console import Console

from staktrakr.catalog import Target, load_catalog, parse_catalog
from staktrakr.catalog.edit import Edit, add_url, apply, diff, set_enabled, set_rule, set_url, splice
from staktrakr.catalog.load import select_targets
from staktrakr.cli.common import CoinOpt, DryRunOpt, JsonOpt, VendorOpt, console, emit_json, handle_errors, setup
from staktrakr.cli.text import id_column, out_console, table
from staktrakr.errors import ConfigError, JobFailed
from staktrakr.export.files import dump_json, write_text_atomic
from staktrakr.settings import Settings
from staktrakr.store import Store
from staktrakr.store.queries.catalog import catalog_from_db, catalog_to_db

app = typer.Typer(help="The catalog of coins x vendors (providers.json).", no_args_is_help=True)
SlugArg = Annotated[str, typer.Argument(help="Coin slug.", show_default=False)]
VendorArg = Annotated[str, typer.Argument(help="Vendor id.", show_default=False)]
UrlArg = Annotated[str, typer.Argument(help="Product page URL (https://).", show_default=False)]
EDIT_LOCK_WAIT_S = 60.0


@contextmanager
def catalog_edit_lock(settings: Settings) -> Iterator[None]:
    """Hold the host's catalog-edit lock (`catalog-edit.lock` in the lock dir) around a
    read-modify-write of the catalog, so parallel edits apply one after the other instead of
    overwriting each other. Waits up to EDIT_LOCK_WAIT_S seconds; JobFailed (exit 1) after that."""
    from filelock import FileLock, Timeout

    settings.lock_dir.mkdir(parents=True, exist_ok=True)
    path = settings.lock_dir / "catalog-edit.lock"
    try:
        with FileLock(str(path), timeout=EDIT_LOCK_WAIT_S, thread_local=False, is_singleton=False):
            yield
    except Timeout:
        raise JobFailed(f"catalog edit: another edit held {path} for {EDIT_LOCK_WAIT_S:g} s; try again") from None


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
    dry_run: DryRunOpt = False,
    json_output: JsonOpt = False,
) -> None:
    """Copy the catalog between providers.json and the database tables (--dry-run: show the diff only)."""
    if to_db == from_db:
        raise ConfigError("providers sync: give exactly one of --to-db or --from-db")
    settings = setup()
    with catalog_edit_lock(settings):
        result, changes = _sync(settings, to_db, dry_run)
    if dry_run:
        result.update(dry_run=True, diff=changes)
    if json_output:
        emit_json(result)
        return
    if dry_run:
        console.print(changes or "no change", markup=False, highlight=False, end="")
    verb = "would write" if dry_run else "wrote"
    console.print(f"providers sync {result['direction']}: {verb} {result['coins']} coins, "
                  f"{result['vendors']} vendor rows", markup=False, highlight=False)


def _sync(settings: Settings, to_db: bool, dry_run: bool) -> tuple[dict[str, Any], str]:
    catalog = load_catalog(settings.providers_file)
    with Store.open(settings) as store:
        store.ensure_schema()
        defaults = catalog.vendors["default"].model_dump()
        if to_db:
            try:
                before = dump_json(catalog_from_db(store, defaults=defaults).to_json_data())
            except ConfigError:  # empty tables
                before = ""
            tables_part = catalog.model_copy(update={"feeds": {}}).to_json_data()  # the tables hold no feeds
            changes = diff(before, dump_json(tables_part), f"database {store.db.display}")
            counts = ({"coins": len(catalog.coins), "vendors": sum(len(c.providers) for c in catalog.coins.values())}
                      if dry_run else catalog_to_db(store, catalog))
            result: dict[str, Any] = {"direction": "to-db", **counts}
        else:
            loaded = catalog_from_db(store, defaults=defaults)
            merged = loaded.model_copy(update={"vendors": {**catalog.vendors, **loaded.vendors},
                                               "feeds": catalog.feeds})  # the tables hold no feeds
            text = dump_json(merged.to_json_data())
            changes = diff(settings.providers_file.read_text(encoding="utf-8"), text, str(settings.providers_file))
            if not dry_run:
                write_text_atomic(settings.providers_file, text)
            result = {"direction": "from-db", "coins": len(loaded.coins),
                      "vendors": sum(len(c.providers) for c in loaded.coins.values())}
    return result, changes


def edit_catalog(make: Callable[[dict[str, Any]], Edit], dry_run: bool, json_output: bool) -> None:
    """Make one edit in the catalog STAKTRAKR_CATALOG_SOURCE picks: validated like the file, written
    (providers.json with its formatting kept, or the tables) unless `dry_run`, the diff shown. The
    read-modify-write holds the catalog-edit lock (parallel edits all apply); an edit that changes
    nothing says so and exits 0."""
    settings = setup()
    if dry_run:
        source, edit, changes = _edit(settings, make, dry_run)
    else:
        with catalog_edit_lock(settings):
            source, edit, changes = _edit(settings, make, dry_run)
    if json_output:
        emit_json({"source": source, "change": edit.summary, "changed": bool(changes), "dry_run": dry_run,
                   "diff": changes})
        return
    if not changes:
        console.print(f"no change: {edit.unchanged or edit.summary} ({source})", markup=False, highlight=False)
        return
    console.print(changes, markup=False, highlight=False, end="")
    console.print(f"{'would change' if dry_run else 'changed'} {source}: {edit.summary}", markup=False,
                  highlight=False)


def _edit(settings: Settings, make: Callable[[dict[str, Any]], Edit], dry_run: bool) -> tuple[str, Edit, str]:
    """Read, edit, validate and (unless `dry_run`) write the catalog; (source, edit, diff)."""
    if settings.catalog_source == "db":
        with Store.open(settings) as store:
            defaults = load_catalog(settings.providers_file).vendors["default"].model_dump()
            data = catalog_from_db(store, defaults=defaults).to_json_data()
            source = f"database {store.db.display}"
            edit = make(data)
            updated = apply(data, edit, source)
            changes = diff(dump_json(data), dump_json(updated), source)
            if not dry_run:
                catalog_to_db(store, parse_catalog(updated, source))
    else:
        path = settings.providers_file
        load_catalog(path)  # the file as it is must be valid before it is edited
        text = path.read_bytes().decode("utf-8")  # newlines as they are (CRLF kept)
        source = str(path)
        edit = make(json.loads(text))
        updated = apply(json.loads(text), edit, source)
        after = splice(text, edit)
        if json.loads(after) != updated:  # the splice must write exactly the validated catalog
            raise ConfigError(f"{path}: could not write the change in place; edit the file by hand")
        changes = diff(text, after, source)
        if not dry_run and after != text:
            write_text_atomic(path, after)
    return source, edit, changes


@app.command()
@handle_errors
def enable(slug: SlugArg, vendor: VendorArg, dry_run: DryRunOpt = False, json_output: JsonOpt = False) -> None:
    """Enable the (coin, vendor) target."""
    edit_catalog(lambda data: set_enabled(data, slug, vendor, True), dry_run, json_output)


@app.command()
@handle_errors
def disable(slug: SlugArg, vendor: VendorArg, dry_run: DryRunOpt = False, json_output: JsonOpt = False) -> None:
    """Disable the (coin, vendor) target (scrape and retry skip it; its entry stays)."""
    edit_catalog(lambda data: set_enabled(data, slug, vendor, False), dry_run, json_output)


@app.command("set-url")
@handle_errors
def set_url_command(
    slug: SlugArg, vendor: VendorArg, url: UrlArg,
    index: Annotated[int, typer.Option("--index", help="Which of the target's URLs (0: the first).")] = 0,
    dry_run: DryRunOpt = False, json_output: JsonOpt = False,
) -> None:
    """Replace one URL of the (coin, vendor) target."""
    edit_catalog(lambda data: set_url(data, slug, vendor, url, index), dry_run, json_output)


@app.command("add-url")
@handle_errors
def add_url_command(slug: SlugArg, vendor: VendorArg, url: UrlArg, dry_run: DryRunOpt = False,
                    json_output: JsonOpt = False) -> None:
    """Add a URL to the (coin, vendor) target, tried after its others."""
    edit_catalog(lambda data: add_url(data, slug, vendor, url), dry_run, json_output)


@app.command("set-rule")
@handle_errors
def set_rule_command(
    vendor: VendorArg,
    field: Annotated[str, typer.Argument(help="A vendor rule: fetchers, wait_ms, proxy, price_columns, ...",
                                         show_default=False)],
    value: Annotated[str, typer.Argument(help="The value: comma-separated for a list, else a number, true/false "
                                              "or a word.", show_default=False)],
    append: Annotated[bool, typer.Option("--append", help="Add VALUE to a list rule instead of replacing it.")] = False,
    dry_run: DryRunOpt = False, json_output: JsonOpt = False,
) -> None:
    """Set one rule of the vendor's entry in the `vendors` section (fetcher order, proxy, price columns...)."""
    edit_catalog(lambda data: set_rule(data, vendor, field, value, append), dry_run, json_output)
