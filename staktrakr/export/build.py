"""Publish's whole tree from the database: reads (store/queries) through the builders (tree.py).

Two files also keep what the database does not hold: spot-history-YYYY.json keeps its older
seed entries (the LBMA series), goldback-YYYY.json its dates from before goldback_rates; for a
date the database covers, the database wins. So the tree is a function of the database and the
previous tree, and the same inputs always give the same bytes.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from staktrakr.catalog import Catalog
from staktrakr.export.goldback import days_from_year_doc
from staktrakr.export.history import history_entry
from staktrakr.export.retail import coins_meta, providers_doc, retail_providers_doc
from staktrakr.export.spot import entries_from_doc, spot_files, spot_history_doc
from staktrakr.export.tree import RetailInputs, goldback_files, read_existing, render_all, retail_files
from staktrakr.settings import Settings
from staktrakr.store import Store
from staktrakr.store.queries.goldback import read_goldback
from staktrakr.store.queries.prices import PriceReads, read_retail
from staktrakr.store.queries.spot import read_spot

log = logging.getLogger(__name__)


@dataclass
class BuiltTree:
    texts: dict[str, bytes] = field(default_factory=dict)  # path under data/ -> file bytes
    generated_at: str | None = None
    latest_window: str | None = None
    medians: dict[str, Any] = field(default_factory=dict)  # slug -> median_price
    reads: PriceReads | None = None  # what the build read from price_snapshots (reused by the next one)


def _kept(data_dir: Path, path: str, parse: Any) -> list[Any]:
    existing = read_existing(data_dir, path)
    if existing is None:
        return []
    try:
        parsed: list[Any] = parse(existing)
        return parsed
    except ValueError as exc:
        log.warning("%s: existing file not understood (%s); rebuilt from the database only", path, exc)
        return []


def build_tree(store: Store, settings: Settings, catalog: Catalog | None, data_dir: Path,
               previous: PriceReads | None = None) -> BuiltTree:
    """Every file of the tree (path under data/ -> bytes) from the database and the files already
    in `data_dir`, reusing what an earlier build read from the same database (`previous`: the
    per-date aggregates and the last day's newest rows, see store/queries/prices.py); raises
    StoreUnavailable / StatementRejected when the database cannot be read."""
    bands = settings.spot_bands
    files: dict[str, Any] = {}
    built = BuiltTree()

    def published_count(hour: str) -> int | None:  # "YYYY-MM-DDTHH" -> entries in its hourly file
        # one "timestamp" key per entry (export/spot.py entry_doc): counted in the bytes, not parsed,
        # for the week of hours asked each time; the files are the last commit's (jobs/publish.py)
        try:
            published = (data_dir / f"hourly/{hour[:10].replace('-', '/')}/{hour[11:13]}.json").read_bytes()
        except OSError:
            return None
        return published.count(b'"timestamp":')

    retail = read_retail(store, previous)
    built.reads = retail.reads
    if retail.latest_window and retail.generated_at and retail.last_date:
        histories = {
            slug: {day: entry for day, vendors in days.items() if (entry := history_entry(day, vendors))}
            for slug, days in retail.history.items()
        }
        files.update(retail_files(RetailInputs(
            generated_at=retail.generated_at,
            latest_window=retail.latest_window,
            window_count=retail.window_count,
            last_date=retail.last_date,
            snapshots=retail.snapshots,
            histories=histories,
            coins_meta=coins_meta(catalog) if catalog else {},
            providers=providers_doc(catalog) if catalog else None,
            retail_providers=retail_providers_doc(catalog) if catalog else None,
        )))
        built.generated_at, built.latest_window = retail.generated_at, retail.latest_window
        built.medians = {slug: doc["median_price"] for slug, doc in files["api/latest.json"]["coins"].items()}

    spot = read_spot(store.db, settings.publish_spot_hours, bands, published_count)
    files.update(spot_files(spot.slots, bands))
    for year, fresh in sorted(spot.seed_by_year.items()):
        path = f"spot-history-{year}.json"
        files[path] = spot_history_doc(_kept(data_dir, path, entries_from_doc), fresh, year, bands)

    goldback_days = read_goldback(store)
    kept_days = []
    for year in sorted({day.date[:4] for day in goldback_days}):
        kept_days += _kept(data_dir, f"goldback-{year}.json", days_from_year_doc)
    files.update(goldback_files([*kept_days, *goldback_days]))

    built.texts = render_all(files)
    return built
