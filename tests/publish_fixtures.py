"""A seeded database for the publish and merge tests: several pollers, live, stale, out-of-stock
and failed vendors, a stale coin, spot slots (one out of band) and Goldback rates; git for both.

The expected numbers in the tests are hand-computed from the rows below (see the comments).
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from staktrakr.store import Store
from tests.conftest import shared_path

REFERENCE = shared_path("reference/published-api")
NEWEST_SCRAPED = "2026-03-15T20:05:02.000Z"
LATEST_WINDOW = "2026-03-15T20:00:00Z"

# (scraped_at, window_start, coin, vendor, price, source, confidence, is_failed, in_stock, poller)
SNAPSHOTS: list[tuple[Any, ...]] = [
    # ase, live in the 20:00 window (newest scraped_at overall 20:05:02 -> live since 18:05:02)
    ("2026-03-15T20:01:00.000Z", "2026-03-15T20:00:00Z", "ase", "herobullion", 90.11, "firecrawl", 80, 0, 1, "api"),
    ("2026-03-15T20:01:30.000Z", "2026-03-15T20:00:00Z", "ase", "jmbullion", 95.30, "firecrawl", 50, 0, 1, "api"),
    ("2026-03-15T20:05:02.000Z", "2026-03-15T20:00:00Z", "ase", "sdbullion", 92.30, "http", 80, 0, 1, "home"),
    ("2026-03-15T19:47:00.000Z", "2026-03-15T19:45:00Z", "ase", "summitmetals", 92.25, "http", 80, 0, 1, "home"),
    # two pollers in one window: the newer row (home, 90.40) wins
    ("2026-03-15T20:02:00.000Z", "2026-03-15T20:00:00Z", "ase", "gainesvillecoins", 90.00, "http", 80, 0, 1, "api"),
    ("2026-03-15T20:04:00.000Z", "2026-03-15T20:00:00Z", "ase", "gainesvillecoins", 90.40, "browser", 80, 0, 1, "home"),
    # carried over: last seen 17:30:02.913 (older than 2 h, within 24 h)
    ("2026-03-15T17:30:02.913Z", "2026-03-15T17:30:00Z", "ase", "apmex", 93.33, "http", 80, 0, 1, "api"),
    # older than 24 h: neither live nor carried; counts in the 03-14 history only
    ("2026-03-14T18:00:00.000Z", "2026-03-14T18:00:00Z", "ase", "monumentmetals", 88.00, "http", 80, 0, 1, "api"),
    # out of stock now; last in stock on 03-10 (looked up beyond the 24 h rows)
    ("2026-03-15T20:03:00.000Z", "2026-03-15T20:00:00Z", "ase", "bullionexchanges", None, "browser", None, 0, 0, "api"),
    ("2026-03-10T12:00:00.000Z", "2026-03-10T12:00:00Z", "ase", "bullionexchanges", 87.94, "browser", 80, 0, 1, "api"),
    # a failed target is not a price
    ("2026-03-15T20:03:30.000Z", "2026-03-15T20:00:00Z", "ase", "providentmetals", None, "http", None, 1, 1, "api"),
    # history 03-14: herobullion 90, 92 (avg 91); sdbullion 94; jmbullion only out of stock at 99
    ("2026-03-14T10:00:00.000Z", "2026-03-14T10:00:00Z", "ase", "herobullion", 90.00, "http", 80, 0, 1, "api"),
    ("2026-03-14T11:00:00.000Z", "2026-03-14T11:00:00Z", "ase", "herobullion", 92.00, "http", 80, 0, 1, "home"),
    ("2026-03-14T10:00:00.000Z", "2026-03-14T10:00:00Z", "ase", "sdbullion", 94.00, "http", 80, 0, 1, "api"),
    ("2026-03-14T10:00:00.000Z", "2026-03-14T10:00:00Z", "ase", "jmbullion", 99.00, "http", 80, 0, 0, "api"),
    # in the 30-day file only, and outside both
    ("2026-03-01T10:00:00.000Z", "2026-03-01T10:00:00Z", "ase", "apmex", 100.00, "http", 80, 0, 1, "api"),
    ("2026-02-01T10:00:00.000Z", "2026-02-01T10:00:00Z", "ase", "apmex", 101.00, "http", 80, 0, 1, "api"),
    # age: a stale coin (nothing in the last 24 h): medians from its own last rows
    ("2026-03-13T10:01:00.000Z", "2026-03-13T10:00:00Z", "age", "apmex", 5251.29, "http", 80, 0, 1, "api"),
    ("2026-03-13T10:02:00.000Z", "2026-03-13T10:00:00Z", "age", "sdbullion", 5230.31, "http", 80, 0, 1, "home"),
    # goldback-utah-g1: one live vendor
    ("2026-03-15T20:02:10.000Z", "2026-03-15T20:00:00Z", "goldback-utah-g1", "jmbullion", 9.87, "firecrawl", 80, 0, 1, "api"),
]

METALS = {"gold": 5000.0, "silver": 80.0, "platinum": 2000.0, "palladium": 1500.0}


def spot_rows() -> list[tuple[Any, ...]]:
    """Every quarter from 03-14 16:00 to 03-15 20:00, plus 03-13 08:00-08:15; silver 19:30 is bad."""
    rows = []
    slots = [f"2026-03-13T08:{m:02d}:00Z" for m in (0, 15)]
    for day, hours in (("2026-03-14", range(16, 24)), ("2026-03-15", range(21))):
        for hour in hours:
            for minute in (0, 15, 30, 45):
                if day == "2026-03-15" and hour == 20 and minute > 0:
                    continue
                slots.append(f"{day}T{hour:02d}:{minute:02d}:00Z")
    for index, slot in enumerate(slots):
        for metal, base in METALS.items():
            spot = round(base + index * 0.01, 2)
            if metal == "silver" and slot == "2026-03-15T19:30:00Z":
                spot = 0.01  # the old USD-key bug: never published
            rows.append((metal, spot, "metalprice-api", "api", slot, slot, slot.replace("Z", ".500Z")))
    return rows


GOLDBACK = [
    ("2026-03-13", 10.26, "goldback.com", "2026-03-13T17:01:01.526Z", "api"),
    ("2026-03-15", 10.06, "goldback.com", "2026-03-15T00:01:01.596Z", "api"),
]


def seed(store: Store, snapshots: Sequence[tuple[Any, ...]] = SNAPSHOTS) -> None:
    """Insert the rows with plain SQL (as other programs sharing the database would)."""
    store.migrate()
    statements = [(
        "INSERT INTO price_snapshots (scraped_at, window_start, coin_slug, vendor, price, source, confidence, "
        "is_failed, in_stock, poller_id) VALUES (?,?,?,?,?,?,?,?,?,?)", row) for row in snapshots]
    statements += [(
        "INSERT INTO spot_prices (metal, spot, source, poller_id, timestamp, timestamp_floor, scraped_at) "
        "VALUES (?,?,?,?,?,?,?)", row) for row in spot_rows()]
    statements += [("INSERT INTO goldback_rates (date, g1_usd, source, scraped_at, poller_id) VALUES (?,?,?,?,?)", row)
                   for row in GOLDBACK]
    store.db.batch(statements)


def write_old_files(data_dir: Path) -> None:
    """Files an earlier system published that the database does not hold (kept by publish)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    history = [{"spot": v, "metal": m, "source": "seed", "provider": "LBMA", "timestamp": "2026-01-02 12:00:00"}
               for m, v in (("Gold", 4386.85), ("Palladium", 1649.0), ("Platinum", 2133.0), ("Silver", 74.215))]
    history.append({"spot": 4999.0, "metal": "Gold", "source": "seed", "provider": "StakTrakr",
                    "timestamp": "2026-03-14 12:00:00"})  # replaced by the database's 03-14 value
    (data_dir / "spot-history-2026.json").write_text(json.dumps(history))
    (data_dir / "goldback-2026.json").write_text(json.dumps(
        [{"date": "2026-02-23", "g1_usd": 10.14, "scraped_at": "2026-02-23T17:01:02.170Z"}], indent=2))


def reference(path: str) -> Any:
    return json.loads((REFERENCE / path).read_text())


def git(*args: str, cwd: Path | None = None) -> str:
    """Run git (the real binary) and return its stdout, stripped; a failing command raises."""
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()
