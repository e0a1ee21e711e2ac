"""`staktrakr db snapshot`: the published tables as one read-only SQLite file for offline use.

The old system published such a `prices.db` beside the JSON. The file holds what the API
publishes and nothing else: price rows that can be a published price (not failed, not an old
`gemini-vision` reading) with the columns the coin files show, in-band spot slots, Goldback
rates, and the catalog's coins; never poller ids, run ids, evidence or failures. Rows are read
from the database in id pages (either a local file or a libSQL server), written to a private
temporary SQLite file beside OUT, and compacted into OUT with SQLite's own `VACUUM INTO`; OUT is
then made read-only (0444) and replaced atomically.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from staktrakr.catalog import Catalog
from staktrakr.errors import ConfigError
from staktrakr.rules.bands import Band
from staktrakr.rules.scoring import SOURCE_VISION
from staktrakr.store.queries.spot import band_case
from staktrakr.store.session import Store
from staktrakr.timeutil import parse_time

PAGE_ROWS = 20_000
SNAPSHOT_FILE_MODE = 0o444

SNAPSHOT_DDL = (
    """CREATE TABLE price_snapshots (
      id INTEGER PRIMARY KEY, window_start TEXT NOT NULL, scraped_at TEXT NOT NULL, coin_slug TEXT NOT NULL,
      vendor TEXT NOT NULL, price REAL, in_stock INTEGER NOT NULL, source TEXT NOT NULL, confidence INTEGER)""",
    "CREATE INDEX idx_coin_window ON price_snapshots(coin_slug, window_start)",
    """CREATE TABLE spot_prices (metal TEXT NOT NULL, spot REAL NOT NULL, timestamp_floor TEXT NOT NULL,
      PRIMARY KEY (metal, timestamp_floor))""",
    "CREATE TABLE goldback_rates (date TEXT PRIMARY KEY, g1_usd REAL NOT NULL, source TEXT, scraped_at TEXT)",
    "CREATE TABLE coins (slug TEXT PRIMARY KEY, name TEXT NOT NULL, metal TEXT NOT NULL, weight_oz REAL NOT NULL)",
    "CREATE TABLE snapshot_info (key TEXT PRIMARY KEY, value TEXT)",
)
_PRICE_COLUMNS = ("id", "window_start", "scraped_at", "coin_slug", "vendor", "price", "in_stock", "source",
                  "confidence")
_PRICE_PAGE = (
    f"SELECT {', '.join(_PRICE_COLUMNS)} FROM price_snapshots "
    f"WHERE id > ? AND +window_start >= ? AND is_failed = 0 AND source != '{SOURCE_VISION}' ORDER BY id LIMIT ?"
)


def check_snapshot_target(out: Path, database_url: str, *, force: bool) -> None:
    """Refuse an OUT that must not be replaced: the source database itself (a `file:` URL, same
    resolved path or same inode, or one of its -wal/-shm/-journal files) always; a directory
    always; any other existing file unless it is an earlier snapshot (it has the snapshot_info
    table) or `force` is set. Raises ConfigError (exit 2) naming OUT."""
    if database_url.startswith("file:"):
        source = Path(urlsplit(database_url).path or database_url[len("file:"):]).expanduser()
        for companion in (source, *(source.with_name(source.name + s) for s in ("-wal", "-shm", "-journal"))):
            if _same_file(out, companion):
                raise ConfigError(f"db snapshot: {out} is the source database {companion}: give another OUT")
    if out.is_dir():
        raise ConfigError(f"db snapshot: {out} is a directory: give a file path for OUT")
    if (out.exists() or out.is_symlink()) and not force and not is_snapshot(out):
        raise ConfigError(f"db snapshot: {out} exists and is not an earlier snapshot: "
                          "give --force to replace it, or another OUT")


def _same_file(a: Path, b: Path) -> bool:
    """Whether two paths name one file (resolved paths equal, or the same inode when both exist)."""
    try:
        if a.expanduser().resolve() == b.resolve():
            return True
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def is_snapshot(path: Path) -> bool:
    """Whether `path` is a SQLite file written by `write_snapshot` (it holds a snapshot_info table)."""
    try:
        if path.is_symlink() or not path.is_file():
            return False
        connection = sqlite3.connect(f"file:{quote(str(path.resolve()))}?mode=ro", uri=True)
        try:
            found = connection.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'snapshot_info'").fetchone()
        finally:
            connection.close()
    except sqlite3.Error:
        return False
    return found is not None


def write_snapshot(store: Store, out: Path, days: int | None, bands: Mapping[str, Band],
                   catalog: Catalog | None) -> dict[str, Any]:
    """Write the snapshot of the last `days` days (counted back from the newest window; None: all
    history) to `out`; returns the row count of each table and the first window included.
    Raises StoreUnavailable / StatementRejected (the database cannot be read), OSError naming
    the path (OUT cannot be written)."""
    db = store.db
    newest = db.query("SELECT MAX(window_start) AS latest FROM price_snapshots")
    latest = newest[0]["latest"] if newest else None
    since = "" if days is None or latest is None else (parse_time(latest) - timedelta(days=days)).strftime(
        "%Y-%m-%dT%H:%M:00Z")
    out.parent.mkdir(parents=True, exist_ok=True)
    _remove_abandoned_staging(out)
    with tempfile.TemporaryDirectory(dir=out.parent, prefix=f".{out.name}.") as work:
        staging = sqlite3.connect(Path(work) / "staging.db")
        try:
            staging.execute("PRAGMA journal_mode = OFF")
            staging.execute("PRAGMA synchronous = OFF")
            for statement in SNAPSHOT_DDL:
                staging.execute(statement)
            counts = {"price_snapshots": _copy_prices(store, staging, since)}
            band_sql, band_args = band_case(bands)
            spot_since = since[:10]
            # both stored shapes of a slot ("YYYY-MM-DD HH:MM:SS" of older writers) as ours, so the
            # file's slots sort and compare as times, from the first window of the prices on
            spots = [(row["metal"], row["spot"], slot) for row in db.query(
                f"SELECT lower(metal) AS metal, spot, timestamp_floor FROM spot_prices "
                f"WHERE timestamp_floor >= ? AND {band_sql} ORDER BY timestamp_floor, metal", (spot_since, *band_args))
                if (slot := iso_slot(row["timestamp_floor"])) >= since]
            staging.executemany("INSERT OR IGNORE INTO spot_prices VALUES (?, ?, ?)", spots)
            rates = db.query("SELECT date, g1_usd, source, scraped_at FROM goldback_rates "
                             "WHERE g1_usd > 0 AND date >= ?", (spot_since,))
            staging.executemany("INSERT INTO goldback_rates VALUES (?, ?, ?, ?)",
                                [(r["date"], r["g1_usd"], r["source"], r["scraped_at"]) for r in rates])
            coins = sorted((catalog.coins if catalog else {}).items())
            staging.executemany("INSERT INTO coins VALUES (?, ?, ?, ?)",
                                [(slug, coin.name, coin.metal, coin.weight_oz) for slug, coin in coins])
            counts.update({"spot_prices": len(spots), "goldback_rates": len(rates), "coins": len(coins)})
            staging.executemany("INSERT INTO snapshot_info VALUES (?, ?)", [
                ("newest_window", latest), ("since", since or None), ("days", None if days is None else str(days))])
            staging.commit()
            compact = Path(work) / "snapshot.db"
            staging.execute("VACUUM INTO ?", (str(compact),))
        finally:
            staging.close()
        os.chmod(compact, SNAPSHOT_FILE_MODE)
        os.replace(compact, out)
    return {"path": str(out), "since": since or None, "newest_window": latest, "rows": counts}


def iso_slot(stored: str) -> str:
    """A spot slot as stored, in either shape, as `YYYY-MM-DDTHH:MM:SSZ` (UTC)."""
    return parse_time(stored).strftime("%Y-%m-%dT%H:%M:%SZ")


STAGING_ABANDONED_AFTER_S = 3600.0


def _remove_abandoned_staging(out: Path) -> None:
    """Remove the staging directories beside OUT (`.OUT.*`) that a snapshot killed before its end
    left behind: untouched for STAGING_ABANDONED_AFTER_S (a running snapshot writes in its own)."""
    now = time.time()
    for leftover in out.parent.glob(f".{out.name}.*"):
        try:
            if leftover.is_dir() and not leftover.is_symlink() and now - leftover.stat().st_mtime > \
                    STAGING_ABANDONED_AFTER_S:
                shutil.rmtree(leftover, ignore_errors=True)
        except OSError:
            continue


def _copy_prices(store: Store, staging: sqlite3.Connection, since: str) -> int:
    """Copy the publishable price rows from `since` on, in id pages (the first id from idx_window)."""
    first = store.db.query("SELECT MIN(id) AS id FROM price_snapshots INDEXED BY idx_window WHERE window_start >= ?",
                           (since,))
    last_id = int(first[0]["id"]) - 1 if first and first[0]["id"] is not None else None
    copied = 0
    while last_id is not None:
        rows = store.db.query(_PRICE_PAGE, (last_id, since, PAGE_ROWS))
        staging.executemany(f"INSERT INTO price_snapshots VALUES ({', '.join('?' for _ in _PRICE_COLUMNS)})",
                            [tuple(row[c] for c in _PRICE_COLUMNS) for row in rows])
        copied += len(rows)
        last_id = int(rows[-1]["id"]) if len(rows) == PAGE_ROWS else None
    return copied
