"""A database shaped like the shared one, generated with sqlite3 for publish's tests and bench.

N days of 15-minute cycles x P pollers x the catalog's targets (providers.json: 23 coins, 168
listings), ending at END. Like the shared database:
- rows older than the hand-over (the first half of the days) are in the old schema's shape:
  `poller_id` NULL, and some windows hold the same row twice (the old writer's duplicates);
- failed rows (no price, is_failed 1), out-of-stock streaks, a vendor out of stock for days
  (its last in-stock price is looked up beyond the 24 h rows), a coin nobody scraped in the last
  day (stale), a few old `gemini-vision` rows;
- spot every 15 minutes for four metals, the older half in SQLite's `YYYY-MM-DD HH:MM:SS` shape,
  with the old 0.01 silver value now and then; one Goldback rate per day.

Everything is arithmetic on the row's indexes, so the same arguments give the same database
(the publish tests pin the digests of the tree made from it). The real schema is made through
`Store.migrate`; the price indexes are dropped for the load and rebuilt after it.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

from staktrakr.settings import load_settings
from staktrakr.store import Store

REPO = Path(__file__).resolve().parent.parent
END = datetime(2026, 3, 15, 20, 0, tzinfo=UTC)
METALS = {"gold": 5000.0, "silver": 80.0, "platinum": 2000.0, "palladium": 1500.0}
STALE_COIN_INDEX = 5  # the sixth coin of the catalog: no row in the last 30 hours
LONG_OUT_OF_STOCK = 29  # every 29th target: out of stock for its last 3 days

_PRICES = """
INSERT INTO price_snapshots (scraped_at, window_start, coin_slug, vendor, price, source, confidence,
                             is_failed, in_stock, poller_id)
SELECT strftime('%Y-%m-%dT%H:%M:%fZ', w.t + p.n * 60 + tg.k % 50 + 0.123 + d.n * 7, 'unixepoch'), w.ws,
       tg.coin, tg.vendor,
       CASE WHEN (w.idx * 7 + tg.k * 13 + p.n) % 33 = 0 THEN NULL
            ELSE round(tg.base * (1 + ((w.idx * 31 + tg.k * 17 + p.n * 7) % 200 - 100) / 10000.0), 2) END,
       CASE WHEN w.idx < :handover AND (w.idx + tg.k) % 997 = 0 THEN 'gemini-vision'
            WHEN tg.k % 3 = 0 THEN 'firecrawl' ELSE 'http' END,
       CASE WHEN (w.idx * 7 + tg.k * 13 + p.n) % 33 = 0 THEN NULL ELSE 50 + (tg.k % 4) * 10 END,
       (w.idx * 7 + tg.k * 13 + p.n) % 33 = 0,
       NOT ((w.idx / 8 + tg.k) % 17 = 0
            OR (tg.k % :long_oos = 0 AND w.idx >= :total - 3 * 96)),
       CASE WHEN w.idx < :handover THEN NULL ELSE p.pid END
FROM w, tg, p, d
WHERE w.idx >= :start AND w.idx < :stop
  AND (d.n = 0 OR (w.idx < :handover AND (w.idx * 5 + tg.k) % 23 = 0))
  AND NOT (tg.coin_index = :stale_coin AND w.idx >= :total - 120)
ORDER BY w.idx, tg.k, p.n, d.n
"""


def catalog_targets(providers_file: Path = REPO / "providers.json") -> list[tuple[str, str, str]]:
    """(coin slug, vendor id, metal) of every listing in the catalog, in file order."""
    coins = json.loads(providers_file.read_text())["coins"]
    return [(slug, listing["id"], coin["metal"]) for slug, coin in coins.items() for listing in coin["providers"]]


def _window(idx: int, total: int) -> tuple[int, str, float]:
    moment = END - timedelta(minutes=15 * (total - 1 - idx))
    return idx, moment.strftime("%Y-%m-%dT%H:%M:00Z"), moment.timestamp()


def _spot_rows(first: int, stop: int, total: int, handover: int) -> list[tuple[object, ...]]:
    rows = []
    for idx in range(first, stop):
        _, slot, _ = _window(idx, total)
        shape = slot.replace("T", " ").replace("Z", "") if idx < handover else slot
        for n, (metal, base) in enumerate(METALS.items()):
            spot = 0.01 if metal == "silver" and idx % 211 == 0 else round(base * (1 + (idx * 7 + n) % 97 / 1000), 2)
            rows.append((metal, spot, "metalprice-api", "api" if idx % 2 else "home", shape, shape,
                         shape.replace("Z", ".400Z") if idx >= handover else shape))
    return rows


def generate(db_path: Path, days: int, pollers: int = 3, targets: int | None = None) -> int:
    """Create `db_path` (which must not exist) with `days` x 96 cycles; returns the price row count."""
    var_dir = db_path.parent / f"{db_path.stem}-var"
    settings = load_settings(STAKTRAKR_VAR_DIR=var_dir, turso_database_url=f"file:{db_path}",
                             STAKTRAKR_ENV_FILE="/nonexistent")
    with Store.open(settings) as store:
        store.migrate()
    total = days * 96
    handover = total // 2
    chosen = catalog_targets()[:targets]
    connection = sqlite3.connect(db_path)
    index_sql = [row[0] for row in connection.execute(
        "SELECT sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL AND tbl_name = 'price_snapshots'")]
    for (name,) in connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
            "AND tbl_name = 'price_snapshots'").fetchall():
        connection.execute(f"DROP INDEX {name}")
    connection.execute("PRAGMA synchronous = OFF")
    connection.execute("CREATE TABLE gen_meta (key TEXT PRIMARY KEY, value INTEGER)")
    connection.executemany("INSERT INTO gen_meta VALUES (?, ?)", [("total", total), ("handover", handover)])
    connection.execute("CREATE TABLE w (idx INTEGER PRIMARY KEY, ws TEXT, t REAL)")
    connection.execute("CREATE TABLE tg (k INTEGER PRIMARY KEY, coin TEXT, vendor TEXT, base REAL, coin_index INTEGER)")
    connection.execute("CREATE TABLE p (n INTEGER PRIMARY KEY, pid TEXT)")
    connection.execute("CREATE TABLE d (n INTEGER PRIMARY KEY)")
    connection.executemany("INSERT INTO w VALUES (?, ?, ?)", [_window(idx, total) for idx in range(total)])
    bases = {"gold": 5200.0, "silver": 92.0, "platinum": 2100.0, "palladium": 1600.0, "goldback": 10.0}
    coin_order = list(dict.fromkeys(slug for slug, _, _ in chosen))
    connection.executemany("INSERT INTO tg VALUES (?, ?, ?, ?, ?)", [
        (k, slug, vendor, bases.get(metal, 100.0), coin_order.index(slug))
        for k, (slug, vendor, metal) in enumerate(chosen)])
    connection.executemany("INSERT INTO p VALUES (?, ?)", [(n, ("api", "home", "fly2")[n % 3]) for n in range(pollers)])
    connection.executemany("INSERT INTO d VALUES (?)", [(0,), (1,)])
    for start in range(0, total, 960):
        _insert_windows(connection, start, min(start + 960, total), total, handover)
    connection.executemany(
        "INSERT INTO spot_prices (metal, spot, source, poller_id, timestamp, timestamp_floor, scraped_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)", _spot_rows(0, total, total, handover))
    connection.executemany(
        "INSERT INTO goldback_rates (date, g1_usd, source, scraped_at, poller_id) VALUES (?, ?, ?, ?, ?)",
        [((END - timedelta(days=n)).strftime("%Y-%m-%d"), round(10 + n % 7 / 10, 2), "goldback.com",
          (END - timedelta(days=n)).strftime("%Y-%m-%dT00:01:01.596Z"), "api") for n in range(days)])
    connection.commit()
    for statement in index_sql:
        connection.execute(statement)
    connection.commit()
    rows: int = connection.execute("SELECT COUNT(*) FROM price_snapshots").fetchone()[0]
    connection.close()
    return rows


def _insert_windows(connection: sqlite3.Connection, start: int, stop: int, total: int, handover: int) -> None:
    connection.execute(_PRICES, {"start": start, "stop": stop, "total": total, "handover": handover,
                                 "long_oos": LONG_OUT_OF_STOCK, "stale_coin": STALE_COIN_INDEX})
    connection.commit()


def add_cycle(db_path: Path) -> str:
    """One more 15-minute cycle after the newest: every poller's rows and four spot slots; returns
    its window_start."""
    connection = sqlite3.connect(db_path)
    total, handover = (connection.execute("SELECT value FROM gen_meta WHERE key = ?", (key,)).fetchone()[0]
                       for key in ("total", "handover"))
    idx = connection.execute("SELECT MAX(idx) FROM w").fetchone()[0] + 1
    moment = END + timedelta(minutes=15 * (idx - total + 1))
    window = moment.strftime("%Y-%m-%dT%H:%M:00Z")
    connection.execute("INSERT INTO w VALUES (?, ?, ?)", (idx, window, moment.timestamp()))
    _insert_windows(connection, idx, idx + 1, total, handover)
    slot = window
    connection.executemany(
        "INSERT INTO spot_prices (metal, spot, source, poller_id, timestamp, timestamp_floor, scraped_at) "
        "VALUES (?, ?, 'metalprice-api', 'api', ?, ?, ?)",
        [(metal, round(base * 1.01 + idx % 5, 2), slot, slot, slot.replace("Z", ".400Z"))
         for metal, base in METALS.items()])
    connection.commit()
    connection.close()
    return window
