"""A fleet with known numbers for the dashboard tests: two pollers (api, home), three coins' worth of
catalog, a vendor (jmbullion) that fails every time, runs of every kind, spot slots and a
Goldback rate, all relative to one `now`. The comments give the times for now = 20:40; at any
other minute this hour's rows stay in this hour, at or before `now`'s window."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

from staktrakr.models import GoldbackRate, PollerRun, PriceObservation, ProviderFailure, SpotPrice
from staktrakr.rules.scoring import SOURCE_VISION
from staktrakr.store import Store
from staktrakr.timeutil import floor_window, iso_z, window_start

CATALOG = {
    "coins": {
        "ase": {"name": "American Silver Eagle", "metal": "silver", "weight_oz": 1, "providers": [
            {"id": "apmex", "name": "APMEX", "url": "https://www.apmex.com/ase"},
            {"id": "sdbullion", "name": "SD Bullion", "url": "https://sdbullion.com/ase"},
            {"id": "jmbullion", "name": "JM Bullion", "url": "https://www.jmbullion.com/ase"},
        ]},
        "age": {"name": "American Gold Eagle", "metal": "gold", "weight_oz": 1, "providers": [
            {"id": "apmex", "name": "APMEX", "url": "https://www.apmex.com/age"},
        ]},
    },
    "vendors": {"default": {}},
}
JM_URL = "https://www.jmbullion.com/ase"


def write_catalog(folder: Path) -> Path:
    path = folder / "providers.json"
    path.write_text(json.dumps(CATALOG), encoding="utf-8")
    return path


def _price(coin: str, vendor: str, at: datetime, price: float | None, poller: str, *, in_stock: bool = True,
           source: str = "http", failed: bool = False) -> PriceObservation:
    return PriceObservation(scraped_at=iso_z(at), window_start=window_start(at), coin_slug=coin, vendor=vendor,
                            price=price, source=source, confidence=None if failed else 85, is_failed=failed,
                            in_stock=in_stock, poller_id=poller, run_id=f"{poller}-{source}-{at.isoformat()}")


def _run(run_id: str, poller: str, job: str, started: datetime, seconds: float | None, status: str,
         captured: int | None = None, total: int | None = None, error: str | None = None) -> PollerRun:
    finished = None if seconds is None else iso_z(started + timedelta(seconds=seconds))
    return PollerRun(run_id=run_id, poller_id=poller, job=job, started_at=iso_z(started), finished_at=finished,
                     status=status, captured=captured, total=total, error=error)  # type: ignore[arg-type]


def _failure(at: datetime, run_id: str, error: str = "blocked: HTTP 403", sqlite_shape: bool = False,
             coin: str = "ase", vendor: str = "jmbullion", url: str = JM_URL) -> ProviderFailure:
    text = at.strftime("%Y-%m-%d %H:%M:%S") if sqlite_shape else iso_z(at)
    return ProviderFailure(coin_slug=coin, vendor_id=vendor, url=url, error=error, failed_at=text, run_id=run_id,
                           poller_id="api")


def seed_fleet(store: Store, export_dir: Path, now: datetime) -> None:
    """The known rows (see the module docstring)."""
    hour = now.replace(minute=0, second=0, microsecond=0)
    window = floor_window(now)                              # 20:30
    earlier_window = max(hour, window - timedelta(minutes=15))  # 20:15
    yesterday_noon = (hour - timedelta(days=1)).replace(hour=12)
    store.migrate()
    rows: list = [
        # this hour: ase/apmex (api, :30), ase/sdbullion out of stock (home, :15), age/apmex (api, :00)
        _price("ase", "apmex", window + timedelta(seconds=5), 40.0, "api"),
        _price("ase", "sdbullion", earlier_window + timedelta(seconds=9), 41.0, "home", in_stock=False),
        _price("age", "apmex", hour + timedelta(seconds=7), 2600.0, "api"),
        _price("ase", "apmex", window + timedelta(seconds=6), 1.0, "api", source=SOURCE_VISION),
        _price("ase", "jmbullion", window + timedelta(seconds=8), None, "api", failed=True),
        # the hour before: ase/apmex only
        _price("ase", "apmex", hour - timedelta(hours=1) + timedelta(seconds=3), 42.0, "home"),
        # yesterday noon: four in-stock prices and one out of stock, more than 24 h ago
        *[_price("ase", vendor, yesterday_noon + timedelta(minutes=15 * i, seconds=1), price, "api")
          for i, (vendor, price) in enumerate([("apmex", 30.0), ("apmex", 32.0), ("sdbullion", 34.0),
                                               ("sdbullion", 36.0)])],
        _price("ase", "sdbullion", yesterday_noon + timedelta(hours=1), 50.0, "api", in_stock=False),
        # runs: api scrape x3 in 24 h (+1 older), home spot x2, a stuck home scrape, an orphaned api
        # publish, a home publish and an api merge
        _run("api-scrape-1", "api", "scrape", now - timedelta(minutes=10), 60, "ok", 3, 4),
        _run("api-scrape-2", "api", "scrape", now - timedelta(minutes=40), 80, "ok", 4, 4),
        _run("api-scrape-3", "api", "scrape", now - timedelta(hours=5), 10, "error", 0, 4, "database down"),
        _run("api-scrape-0", "api", "scrape", now - timedelta(hours=30), 70, "ok", 4, 4),
        _run("home-spot-1", "home", "spot", now - timedelta(minutes=10), 2, "ok", 4, 4),
        _run("home-spot-2", "home", "spot", now - timedelta(minutes=25), 3, "ok", 4, 4),
        _run("home-scrape-9", "home", "scrape", now - timedelta(hours=3), None, "running"),
        _run("api-publish-1", "api", "publish", now - timedelta(hours=2), 0, "error",
             error="orphaned: the process ended before finishing"),
        _run("home-publish-1", "home", "publish", now - timedelta(minutes=12), 20, "ok"),
        _run("api-merge-1", "api", "merge", now - timedelta(minutes=11), 60, "ok"),
        # failures: ase/jmbullion 4 in 7 days (one in SQLite's shape), age/apmex once, one too old
        _failure(window + timedelta(seconds=8), "f1"),
        _failure(hour - timedelta(hours=2), "f2", error="timeout", sqlite_shape=True),
        _failure(now - timedelta(days=2), "f3"),
        _failure(now - timedelta(days=5), "f4"),
        _failure(now - timedelta(days=1), "f5", error="no price found", coin="age", vendor="apmex",
                 url="https://www.apmex.com/age"),
        _failure(now - timedelta(days=10), "f6"),
        # spot: gold at :30 and :15 by api, :00 by home, an implausible 0.01 at the previous :45;
        # silver at :30 by api
        *[SpotPrice(metal=metal, spot=spot, poller_id=poller, timestamp=window_start(at),
                    timestamp_floor=window_start(at), scraped_at=iso_z(at))
          for metal, spot, poller, at in [
              ("gold", 2650.0, "api", window), ("gold", 2651.0, "api", window - timedelta(minutes=15)),
              ("gold", 2649.0, "home", window - timedelta(minutes=30)),
              ("gold", 0.01, "home", window - timedelta(minutes=45)), ("silver", 31.0, "api", window)]],
        GoldbackRate(date=(now - timedelta(days=2)).strftime("%Y-%m-%d"), g1_usd=10.06, scraped_at=iso_z(now),
                     poller_id="home"),
    ]
    store.write(rows)
    manifest = export_dir / "data" / "api" / "manifest.json"
    manifest.parent.mkdir(parents=True, exist_ok=True)
    manifest.write_text(json.dumps({"generated_at": iso_z(now - timedelta(minutes=12))}), encoding="utf-8")
