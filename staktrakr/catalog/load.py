"""The one catalog loader every command uses: scrape, retry, publish, status, goldback and `providers list`.

STAKTRAKR_CATALOG_SOURCE picks where the coins and vendor listings come from: `file` (default,
PROVIDERS_FILE) or `db` (the provider_coins / provider_vendors tables the old dashboard edits).
The tables hold no `vendors.default`, so a database catalog always takes the file's: the same
coin and vendor get the same fetchers, waits and reading rules whichever source is chosen. The
tables hold no `feeds` either (goldback.com's page): those always come from the file.
"""

from __future__ import annotations

import logging

from staktrakr.catalog.model import Catalog, FeedPage, Target, load_catalog
from staktrakr.errors import StoreUnavailable
from staktrakr.settings import Settings
from staktrakr.store import Store
from staktrakr.store.queries.catalog import catalog_from_db

log = logging.getLogger(__name__)


def load_run_catalog(settings: Settings, store: Store) -> Catalog:
    """The catalog of the configured source. The file is always read (a DB catalog takes its
    `vendors.default`); the database only with STAKTRAKR_CATALOG_SOURCE=db. With the database
    unreachable the file's catalog is used, with a warning (a down database must not stop the
    scrape: its rows go to the outbox). Raises ConfigError (file or tables invalid, one line
    naming which), StatementRejected (the tables cannot be read)."""
    file_catalog = load_catalog(settings.providers_file)
    if settings.catalog_source != "db":
        return file_catalog
    try:
        from_tables = catalog_from_db(store, defaults=file_catalog.vendors["default"].model_dump())
    except StoreUnavailable as exc:
        log.warning("catalog: the database catalog cannot be read (%s); using %s instead", exc,
                    settings.providers_file)
        return file_catalog
    return from_tables.model_copy(update={"feeds": file_catalog.feeds})


def load_feed(settings: Settings, feed_id: str) -> FeedPage:
    """The file's `feeds.<feed_id>` entry (its URL and fetch rules), whichever catalog source is
    configured: reading it needs no database. Raises ConfigError (file invalid, or no such entry)."""
    return load_catalog(settings.providers_file).feed_page(feed_id)


def select_targets(settings: Settings, store: Store, coins: list[str] | None,
                   vendors: list[str] | None) -> list[Target]:
    """The enabled targets of the configured catalog, filtered by coin slugs and vendor ids (None: all)."""
    return load_run_catalog(settings, store).targets(coins, vendors)
