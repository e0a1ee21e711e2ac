"""Sync the catalog with the existing `provider_coins` / `provider_vendors` tables.

The file is the default source; the tables are what the old dashboard edits. Vendor rules
(non-default values) and extra URLs travel in `provider_vendors.hints` as JSON.
"""

from __future__ import annotations

import json
from typing import Any

from staktrakr.catalog import Catalog, parse_catalog
from staktrakr.errors import ConfigError
from staktrakr.log import shorten
from staktrakr.store.database import Statement
from staktrakr.store.session import Store
from staktrakr.timeutil import iso_z, utcnow


def catalog_to_db(store: Store, catalog: Catalog) -> dict[str, int]:
    """Upsert every coin and vendor row in one batch; rows not in the catalog are left as they are.
    Returns {"coins": coins written, "vendors": vendor rows written}."""
    now = iso_z(utcnow())
    statements: list[Statement] = []
    vendor_rows = 0
    for slug, coin in sorted(catalog.coins.items()):
        statements.append((
            "INSERT INTO provider_coins (slug, metal, name, weight_oz, enabled, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, 1, ?, ?) ON CONFLICT(slug) DO UPDATE SET metal = excluded.metal, "
            "name = excluded.name, weight_oz = excluded.weight_oz, updated_at = excluded.updated_at",
            (slug, coin.metal, coin.name, coin.weight_oz, now, now),
        ))
        for listing in coin.providers:
            urls = listing.all_urls
            hints: dict[str, Any] = {}
            overrides = catalog.vendor_overrides(listing.id)
            if overrides:
                hints["rules"] = overrides
            if len(urls) > 1:
                hints["urls"] = urls[1:]
            statements.append((
                "INSERT INTO provider_vendors"
                " (coin_slug, vendor_id, vendor_name, url, enabled, hints, created_at, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(coin_slug, vendor_id) DO UPDATE SET "
                "vendor_name = excluded.vendor_name, url = excluded.url, enabled = excluded.enabled, "
                "hints = excluded.hints, updated_at = excluded.updated_at",
                (slug, listing.id, listing.name, urls[0] if urls else None, int(listing.enabled),
                 json.dumps(hints, sort_keys=True) if hints else None, now, now),
            ))
            vendor_rows += 1
    store.db.batch(statements)
    return {"coins": len(catalog.coins), "vendors": vendor_rows}


def catalog_from_db(store: Store, defaults: dict[str, Any] | None = None) -> Catalog:
    """Build the catalog from the tables (enabled coins only), validated like the file, with
    `defaults` as `vendors.default` (the file's, so rules the tables do not hold match the file).
    Raises ConfigError (naming the database) for invalid rows or no coins, StoreUnavailable /
    StatementRejected when the tables cannot be read."""
    db = store.db
    coins: dict[str, Any] = {}
    for row in db.query("SELECT slug, metal, name, weight_oz FROM provider_coins WHERE enabled = 1 ORDER BY slug"):
        coins[row["slug"]] = {"name": row["name"], "metal": row["metal"], "weight_oz": row["weight_oz"],
                              "providers": []}
    vendors: dict[str, Any] = {"default": (defaults or {})}
    for row in db.query(
        "SELECT coin_slug, vendor_id, vendor_name, url, enabled, hints FROM provider_vendors"
        " ORDER BY coin_slug, vendor_id"
    ):
        coin = coins.get(row["coin_slug"])
        if coin is None:
            continue
        hints = _hints(row, db.display)
        listing: dict[str, Any] = {"id": row["vendor_id"], "name": row["vendor_name"], "enabled": bool(row["enabled"])}
        if row["url"]:
            listing["url"] = row["url"]
        if hints.get("urls"):
            listing["urls"] = hints["urls"]
        coin["providers"].append(listing)
        if hints.get("rules"):
            vendors[row["vendor_id"]] = hints["rules"]
    return parse_catalog({"coins": coins, "vendors": vendors}, source=f"database {db.display}")


def _hints(row: dict[str, Any], where: str) -> dict[str, Any]:
    """A provider_vendors row's `hints` JSON object (empty when NULL); ConfigError naming the row
    when it is not a JSON object (edited by hand in the dashboard, say)."""
    if not row["hints"]:
        return {}
    name = f"database {where}: provider_vendors ({row['coin_slug']}, {row['vendor_id']}).hints"
    try:
        hints = json.loads(row["hints"])
    except (ValueError, TypeError, RecursionError) as exc:
        raise ConfigError(f"{name}: not JSON ({shorten(exc, 120)}); fix the row or run "
                          "`staktrakr providers sync --to-db`") from None
    if not isinstance(hints, dict):
        raise ConfigError(f"{name}: expected a JSON object, got {type(hints).__name__}; fix the row or run "
                          "`staktrakr providers sync --to-db`")
    return hints
