"""Schema and migrations on a database that already holds the old tables, old rows and duplicates."""

from __future__ import annotations

import hashlib

from staktrakr.store.schema import BASE_DDL, MIGRATIONS

OLD_ROWS = [
    # scraped_at, window_start, coin, vendor, price, source, confidence, is_failed, in_stock
    ("2026-03-15T20:00:02.100Z", "2026-03-15T20:00:00Z", "ase", "apmex", 93.33, "firecrawl", 80, 0, 1),
    ("2026-03-15T20:00:02.100Z", "2026-03-15T20:00:00Z", "ase", "apmex", 93.33, "firecrawl", 80, 0, 1),  # duplicate
    ("2026-03-15T20:00:02.100Z", "2026-03-15T20:00:00Z", "ase", "apmex", 93.33, "firecrawl", 80, 0, 1),  # duplicate
    ("2026-03-15T20:00:03.000Z", "2026-03-15T20:00:00Z", "ase", "jmbullion", None, "firecrawl", None, 1, 1),
    ("2026-03-15T20:00:04.000Z", "2026-03-15T20:00:00Z", "age", "sdbullion", 5230.31, "playwright", 50, 0, 0),
]


def _old_database(db) -> None:
    """What the old JavaScript pollers left: their tables (no migrations table) with rows."""
    db.batch([(sql, ()) for sql in BASE_DDL])
    db.batch([
        ("INSERT INTO price_snapshots (scraped_at, window_start, coin_slug, vendor, price, source, confidence, "
         "is_failed, in_stock) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", row) for row in OLD_ROWS
    ] + [
        ("INSERT INTO poller_runs (run_id, poller_id, started_at, status, total, captured, failures) "
         "VALUES ('api-20260315T200000', 'api', '2026-03-15T20:00:00.000Z', 'running', 166, 0, 0)", ()),
        ("INSERT INTO spot_prices (metal, spot, poller_id, timestamp, timestamp_floor) "
         "VALUES ('gold', 5019.5, 'fly-spot', '2026-03-15T19:45:00Z', '2026-03-15T19:45:00Z')", ()),
        ("INSERT INTO provider_failures (coin_slug, vendor_id, url, error) VALUES ('ase', 'jmbullion', 'https://x.example/a', 'timeout')", ()),
    ])


def _fingerprint(db, table: str, columns: str) -> str:
    rows = db.query(f"SELECT {columns} FROM {table} ORDER BY id")
    return hashlib.sha256(repr([tuple(r.values()) for r in rows]).encode()).hexdigest()


OLD_SNAPSHOT_COLUMNS = "id, scraped_at, window_start, coin_slug, vendor, price, source, confidence, is_failed, in_stock"


def test_migrate_old_database_keeps_every_row_and_reruns_as_noop(any_db_url, store_for):
    store = store_for(any_db_url)
    _old_database(store.db)
    before = {
        "snapshots": _fingerprint(store.db, "price_snapshots", OLD_SNAPSHOT_COLUMNS),
        "runs": _fingerprint(store.db, "poller_runs", "id, run_id, poller_id, started_at, status"),
        "spot": _fingerprint(store.db, "spot_prices", "id, metal, spot, timestamp_floor, scraped_at"),
        "failures": _fingerprint(store.db, "provider_failures", "id, coin_slug, vendor_id, error, failed_at"),
    }

    applied = store.migrate()

    assert applied == [m.version for m in MIGRATIONS]
    assert store.db.query("SELECT COUNT(*) AS n FROM price_snapshots")[0]["n"] == len(OLD_ROWS)
    assert before == {
        "snapshots": _fingerprint(store.db, "price_snapshots", OLD_SNAPSHOT_COLUMNS),
        "runs": _fingerprint(store.db, "poller_runs", "id, run_id, poller_id, started_at, status"),
        "spot": _fingerprint(store.db, "spot_prices", "id, metal, spot, timestamp_floor, scraped_at"),
        "failures": _fingerprint(store.db, "provider_failures", "id, coin_slug, vendor_id, error, failed_at"),
    }
    # the added columns are NULL on old rows, so the old duplicates sit outside the unique index
    assert store.db.query("SELECT COUNT(*) AS n FROM price_snapshots WHERE poller_id IS NULL")[0]["n"] == len(OLD_ROWS)

    assert store.migrate() == []
    assert store.ensure_schema() == []
    versions = store.db.query("SELECT version FROM schema_migrations ORDER BY version")
    assert [row["version"] for row in versions] == [m.version for m in MIGRATIONS]
    assert store.db.query("SELECT COUNT(*) AS n FROM price_snapshots")[0]["n"] == len(OLD_ROWS)


def test_fresh_database_gets_the_contract_tables_and_indexes(any_db_url, store_for):
    store = store_for(any_db_url)
    store.migrate()
    names = {row["name"] for row in store.db.query("SELECT name FROM sqlite_master")}
    assert {"price_snapshots", "poller_runs", "provider_failures", "spot_prices", "provider_coins",
            "provider_vendors", "goldback_rates", "schema_migrations"} <= names
    assert {"idx_coin_window", "idx_window", "idx_coin_date", "idx_coin_vendor_stock",
            "uq_snapshots_observation", "uq_failures_run_target"} <= names


def test_migration_half_done_by_an_earlier_crash_completes(any_db_url, store_for):
    """A column added before the crash (no migrations row) does not stop the migration."""
    store = store_for(any_db_url)
    _old_database(store.db)
    store.db.execute("ALTER TABLE price_snapshots ADD COLUMN poller_id TEXT")
    assert store.migrate() == [m.version for m in MIGRATIONS]
    columns = {row["name"] for row in store.db.query("PRAGMA table_info(price_snapshots)")}
    assert {"poller_id", "run_id", "evidence"} <= columns
