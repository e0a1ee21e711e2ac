"""Benchmark publish on a database shaped like the shared one (tests/realistic_db.py).

    .venv/bin/python bench/publish.py                 # 31 days x 3 pollers x 168 targets (1.44M rows)
    .venv/bin/python bench/publish.py --days 365      # 17M rows; generating it takes a while, once

The generated database is kept in --cache (default: $TMPDIR/staktrakr-bench) and reused; each
run appends its new cycles to it. Every figure is a whole child process (interpreter start
included), wall time, CPU time (user + system: what a busy machine does not inflate) and the
child's own peak RSS (wait4), median of --repeat runs:
- `staktrakr --version`;
- full: `staktrakr publish --no-push` into an empty export directory;
- unchanged: the same again, nothing new in the database;
- one new cycle: after every poller's rows of one more 15-minute window and its spot slot.
Goals (issue 13, 31 days): full <= 1.5 s, unchanged <= 0.6 s, one new cycle <= 25% of full,
peak RSS <= 100 MB; at 365 days within 1.5x of those.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.realistic_db import add_cycle, generate  # noqa: E402

Run = tuple[float, float, float, str]  # wall s, CPU s (user + system), peak RSS MB, stdout


def run_child(args: list[str], env: dict[str, str], work: Path, label: str) -> Run:
    """One child process's figures; exits naming `label` when it fails."""
    out_path, err_path = work / f"{label}.out", work / f"{label}.err"
    started = time.monotonic()
    with open(out_path, "w") as out, open(err_path, "w") as err:
        child = subprocess.Popen([sys.executable, *args], env=env, cwd=REPO, stdout=out, stderr=err)
        _, status, usage = os.wait4(child.pid, 0)
    elapsed = time.monotonic() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{label}: exit {os.waitstatus_to_exitcode(status)}: {err_path.read_text()[-2000:]}")
    return elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, out_path.read_text()


def report(label: str, runs: list[Run], full: float | None = None) -> float:
    wall = statistics.median(r[0] for r in runs)
    cpu = statistics.median(r[1] for r in runs)
    rss = max(r[2] for r in runs)
    detail = ""
    if runs[-1][3].lstrip().startswith("{"):
        result = json.loads(runs[-1][3])
        detail = (f"  files {result['files']:5}  written {len(result['added']) + len(result['changed']):5}"
                  f"  commit {bool(result['commit'])}")
    share = f"  ({wall / full:4.0%} of full)" if full else ""
    print(f"{label:14} wall {wall:6.2f} s  CPU {cpu:6.2f} s  peak RSS {rss:6.1f} MB{share}{detail}", flush=True)
    return wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--days", type=int, default=31)
    parser.add_argument("--pollers", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "staktrakr-bench")
    args = parser.parse_args()

    work = args.cache.resolve()
    work.mkdir(parents=True, exist_ok=True)
    db_path = work / f"realistic-{args.days}d-{args.pollers}p.db"
    if not db_path.exists():
        started = time.monotonic()
        partial = db_path.with_suffix(".partial")
        partial.unlink(missing_ok=True)
        rows = generate(partial, args.days, args.pollers)
        partial.rename(db_path)
        print(f"generated {rows:,} price rows in {time.monotonic() - started:.0f} s ({db_path})")
    print(f"database {db_path.name}: {db_path.stat().st_size / 1e9:.2f} GB", flush=True)
    export = work / f"export-{args.days}d"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TURSO_", "API_", "GITHUB_", "STAKTRAKR_"))}
    env.update({"TURSO_DATABASE_URL": f"file:{db_path}", "API_EXPORT_DIR": str(export),
                "STAKTRAKR_VAR_DIR": str(work / "var"), "PROVIDERS_FILE": str(REPO / "providers.json"),
                "STAKTRAKR_ENV_FILE": "/nonexistent", "STAKTRAKR_LOG_FORMAT": "json", "POLLER_ID": "bench"})
    publish = ["-m", "staktrakr", "publish", "--no-push", "--json"]

    report("--version", [run_child(["-m", "staktrakr", "--version"], env, work, "version")
                         for _ in range(args.repeat)])
    fulls = []
    for _ in range(args.repeat):
        shutil.rmtree(export, ignore_errors=True)
        fulls.append(run_child(publish, env, work, "full"))
    full = report("full", fulls)
    report("unchanged", [run_child(publish, env, work, "unchanged") for _ in range(args.repeat)], full)
    cycles = []
    for _ in range(args.repeat):
        add_cycle(db_path)
        cycles.append(run_child(publish, env, work, "cycle"))
    report("one new cycle", cycles, full)


if __name__ == "__main__":
    main()
