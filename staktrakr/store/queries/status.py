"""What `staktrakr db status` reports: reachability, row counts, schema version, newest window, outbox."""

from __future__ import annotations

from typing import Any

from staktrakr.errors import StoreError
from staktrakr.store.session import Store

TABLES = ("price_snapshots", "poller_runs", "provider_failures", "spot_prices", "goldback_rates",
          "provider_coins", "provider_vendors", "alert_state", "schema_migrations")


def database_status(store: Store) -> dict[str, Any]:
    """Reachability, row counts, schema version, newest window and the outbox with its quarantined
    and rejected entries (read-only)."""
    report: dict[str, Any] = {
        "database": store.db.display,
        "reachable": True,
        "tables": dict.fromkeys(TABLES),
        "schema_version": None,
        "newest_window": None,
        "outbox": store.outbox.report(),
    }
    try:
        existing = {row["name"] for row in store.db.query("SELECT name FROM sqlite_master WHERE type = 'table'")}
        counts = [f"(SELECT COUNT(*) FROM {name}) AS {name}" for name in TABLES if name in existing]
        if counts:
            report["tables"].update(store.db.query("SELECT " + ", ".join(counts))[0])
        if "price_snapshots" in existing:
            report["newest_window"] = store.db.query("SELECT MAX(window_start) AS w FROM price_snapshots")[0]["w"]
        if "schema_migrations" in existing:
            report["schema_version"] = store.db.query("SELECT MAX(version) AS v FROM schema_migrations")[0]["v"]
    except StoreError as exc:
        report["reachable"] = False
        report["error"] = str(exc)
    return report
