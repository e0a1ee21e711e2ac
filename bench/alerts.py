"""Benchmark `staktrakr alerts` evaluation on a database of realistic size.

    .venv/bin/python bench/alerts.py                    # 30 days x 2 pollers x 170 targets (~1M rows)
    .venv/bin/python bench/alerts.py --days 90

The price rows come from bench/publish.py's generator (sqlite3, indexes after the load), plus a
week of provider_failures and poller_runs. Then the rules are evaluated in process against the
embedded file (dry run: nothing sent) three times; the wall time of each is printed. Goal: well
under a second, since every poller runs it every 15 minutes.
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from publish import END, generate  # noqa: E402

from staktrakr.ops.alerts import run_alerts  # noqa: E402
from staktrakr.settings import load_settings  # noqa: E402
from staktrakr.store import Store  # noqa: E402


def add_failures_and_runs(db_path: Path, pollers: int) -> None:
    connection = sqlite3.connect(db_path)
    failures = [(f"coin-{k // 10:03d}", f"vendor-{k % 10:02d}", "no_price: bench",
                 (END - timedelta(hours=h)).strftime("%Y-%m-%dT%H:%M:%S.000Z"))
                for h in range(0, 7 * 24, 3) for k in range(0, 170, 7)]
    connection.executemany("INSERT INTO provider_failures (coin_slug, vendor_id, error, failed_at) VALUES (?, ?, ?, ?)",
                           failures)
    runs = [(f"poller-{p}-{job}-{i}", f"poller-{p}", job, (END - timedelta(minutes=15 * i)).strftime(
        "%Y-%m-%dT%H:%M:%S.000Z"), (END - timedelta(minutes=15 * i - 1)).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "ok" if i % 9 else "error") for p in range(pollers) for job in ("scrape", "spot", "publish")
        for i in range(7 * 96)]
    connection.executemany("INSERT INTO poller_runs (run_id, poller_id, job, started_at, finished_at, status) "
                           "VALUES (?, ?, ?, ?, ?, ?)", runs)
    connection.commit()
    connection.close()
    print(f"added {len(failures):,} provider_failures and {len(runs):,} poller_runs rows")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--pollers", type=int, default=2)
    parser.add_argument("--targets", type=int, default=170)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="staktrakr-bench-alerts-") as folder:
        work = Path(folder)
        db_path = work / "bench.db"
        generate(db_path, work / "var", options.days, options.pollers, options.targets)
        add_failures_and_runs(db_path, options.pollers)
        settings = load_settings(STAKTRAKR_VAR_DIR=work / "var", turso_database_url=f"file:{db_path}",
                                 providers_file=REPO / "providers.json")
        with Store.open(settings) as store:
            for attempt in range(1, 4):
                started = time.monotonic()
                result = run_alerts(settings, store, dry_run=True, now=END + timedelta(minutes=5))
                elapsed = time.monotonic() - started
                print(f"evaluation {attempt}: {elapsed * 1000:.0f} ms, {len(result.active)} active alerts")


if __name__ == "__main__":
    main()
