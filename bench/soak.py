"""Soak: many real scrape cycles with random kills, then count rows expected vs found (exactly once).

Each cycle is a real `python -P -m staktrakr scrape --json` process against an https dealer farm
on 127.0.0.1 and a real sqld. At random moments the soak sends the scrape SIGTERM or SIGKILL,
SIGKILLs sqld (restarted a little later) or freezes it with SIGSTOP (SIGCONT a little later),
alone or together. Every cycle has its own POLLER_ID, so its rows can be counted apart
(windows repeat within 15 minutes and the idempotency key would merge them otherwise).

Expected rows of a cycle = the targets the process itself says it finished: its JSON result
(clean exit or SIGTERM), else its journal as the kill left it (read before the next run), else
its final run row (a kill after the cycle was settled). Found = price_snapshots rows of that
poller after the last run and `db flush`. Also checked: no duplicates per (coin, vendor), no
run left `running`, nothing quarantined, and the farm as a witness (rows never exceed the
pages the farm served during the cycle).

    .venv/bin/python bench/soak.py [--cycles 150] [--vendors 4] [--targets 6] [--latency 0.12] [--seed 11]
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from staktrakr.settings import load_settings  # noqa: E402
from staktrakr.store import Store  # noqa: E402
from tests.conftest import LibsqlServer, free_port  # noqa: E402
from tests.farm import Farm, page_text  # noqa: E402
from tests.faults import (  # noqa: E402
    ScrapeProcess,
    farm_targets,
    job_env,
    make_certificate,
    run_job,
    signal_server,
    tls_context,
    write_catalog,
)


@dataclass
class Cycle:
    number: int
    poller: str
    actions: list[str] = field(default_factory=list)
    landed: list[str] = field(default_factory=list)     # the signals that found the scrape still running
    exit_code: int | None = None
    run_id: str | None = None
    expected: int | None = None
    expected_from: str = ""
    served: int = 0
    found: int = 0
    duplicates: int = 0
    run_status: str | None = None


class Database:
    """The soak's sqld with kill/restart and freeze/thaw that never overlap."""

    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True)
        self.server = LibsqlServer(folder, free_port())
        self.server.start()
        self.lock = threading.Lock()
        self.frozen = False

    @property
    def url(self) -> str:
        return self.server.url

    def kill(self) -> None:
        with self.lock:
            if self.server.process is not None and not self.frozen:
                signal_server(self.server, signal.SIGKILL)
                self.server.process.wait()
                self.server.process = None

    def restart(self) -> None:
        with self.lock:
            if self.server.process is None:
                self.server.start()

    def freeze(self) -> None:
        with self.lock:
            if self.server.process is not None and not self.frozen:
                signal_server(self.server, signal.SIGSTOP)
                self.frozen = True

    def thaw(self) -> None:
        with self.lock:
            if self.server.process is not None and self.frozen:
                signal_server(self.server, signal.SIGCONT)
            self.frozen = False

    def healthy(self) -> None:
        self.thaw()
        self.restart()

    def stop(self) -> None:
        self.healthy()
        self.server.stop()


def plan(rng: random.Random) -> list[tuple[float, str]]:
    """(delay after start in s, action) for one cycle."""
    actions = []
    roll = rng.random()
    if roll < 0.3:
        actions.append((rng.uniform(0.3, 2.4), "scrape SIGTERM"))
    elif roll < 0.6:
        actions.append((rng.uniform(0.3, 2.4), "scrape SIGKILL"))
    if rng.random() < 0.25:
        actions.append((rng.uniform(0.0, 2.5), "sqld SIGKILL"))
    elif rng.random() < 0.25:
        actions.append((rng.uniform(0.0, 2.5), "sqld SIGSTOP"))
    return actions


def journal_ops(var_dir: Path) -> dict[str, int]:
    """run_id -> finished targets in each journal left behind (read before the next run recovers it)."""
    counts = {}
    for path in (var_dir / "journal").glob("*.jsonl"):
        counts[path.stem] = sum(1 for line in path.read_bytes().splitlines() if line.startswith(b'{"ops":'))
    return counts


def run_cycle(cycle: Cycle, env: dict[str, str], db: Database, farm: Farm, rng: random.Random) -> None:
    served_before = sum(host.total_hits for host in farm)
    journals_before = set(journal_ops(Path(env["STAKTRAKR_VAR_DIR"])))
    process = ScrapeProcess({**env, "POLLER_ID": cycle.poller}).start()
    timers = []
    for delay, action in plan(rng):
        cycle.actions.append(action)
        if action.startswith("scrape"):
            signum = signal.SIGTERM if action.endswith("SIGTERM") else signal.SIGKILL
            timers.append(threading.Timer(delay, _send, (process, signum, cycle)))
        elif action == "sqld SIGKILL":
            timers.append(threading.Timer(delay, db.kill))
            timers.append(threading.Timer(delay + rng.uniform(0.5, 4.0), db.restart))
        else:
            timers.append(threading.Timer(delay, db.freeze))
            timers.append(threading.Timer(delay + rng.uniform(0.5, 6.0), db.thaw))
    for timer in timers:
        timer.start()
    code, out, _ = process.finish(timeout_s=300)
    for timer in timers:
        timer.join()
    db.healthy()
    cycle.exit_code = code
    cycle.served = sum(host.total_hits for host in farm) - served_before
    try:
        result = json.loads(out)
        cycle.run_id, cycle.expected, cycle.expected_from = result["run_id"], result["total"], "result"
    except ValueError:
        left = {run_id: n for run_id, n in journal_ops(Path(env["STAKTRAKR_VAR_DIR"])).items()
                if run_id not in journals_before}
        if left:
            (cycle.run_id, cycle.expected), = left.items()
            cycle.expected_from = "journal"


def _send(process: ScrapeProcess, signum: int, cycle: Cycle) -> None:
    if process.process is None or process.process.poll() is not None:
        return  # the cycle had already ended
    try:
        process.send(signum)
        cycle.landed.append(f"scrape {signal.Signals(signum).name}")
    except ProcessLookupError:
        pass


def count(cycles: list[Cycle], env: dict[str, str]) -> None:
    settings = load_settings(turso_database_url=env["TURSO_DATABASE_URL"], STAKTRAKR_VAR_DIR=env["STAKTRAKR_VAR_DIR"])
    with Store.open(settings) as store:
        rows = store.db.query("SELECT poller_id, COUNT(*) AS n, COUNT(DISTINCT coin_slug || '|' || vendor) AS keys "
                              "FROM price_snapshots GROUP BY poller_id")
        runs = store.db.query("SELECT poller_id, run_id, status, captured, failures FROM poller_runs")
    by_poller = {row["poller_id"]: row for row in rows}
    runs_by_poller = {row["poller_id"]: row for row in runs}
    for cycle in cycles:
        found = by_poller.get(cycle.poller)
        cycle.found = found["n"] if found else 0
        cycle.duplicates = (found["n"] - found["keys"]) if found else 0
        run = runs_by_poller.get(cycle.poller)
        cycle.run_status = run["status"] if run else None
        if cycle.expected is None:
            # killed with no JSON and no journal left: settled before the kill, or never started a run
            if run is not None and run["status"] != "running":
                cycle.expected = (run["captured"] or 0) + (run["failures"] or 0)
                cycle.expected_from = "run row"
            else:
                cycle.expected, cycle.expected_from = 0, "no run"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cycles", type=int, default=150)
    parser.add_argument("--vendors", type=int, default=4)
    parser.add_argument("--targets", type=int, default=6, help="targets per vendor")
    parser.add_argument("--latency", type=float, default=0.12, help="seconds per page")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--keep", action="store_true", help="keep the temp folder")
    args = parser.parse_args()

    rng = random.Random(args.seed)
    tmp = Path(tempfile.mkdtemp(prefix="staktrakr-soak-"))
    cert = make_certificate(tmp / "tls")
    farm = Farm(tls=tls_context(cert))
    db = Database(tmp / "sqld")
    started = time.monotonic()
    cycles: list[Cycle] = []
    try:
        targets = farm_targets(farm, args.vendors, args.targets, page_text)
        for host in farm:
            host.latency_s = args.latency
        env = job_env(tmp / "var", db.url, write_catalog(tmp / "providers.json", targets), cert,
                      DB_CONNECT_TIMEOUT_S="1", DB_STATEMENT_TIMEOUT_S="2")
        assert run_job(env, "db", "migrate").returncode == 0
        for number in range(args.cycles):
            cycle = Cycle(number, f"soak-{number:05d}")
            run_cycle(cycle, env, db, farm, rng)
            cycles.append(cycle)
            if (number + 1) % 25 == 0:
                print(f"  {number + 1} cycles, {time.monotonic() - started:.0f} s", flush=True)
        db.healthy()
        final = run_job(env, "db", "flush", "--json")   # the "next run" after the last cycle
        count(cycles, env)
        report(cycles, args, len(targets), final.returncode, time.monotonic() - started, env)
    finally:
        db.stop()
        farm.stop()
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    bad = [c for c in cycles if c.found != c.expected or c.duplicates or c.run_status == "running"]
    return 1 if bad else 0


def report(cycles: list[Cycle], args, per_cycle: int, flush_code: int, elapsed: float, env: dict[str, str]) -> None:
    kills = Counter(action for cycle in cycles for action in cycle.actions)
    expected = sum(c.expected or 0 for c in cycles)
    found = sum(c.found for c in cycles)
    lost = sum(max((c.expected or 0) - c.found, 0) for c in cycles)
    extra = sum(max(c.found - (c.expected or 0), 0) for c in cycles)
    duplicates = sum(c.duplicates for c in cycles)
    running = sum(1 for c in cycles if c.run_status == "running")
    witness = max((c.found - c.served for c in cycles), default=0)
    unfinished = Counter(min(c.served - c.found, 99) for c in cycles)
    with Store.open(load_settings(turso_database_url=env["TURSO_DATABASE_URL"],
                                  STAKTRAKR_VAR_DIR=env["STAKTRAKR_VAR_DIR"])) as store:
        outbox = store.outbox.report()
    print(f"cycles:                 {len(cycles)} ({args.vendors} vendors x {args.targets} targets = {per_cycle} "
          f"per cycle), {elapsed:.0f} s")
    landed = Counter(kind for cycle in cycles for kind in cycle.landed)
    print("kills planned:          " + ", ".join(f"{kind} {n}" for kind, n in sorted(kills.items())))
    print("scrape signals landed:  " + ", ".join(f"{kind} {n}" for kind, n in sorted(landed.items()))
          + " (the rest came after the cycle had ended)")
    print(f"cycles with a kill:     {sum(1 for c in cycles if c.actions)}")
    print("scrape exit codes:      " + ", ".join(f"{code}: {n}" for code, n in sorted(
        Counter(c.exit_code for c in cycles).items(), key=lambda item: str(item[0]))))
    sources = sorted(Counter(c.expected_from for c in cycles).items())
    print("expected counted from:  " + ", ".join(f"{k} {n}" for k, n in sources))
    print(f"rows expected:          {expected}")
    print(f"rows found:             {found}")
    print(f"lost / extra:           {lost} / {extra}")
    print(f"duplicates:             {duplicates}")
    print(f"runs left 'running':    {running}")
    print(f"found > served (farm):  {max(witness, 0)} (must be 0)")
    print("served - found:         " + ", ".join(f"{k}: {n}" for k, n in sorted(unfinished.items())))
    print(f"outbox after flush:     {outbox['entries']} entries, {outbox['quarantined']} quarantined, "
          f"{outbox['rejected']} rejected; final db flush exit {flush_code}")
    print("result:                 " + ("OK: every fetched observation stored exactly once"
                                        if not (lost or extra or duplicates or running) else "FAILED"))


if __name__ == "__main__":
    sys.exit(main())
