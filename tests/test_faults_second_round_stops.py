"""Second round of attacks on stop deadlines: a stop must end a job within the runner's grace
(TERM_GRACE_S) whatever it is waiting for: a frozen database, a slow API, a git remote that
never answers, and serve must take its triggered jobs down with it. Real processes, real
signals, real sqld (SIGSTOPped from the test), real HTTP servers on 127.0.0.1."""

from __future__ import annotations

import json
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from fake_apis import API_KEY, FakeMetalPriceApi, FakeSite, Reply, latest_body

from staktrakr.ops.process import TERM_GRACE_S
from staktrakr.ops.server import create_app
from staktrakr.settings import load_settings
from staktrakr.store import Store
from tests.conftest import free_port
from tests.farm import Farm, page_text
from tests.faults import (
    REPO,
    ScrapeProcess,
    catches_signal,
    farm_targets,
    freeze,
    job_env,
    run_job,
    tls_context,
    write_catalog,
)
from tests.ops_fixtures import running_server

VENDORS, PER_VENDOR = 3, 8
TARGETS = VENDORS * PER_VENDOR


def query(env: dict[str, str], sql: str, args=()) -> list[dict]:
    settings = load_settings(turso_database_url=env["TURSO_DATABASE_URL"], STAKTRAKR_VAR_DIR=env["STAKTRAKR_VAR_DIR"])
    with Store.open(settings) as store:
        return store.db.query(sql, list(args))


def start_job(env: dict[str, str], *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-P", "-m", "staktrakr", *args], env=env, cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)


def stop_and_time(process: subprocess.Popen, signum: int = signal.SIGTERM) -> tuple[float, int, str, str]:
    """Send `signum`; (seconds until the process ended, exit code, stdout, stderr)."""
    sent = time.monotonic()
    process.send_signal(signum)
    out, err = process.communicate(timeout=120)
    return time.monotonic() - sent, process.returncode, out, err


def wait_for(condition, timeout_s: float = 60, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not reached in {timeout_s} s")
        time.sleep(0.02)


@pytest.fixture
def slow_farm(farm_cert):
    farm = Farm(tls=tls_context(farm_cert))
    targets = farm_targets(farm, VENDORS, PER_VENDOR, page_text, prefix="stop")
    for host in farm:
        host.latency_s = 0.25
    yield targets
    farm.stop()


@pytest.fixture
def scrape_env(slow_farm, farm_cert, libsql_server, tmp_path):
    return job_env(tmp_path / "var", libsql_server.url, write_catalog(tmp_path / "providers.json", slow_farm),
                   farm_cert)


# --- a database frozen while the job starts --------------------------------------------------------

def test_sigterm_while_the_database_is_frozen_at_start_ends_within_the_grace(scrape_env, libsql_server):
    """Default timeouts (10 s connect + 20 s statement): the first call used to wait them out
    (26.8 s from TERM to exit). The stop now cuts the waiting call; the run is queued."""
    env = {k: v for k, v in scrape_env.items() if k not in ("DB_CONNECT_TIMEOUT_S", "DB_STATEMENT_TIMEOUT_S")}
    assert run_job(env, "db", "migrate").returncode == 0
    lock = Path(env["STAKTRAKR_VAR_DIR"]) / "locks" / "scrape.lock"
    with freeze(libsql_server):
        process = start_job(env, "scrape", "--json")
        wait_for(lock.exists, what="the scrape's lock")
        time.sleep(1.0)                               # it is waiting on the frozen database now
        waited, code, out, err = stop_and_time(process)
        assert code == 143, err
        assert waited < TERM_GRACE_S - 1, f"{waited:.1f} s from SIGTERM to exit"
        assert "Traceback" not in err and "DB_STATEMENT_TIMEOUT_S" not in out + err
        assert "stop deadline" in err
        result = json.loads(out)
    assert run_job(env, "db", "flush").returncode == 0
    assert query(env, "SELECT status FROM poller_runs WHERE run_id = ?", [result["run_id"]]) == \
        [{"status": "interrupted"}]


def test_a_second_sigterm_still_stores_and_counts_what_was_fetched(scrape_env, libsql_server):
    """The second TERM used to leave the run `interrupted` with no counts (and the rows to a later
    recovery that could never correct it): the journaled targets now go in the last batch."""
    assert run_job(scrape_env, "db", "migrate").returncode == 0
    run = ScrapeProcess(scrape_env).start()
    run.wait_for_journal(5)
    with freeze(libsql_server):                 # the final write waits: room for a second signal
        run.send(signal.SIGTERM)
        time.sleep(1.0)
        run.send(signal.SIGTERM)
        code, _out, err = run.finish()
    assert code == 143, err
    assert "Traceback" not in err
    journals = list(run.journal_dir.glob("*.jsonl"))
    assert journals == []                        # nothing left for a recovery: the rows are queued
    assert run_job(scrape_env, "db", "flush").returncode == 0
    rows = query(scrape_env, "SELECT run_id, status, total, captured, failures FROM poller_runs")
    assert len(rows) == 1 and rows[0]["status"] == "interrupted" and rows[0]["total"] == TARGETS
    stored = query(scrape_env, "SELECT COUNT(*) AS n FROM price_snapshots WHERE run_id = ?", [rows[0]["run_id"]])
    assert stored[0]["n"] >= 5 and rows[0]["captured"] + rows[0]["failures"] == stored[0]["n"]


# --- spot and goldback start no new call after a stop ----------------------------------------------

def test_spot_ends_its_api_call_and_starts_no_confirming_call_after_sigterm(libsql_server, tmp_path):
    """No stored reference: the first answer needs a confirming second call. With 8 s per answer
    spot used to take 16 s after a TERM (finishing the call, then starting the second)."""
    with FakeMetalPriceApi() as api:
        api.default_latest = Reply(body=latest_body(), delay_s=8)
        env = job_env(tmp_path / "var", libsql_server.url, REPO / "providers.json",
                      METAL_PRICE_API_KEY=API_KEY, METAL_PRICE_API_BASE_URL=api.base_url)
        process = start_job(env, "spot", "--json")
        wait_for(lambda: len(api.calls("latest")) == 1, what="the first /latest call")
        waited, code, _out, err = stop_and_time(process)
        assert code == 143, err
        assert waited < 4, f"{waited:.1f} s from SIGTERM to exit"
        assert "Traceback" not in err and "interrupted by SIGTERM during the MetalPriceAPI calls" in err
        time.sleep(1.0)
        assert len(api.calls("latest")) == 1
    assert query(env, "SELECT status FROM poller_runs WHERE job = 'spot'") == [{"status": "interrupted"}]
    assert query(env, "SELECT COUNT(*) AS n FROM spot_prices")[0]["n"] == 0


def test_goldback_ends_its_fetch_after_sigterm(libsql_server, tmp_path):
    page = ("<!doctype html><html><head><title>Exchange Rates | Goldback</title></head><body><main>"
            "<h1>Goldback Exchange Rate</h1><h2>1 Goldback = $10.06</h2></main></body></html>")
    with FakeSite() as site:
        site.pages["/exchange-rates/"] = Reply(body=page, content_type="text/html", delay_s=8)
        env = job_env(tmp_path / "var", libsql_server.url, REPO / "providers.json",
                      GOLDBACK_URL=site.url("/exchange-rates/"))
        process = start_job(env, "goldback", "--json")
        wait_for(lambda: len(site.requests) == 1, what="the rate page request")
        waited, code, _out, err = stop_and_time(process)
        assert code == 143, err
        assert waited < 4, f"{waited:.1f} s from SIGTERM to exit"
        assert "interrupted by SIGTERM during fetching the rate" in err
        time.sleep(1.0)
        assert len(site.requests) == 1
    assert query(env, "SELECT status FROM poller_runs WHERE job = 'goldback'") == [{"status": "interrupted"}]


# --- git remotes that never answer -----------------------------------------------------------------

class BlackHole:
    """A TCP server on 127.0.0.1 that accepts connections and never answers."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.connections: list[socket.socket] = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections.append(conn)

    def close(self) -> None:
        self.sock.close()
        for conn in self.connections:
            conn.close()


@pytest.fixture
def black_hole():
    hole = BlackHole()
    yield hole
    hole.close()


def processes_naming(text: str) -> list[int]:
    """PIDs whose command line contains `text` (git and its remote-https children)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                state = (entry / "stat").read_text().split(") ", 1)[1][0]
            except OSError:
                continue
            if text in cmdline and state != "Z":
                found.append(int(entry.name))
    return found


def test_a_git_remote_that_never_answers_times_out_with_one_line(black_hole, tmp_path):
    sqlite3.connect(tmp_path / "db.sqlite").close()  # publish reads an existing database
    remote = f"http://127.0.0.1:{black_hole.port}/api.git"
    env = job_env(tmp_path / "var", "file:" + str(tmp_path / "db.sqlite"), REPO / "providers.json",
                  API_DATA_REPO=remote, API_EXPORT_DIR=str(tmp_path / "export"), GIT_TIMEOUT_S="2")
    started = time.monotonic()
    done = run_job(env, "publish", timeout_s=60)
    assert done.returncode == 1, done.stderr
    assert time.monotonic() - started < 30
    assert "no answer from the remote within 2 s (GIT_TIMEOUT_S)" in done.stderr
    assert "Traceback" not in done.stderr
    assert processes_naming(str(black_hole.port)) == []


def test_sigterm_stops_publish_and_its_git_processes(black_hole, tmp_path):
    """The clone hung with TERM ignored; a second TERM left `git remote-http` orphans behind."""
    sqlite3.connect(tmp_path / "db.sqlite").close()  # publish reads an existing database
    remote = f"http://127.0.0.1:{black_hole.port}/api.git"
    env = job_env(tmp_path / "var", "file:" + str(tmp_path / "db.sqlite"), REPO / "providers.json",
                  API_DATA_REPO=remote, API_EXPORT_DIR=str(tmp_path / "export"))
    process = start_job(env, "publish")
    wait_for(lambda: black_hole.connections, what="git connecting to the remote")
    assert processes_naming(str(black_hole.port))
    waited, code, _out, err = stop_and_time(process)
    assert code == 143, err
    assert waited < TERM_GRACE_S - 1, f"{waited:.1f} s from SIGTERM to exit"
    assert "git was stopped: the job received SIGTERM" in err and "Traceback" not in err
    assert processes_naming(str(black_hole.port)) == []


# --- serve takes its triggered jobs down with it ---------------------------------------------------

def test_serve_stops_the_jobs_it_triggered(tmp_path):
    port = free_port()
    env = job_env(tmp_path / "var", "file:" + str(tmp_path / "db.sqlite"), REPO / "providers.json",
                  OPS_TRIGGER_TOKEN="trigger-token-0123456789", STAKTRAKR_CRON_TEST_JOBS="1",
                  STAKTRAKR_TEST_SLEEP_S="300", API_EXPORT_DIR=str(tmp_path / "export"))
    serve = start_job(env, "serve", "--port", str(port))
    base = f"http://127.0.0.1:{port}"

    def answering() -> bool:
        try:
            return httpx.get(f"{base}/livez", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        wait_for(answering, what="serve answering")
        started = httpx.post(f"{base}/api/ops/trigger/sleep",
                             headers={"Authorization": "Bearer trigger-token-0123456789"}, timeout=10)
        assert started.status_code == 202
        pid_file = tmp_path / "var" / "run" / "trigger-sleep.pid"
        wait_for(pid_file.exists, what="the triggered job's pid file")
        job_pid = int(pid_file.read_text())
        assert Path(f"/proc/{job_pid}").exists()
        waited, _code, out, _err = stop_and_time(serve)
    finally:
        if serve.poll() is None:
            serve.kill()
    assert waited < TERM_GRACE_S + 5
    assert not Path(f"/proc/{job_pid}").exists() or "Z" in Path(f"/proc/{job_pid}/stat").read_text().split(") ")[1][:1]
    assert not pid_file.exists()
    assert '"event":"trigger","job":"sleep"' in out and '"signal":"SIGTERM"' in out


# --- a signal while the program starts -------------------------------------------------------------

@pytest.mark.parametrize("signum, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_while_starting_is_one_line_not_a_traceback(signum, code, tmp_path):
    """SIGINT during the imports gave a KeyboardInterrupt traceback; SIGTERM killed silently.
    The signal goes out once the process catches SIGTERM (the first thing `python -m staktrakr`
    does; before it, only the interpreter's own start-up runs), then after a few more delays."""
    env = job_env(tmp_path / "var", "file:" + str(tmp_path / "db.sqlite"), REPO / "providers.json")
    stopped = 0
    for delay in (0.0, 0.15, 0.3):
        process = start_job(env, "status")
        wait_for(lambda started=process: catches_signal(started.pid, signal.SIGTERM) or started.poll() is not None,
                 timeout_s=30, what="the SIGTERM handler")
        time.sleep(delay)
        _waited, returncode, _out, err = stop_and_time(process, signum)
        if returncode == 0:
            continue  # it finished before the signal: nothing to check this time
        stopped += 1
        assert returncode == code, err
        assert "Traceback" not in err and f"interrupted by {signal.Signals(signum).name}" in err
    assert stopped, "every run finished before its signal: the start-up window was never hit"


# --- /healthz after a database timeout -------------------------------------------------------------

def test_healthz_sees_the_database_back_within_seconds(libsql_server, make_settings, tmp_path):
    """One timeout made /healthz report the database down for 60 s after it was back."""
    settings = make_settings(turso_database_url=libsql_server.url, db_connect_timeout_s=1, db_statement_timeout_s=1,
                             api_export_dir=tmp_path / "export")
    with running_server(create_app(settings)) as base:
        with freeze(libsql_server):
            down = httpx.get(f"{base}/healthz", timeout=30).json()
            assert down["database"]["reachable"] is False
        back_at = time.monotonic()

        def reachable() -> bool:
            return httpx.get(f"{base}/healthz", timeout=30).json()["database"]["reachable"]

        wait_for(reachable, timeout_s=15, what="/healthz seeing the database")
        assert time.monotonic() - back_at < 10
