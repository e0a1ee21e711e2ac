"""Which targets a scrape or retry reads: the catalog from the file (default) or the database tables."""

from __future__ import annotations

from staktrakr.catalog.model import Catalog, Target, load_catalog
from staktrakr.settings import Settings
from staktrakr.store import Store
from staktrakr.store.queries.catalog import catalog_from_db


def load_run_catalog(settings: Settings, store: Store) -> Catalog:
    """STAKTRAKR_CATALOG_SOURCE=db reads provider_coins/provider_vendors (vendor defaults from the file)."""
    file_catalog = load_catalog(settings.providers_file)
    if settings.catalog_source != "db":
        return file_catalog
    return catalog_from_db(store, defaults=file_catalog.vendors["default"].model_dump())


def select_targets(settings: Settings, store: Store, coins: list[str] | None, vendors: list[str] | None) -> list[Target]:
    return load_run_catalog(settings, store).targets(coins, vendors)
