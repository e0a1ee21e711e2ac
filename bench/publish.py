"""Benchmark publish at scale: N days of 15-minute cycles x P pollers x T targets.

    .venv/bin/python bench/publish.py                      # quick: 30 days x 3 pollers x 200 targets
    .venv/bin/python bench/publish.py --days 365           # full: ~21M rows (generation takes minutes)

The database is generated with sqlite3 directly (INSERT ... SELECT over small generated tables,
indexes built after the load). Then `staktrakr publish --no-push` runs in a child process twice:
a full publish into a fresh export directory, and an incremental one after one more cycle. Wall
time and peak RSS of each child are printed. Goals: full < 60 s and < 500 MB; incremental < 5 s.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from staktrakr.settings import load_settings  # noqa: E402
from staktrakr.store import Store  # noqa: E402

END = datetime(2026, 3, 15, 20, 0, tzinfo=UTC)
VENDORS = 10
METALS = {"gold": 5000.0, "silver": 80.0, "platinum": 2000.0, "palladium": 1500.0}

ROWS_SQL = """
INSERT INTO price_snapshots (scraped_at, window_start, coin_slug, vendor, price, source, confidence,
                             is_failed, in_stock, poller_id)
SELECT strftime('%Y-%m-%dT%H:%M:%fZ', w.t + p.n * 60 + tg.k % 50 + 0.123, 'unixepoch'), w.ws, tg.coin, tg.vendor,
       CASE WHEN (w.idx * 7 + tg.k * 13 + p.n) % 33 = 0 THEN NULL
            ELSE round(tg.base * (1 + ((w.idx * 31 + tg.k * 17 + p.n * 7) % 200 - 100) / 10000.0), 2) END,
       'http', 80, (w.idx * 7 + tg.k * 13 + p.n) % 33 = 0, ((w.idx * 11 + tg.k * 3) % 20) != 0, p.pid
FROM w, tg, p WHERE w.idx >= ? AND w.idx < ? ORDER BY w.idx, tg.k, p.n
"""


def window_rows(days: int, extra: int = 0) -> list[tuple[int, str, float]]:
    count = days * 96 + extra
    first = END - timedelta(minutes=15 * (days * 96 - 1))
    rows = []
    for idx in range(count):
        moment = first + timedelta(minutes=15 * idx)
        rows.append((idx, moment.strftime("%Y-%m-%dT%H:%M:00Z"), moment.timestamp()))
    return rows


def schema_then_drop_indexes(db_path: Path, var_dir: Path) -> list[str]:
    """Create the real schema through Store.migrate, keep its index DDL, drop the indexes for the load."""
    settings = load_settings(STAKTRAKR_VAR_DIR=var_dir, turso_database_url=f"file:{db_path}")
    with Store.open(settings) as store:
        store.migrate()
    connection = sqlite3.connect(db_path)
    ddl = [row[0] for row in connection.execute(
        "SELECT sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL AND tbl_name = 'price_snapshots'")]
    for (name,) in connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL AND tbl_name = 'price_snapshots'"
    ).fetchall():
        connection.execute(f"DROP INDEX {name}")
    connection.commit()
    connection.close()
    return ddl


def generate(db_path: Path, var_dir: Path, days: int, pollers: int, targets: int) -> int:
    started = time.monotonic()
    ddl = schema_then_drop_indexes(db_path, var_dir)
    connection = sqlite3.connect(db_path)
    connection.execute("PRAGMA journal_mode = WAL")
    connection.execute("PRAGMA synchronous = OFF")
    connection.execute("CREATE TABLE IF NOT EXISTS w (idx INTEGER PRIMARY KEY, ws TEXT, t REAL)")
    connection.execute("CREATE TABLE IF NOT EXISTS tg (k INTEGER PRIMARY KEY, coin TEXT, vendor TEXT, base REAL)")
    connection.execute("CREATE TABLE IF NOT EXISTS p (n INTEGER PRIMARY KEY, pid TEXT)")
    connection.executemany("INSERT INTO w VALUES (?, ?, ?)", window_rows(days, extra=1))
    coins = max(1, targets // VENDORS)
    connection.executemany("INSERT INTO tg VALUES (?, ?, ?, ?)", [
        (k, f"coin-{k // VENDORS:03d}", f"vendor-{k % VENDORS:02d}", (30.0, 2000.0, 5000.0)[(k // VENDORS) % 3])
        for k in range(coins * VENDORS)])
    connection.executemany("INSERT INTO p VALUES (?, ?)", [(n, f"poller-{n}") for n in range(pollers)])
    step = 96 * 10
    for start in range(0, days * 96, step):
        connection.execute(ROWS_SQL, (start, min(start + step, days * 96)))
        connection.commit()
    connection.executemany(
        "INSERT INTO spot_prices (metal, spot, source, poller_id, timestamp, timestamp_floor, scraped_at) "
        "VALUES (?, ?, 'metalprice-api', 'bench', ?, ?, ?)",
        [(metal, round(base * (1 + (idx % 97) / 1000), 2), ws, ws, ws) for idx, ws, _ in window_rows(days)
         for metal, base in METALS.items()])
    connection.executemany(
        "INSERT INTO goldback_rates (date, g1_usd, source, scraped_at, poller_id)"
        " VALUES (?, ?, 'goldback.com', ?, 'bench')",
        [((END - timedelta(days=d)).strftime("%Y-%m-%d"), 10 + d % 7 / 10,
          (END - timedelta(days=d)).strftime("%Y-%m-%dT17:01:00.000Z")) for d in range(days)])
    connection.commit()
    loaded = time.monotonic()
    for statement in ddl:
        connection.execute(statement)
    connection.commit()
    rows = connection.execute("SELECT MAX(id) FROM price_snapshots").fetchone()[0]
    connection.close()
    print(f"generated {rows:,} price rows in {loaded - started:.1f} s, indexes in {time.monotonic() - loaded:.1f} s")
    return rows


def add_cycle(db_path: Path) -> None:
    """One more 15-minute cycle after the newest one present (so --reuse can run again)."""
    connection = sqlite3.connect(db_path)
    newest = connection.execute("SELECT MAX(window_start) FROM price_snapshots").fetchone()[0]
    index = connection.execute("SELECT idx FROM w WHERE ws = ?", (newest,)).fetchone()[0] + 1
    if connection.execute("SELECT COUNT(*) FROM w WHERE idx = ?", (index,)).fetchone()[0] == 0:
        moment = datetime.fromisoformat(newest.replace("Z", "+00:00")) + timedelta(minutes=15)
        connection.execute("INSERT INTO w VALUES (?, ?, ?)",
                           (index, moment.strftime("%Y-%m-%dT%H:%M:00Z"), moment.timestamp()))
    connection.execute(ROWS_SQL, (index, index + 1))
    connection.commit()
    connection.close()


def timed_publish(label: str, env: dict[str, str], work: Path) -> dict:
    """Run one publish in a child process; wall time and the child's own peak RSS (wait4)."""
    out_path, err_path = work / f"{label}.out", work / f"{label}.err"
    started = time.monotonic()
    with open(out_path, "w") as out, open(err_path, "w") as err:
        child = subprocess.Popen([sys.executable, "-m", "staktrakr", "publish", "--no-push", "--json"],
                                 env=env, cwd=REPO, stdout=out, stderr=err)
        _, status, usage = os.wait4(child.pid, 0)
    elapsed = time.monotonic() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        raise SystemExit(f"{label}: publish failed ({child.returncode}): {err_path.read_text()[-2000:]}")
    result = json.loads(out_path.read_text())
    print(f"{label:12} wall {elapsed:6.2f} s  peak RSS {usage.ru_maxrss / 1024:7.1f} MB  files {result['files']:5}  "
          f"added {len(result['added']):5}  changed {len(result['changed']):4}  commit {bool(result['commit'])}",
          flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--pollers", type=int, default=3)
    parser.add_argument("--targets", type=int, default=200)
    parser.add_argument("--dir", type=Path, default=REPO / "var" / "bench-publish")
    parser.add_argument("--reuse", action="store_true", help="reuse an existing generated database")
    args = parser.parse_args()

    work = args.dir.resolve()
    db_path = work / f"bench-{args.days}d-{args.pollers}p-{args.targets}t.db"
    if not (args.reuse and db_path.exists()):
        for path in (db_path, Path(f"{db_path}-wal"), Path(f"{db_path}-shm")):
            path.unlink(missing_ok=True)
        work.mkdir(parents=True, exist_ok=True)
        generate(db_path, work / "var", args.days, args.pollers, args.targets)
    export = work / "export"
    shutil.rmtree(export, ignore_errors=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TURSO_", "API_", "GITHUB_"))}
    env.update({"TURSO_DATABASE_URL": f"file:{db_path}", "API_EXPORT_DIR": str(export),
                "STAKTRAKR_VAR_DIR": str(work / "var"), "PROVIDERS_FILE": str(REPO / "providers.json"),
                "STAKTRAKR_ENV_FILE": "/nonexistent", "STAKTRAKR_LOG_FORMAT": "json", "POLLER_ID": "bench"})
    print(f"database {db_path.name}: {db_path.stat().st_size / 1e9:.2f} GB")
    timed_publish("full", env, work)
    timed_publish("unchanged", env, work)
    add_cycle(db_path)
    timed_publish("incremental", env, work)


if __name__ == "__main__":
    main()
