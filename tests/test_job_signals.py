"""A real `staktrakr scrape` stopped mid-cycle (SIGTERM, SIGINT, SIGKILL), with the database up,
down or frozen: after the next run every fetched observation is stored exactly once and every
run has a final row. The scrape is a child process against an https dealer farm on 127.0.0.1
and a real sqld; signals are real (tests/faults.py)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from staktrakr.settings import load_settings
from staktrakr.store import Store
from tests.conftest import REPO, RUNNER
from tests.farm import Farm, page_text
from tests.faults import ScrapeProcess, farm_targets, freeze, job_env, kill_server, run_job, tls_context, write_catalog

VENDORS, PER_VENDOR = 3, 8
TARGETS = VENDORS * PER_VENDOR


@pytest.fixture
def slow_farm(farm_cert):
    """3 https vendor hosts x 8 pages, 0.25 s per page: a cycle lasts ~2 s, long enough to stop it midway."""
    farm = Farm(tls=tls_context(farm_cert))
    targets = farm_targets(farm, VENDORS, PER_VENDOR, page_text)
    for host in farm:
        host.latency_s = 0.25
    yield farm, targets
    farm.stop()


@pytest.fixture
def scrape_env(slow_farm, farm_cert, libsql_server, tmp_path):
    _, targets = slow_farm
    providers = write_catalog(tmp_path / "providers.json", targets)
    return job_env(tmp_path / "var", libsql_server.url, providers, farm_cert)


def query(env: dict[str, str], sql: str, args=()) -> list[dict]:
    settings = load_settings(turso_database_url=env["TURSO_DATABASE_URL"], STAKTRAKR_VAR_DIR=env["STAKTRAKR_VAR_DIR"])
    with Store.open(settings) as store:
        return store.db.query(sql, list(args))


def assert_each_target_once(env: dict[str, str]) -> list[dict]:
    """Every (window, coin, vendor) has exactly one snapshot: nothing duplicated."""
    rows = query(env, "SELECT window_start, coin_slug, vendor, COUNT(*) AS n FROM price_snapshots "
                      "GROUP BY window_start, coin_slug, vendor")
    assert rows and all(row["n"] == 1 for row in rows), rows
    return rows


def run_row(env: dict[str, str], run_id: str) -> dict:
    return query(env, "SELECT status, total, captured, failures, error FROM poller_runs WHERE run_id = ?", [run_id])[0]


def stop_mid_cycle(env: dict[str, str], signum: int, after_targets: int) -> tuple[int, dict, str]:
    """A real scrape sent `signum` once `after_targets` targets are journaled: (exit code, its JSON, stderr)."""
    run = ScrapeProcess(env).start()
    run.wait_for_journal(after_targets)
    run.send(signum)
    code, out, err = run.finish()
    return code, json.loads(out), err


def rows_of(env: dict[str, str], run_id: str) -> int:
    return query(env, "SELECT COUNT(*) AS n FROM price_snapshots WHERE run_id = ?", [run_id])[0]["n"]


def flushed_exactly_once(env: dict[str, str], result: dict) -> None:
    """After the next run (`db flush`), the interrupted run's finished targets are stored once."""
    assert run_job(env, "db", "flush").returncode == 0
    assert rows_of(env, result["run_id"]) == result["total"]
    assert run_row(env, result["run_id"])["status"] == "interrupted"
    assert_each_target_once(env)


def same_window(*results: dict) -> None:
    if len({result["window_start"] for result in results}) > 1:
        pytest.skip("the runs crossed a 15-minute window boundary")


def test_sigterm_mid_cycle_stores_what_was_fetched_and_exits_143(scrape_env):
    run = ScrapeProcess(scrape_env).start()
    at_signal = run.wait_for_journal(5)
    run.send(signal.SIGTERM)
    code, out, err = run.finish()
    assert code == 143, err
    result = json.loads(out)
    assert result["status"] == "interrupted" and result["signal"] == "SIGTERM"
    finished = result["total"]
    assert at_signal <= finished < TARGETS
    assert "error: scrape: interrupted by SIGTERM" in err and "Traceback" not in err
    assert rows_of(scrape_env, result["run_id"]) == finished
    row = run_row(scrape_env, result["run_id"])
    assert row["status"] == "interrupted" and row["total"] == TARGETS
    assert row["captured"] + row["failures"] == finished and "SIGTERM" in row["error"]
    assert not list(run.journal_dir.glob("*.jsonl"))           # stored: nothing left to recover

    code, out, _ = ScrapeProcess(scrape_env).start().finish()   # the next run
    assert code == 0
    same_window(result, json.loads(out))
    assert len(assert_each_target_once(scrape_env)) == TARGETS
    assert rows_of(scrape_env, result["run_id"]) == finished


def test_sigint_exits_130(scrape_env):
    code, result, err = stop_mid_cycle(scrape_env, signal.SIGINT, 2)
    assert code == 130, err
    assert result["signal"] == "SIGINT" and run_row(scrape_env, result["run_id"])["status"] == "interrupted"


def test_sigkill_mid_cycle_loses_nothing_the_next_run_replays_the_journal(scrape_env):
    run = ScrapeProcess(scrape_env).start()
    run.wait_for_journal(6)
    run.send(signal.SIGKILL)
    code, _, _ = run.finish()
    assert code == -signal.SIGKILL
    journals = list(run.journal_dir.glob("*.jsonl"))
    assert len(journals) == 1
    killed_run = journals[0].stem
    journaled = run.journaled()
    assert journaled >= 6
    assert run_row(scrape_env, killed_run)["status"] == "running"

    code, out, err = ScrapeProcess(scrape_env).start().finish()   # the next run
    assert code == 0, err
    nxt = json.loads(out)
    assert nxt["run"]["recovered_runs"] == [killed_run]
    assert rows_of(scrape_env, killed_run) == journaled
    row = run_row(scrape_env, killed_run)
    assert row["status"] == "interrupted" and "recovered from its journal" in row["error"]
    assert row["captured"] + row["failures"] == journaled
    assert not list(run.journal_dir.glob("*.jsonl"))
    rows = assert_each_target_once(scrape_env)
    if len({r["window_start"] for r in rows}) == 1:
        assert len(rows) == TARGETS


def test_sigterm_with_the_database_down_queues_then_the_next_run_stores_once(scrape_env, libsql_server):
    assert run_job(scrape_env, "db", "migrate").returncode == 0
    kill_server(libsql_server)
    code, result, err = stop_mid_cycle(scrape_env, signal.SIGTERM, 4)
    assert code == 143, err
    assert result["stored_rows"] == 0 and result["queued_rows"] >= result["total"] + 1
    libsql_server.start()
    flushed_exactly_once(scrape_env, result)


def test_database_frozen_mid_cycle_does_not_hang_the_scrape(scrape_env, libsql_server):
    """sqld SIGSTOPped after the run started: the final batch times out into the outbox (the old
    client waited until the cron timeout killed the job, with the cycle only in memory)."""
    run = ScrapeProcess(scrape_env).start()
    run.wait_for_journal(3)
    with freeze(libsql_server):
        code, out, err = run.finish(timeout_s=90)
        assert code == 0, err
        result = json.loads(out)
        assert result["total"] == TARGETS and result["stored_rows"] == 0 and result["queued_rows"] > TARGETS
        assert "no answer within" in result["store_error"]
    code, out, _ = ScrapeProcess(scrape_env).start().finish()   # the next run, sqld answering again
    assert code == 0
    nxt = json.loads(out)
    assert nxt["replayed_rows"] >= TARGETS
    same_window(result, nxt)
    assert rows_of(scrape_env, result["run_id"]) == TARGETS
    assert run_row(scrape_env, result["run_id"])["status"] == "ok"
    assert len(assert_each_target_once(scrape_env)) == TARGETS


def start_runner(scrape_env: dict[str, str], tmp_path: Path) -> tuple[subprocess.Popen, dict[str, str]]:
    """`bin/staktrakr-cron scrape --json` with a private env file, as cron starts it."""
    env_file = tmp_path / "cron.env"
    env_file.write_text(f"POLLER_ID=soak\nTURSO_DATABASE_URL={scrape_env['TURSO_DATABASE_URL']}\n", encoding="utf-8")
    env_file.chmod(0o600)
    env = {**scrape_env, "STAKTRAKR_ENV_FILE": str(env_file)}
    runner = subprocess.Popen([str(RUNNER), "scrape", "--json"], env=env, cwd=tmp_path, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    return runner, env


def test_sigterm_with_the_database_frozen_ends_within_the_runners_grace(scrape_env, libsql_server, tmp_path):
    """The job has TERM_GRACE_S (10 s) before the runner kills it (exit 137): with sqld frozen its
    last write gives up after 5 s and the rows go to the outbox, so it still ends 143."""
    assert run_job(scrape_env, "db", "migrate").returncode == 0
    runner, env = start_runner(scrape_env, tmp_path)
    ScrapeProcess(env).wait_for_journal(3)
    with freeze(libsql_server):
        os.kill(runner.pid, signal.SIGTERM)
        out, err = runner.communicate(timeout=60)
        assert runner.returncode == 143, err      # 137 would mean the runner had to kill it
        result = json.loads(out.strip().rsplit("\n", 1)[0])
        assert result["queued_rows"] > result["total"] >= 3 and result["stored_rows"] == 0
    flushed_exactly_once(scrape_env, result)


def test_cron_runner_passes_sigterm_to_the_job(scrape_env, tmp_path):
    runner, env = start_runner(scrape_env, tmp_path)
    ScrapeProcess(env).wait_for_journal(3)
    assert (Path(env["STAKTRAKR_VAR_DIR"]) / "run" / "cron-scrape.pid").read_text().strip() == str(runner.pid)
    os.kill(runner.pid, signal.SIGTERM)
    out, err = runner.communicate(timeout=60)
    assert runner.returncode == 143, err
    record = json.loads(out.strip().splitlines()[-1])
    assert record["status"] == "interrupted" and record["signal"] == "SIGTERM" and record["exit_code"] == 143
    result = json.loads(out.strip().rsplit("\n", 1)[0])
    assert run_row(scrape_env, result["run_id"])["status"] == "interrupted"
    assert not (Path(env["STAKTRAKR_VAR_DIR"]) / "run" / "cron-scrape.pid").exists()


def test_container_stop_reaches_running_jobs_through_cron_sh(tmp_path):
    """fly-poller/cron.sh: supervisord's TERM stops cron and passes TERM to each recorded runner,
    which passes it to its job; cron.sh waits for them, then exits."""
    fake_cron = tmp_path / "cron"
    fake_cron.write_text("#!/bin/sh\nexec sleep 600\n", encoding="utf-8")
    fake_cron.chmod(0o755)
    env_file = tmp_path / "env"
    env_file.write_text("POLLER_ID=api\n", encoding="utf-8")
    env_file.chmod(0o600)
    var_dir = tmp_path / "var"
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "STAKTRAKR_ENV_FILE": str(env_file),
           "STAKTRAKR_VAR_DIR": str(var_dir), "STAKTRAKR_CRON_TEST_JOBS": "1", "STAKTRAKR_LOG_FORMAT": "json",
           "CRON": str(fake_cron), "STOP_WAIT_S": "20", "STAKTRAKR_RUN_USER": "root",
           "STAKTRAKR_JOB_LOG": str(tmp_path / "run" / "job-output")}
    cron = subprocess.Popen([str(REPO / "fly-poller" / "cron.sh")], env=env, start_new_session=True,
                            stdout=subprocess.PIPE, text=True)
    runner = subprocess.Popen([str(RUNNER), "sleep", "300"], env=env, cwd=tmp_path, stdout=subprocess.PIPE, text=True,
                              start_new_session=True)  # cron starts each job in a session of its own
    pid_file = var_dir / "run" / "cron-sleep.pid"
    deadline = time.monotonic() + 30
    while not pid_file.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert pid_file.exists()
    job_log = tmp_path / "run" / "job-output"  # what each crontab line appends to, as the jobs' user
    assert job_log.is_fifo()
    with open(job_log, "a", encoding="utf-8") as job_output:
        job_output.write('{"event":"cron","job":"spot"}\n')
    os.kill(cron.pid, signal.SIGTERM)
    copied, _ = cron.communicate(timeout=30)
    assert cron.returncode == 0
    assert '{"event":"cron","job":"spot"}' in copied  # cron.sh's stdout is supervisord's, so `fly logs`
    out, _ = runner.communicate(timeout=30)
    record = json.loads(out.strip().splitlines()[-1])
    assert record["status"] == "interrupted" and record["signal"] == "SIGTERM"
    assert not pid_file.exists()


def test_a_run_killed_before_its_first_target_is_still_accounted_for(scrape_env):
    run = ScrapeProcess(scrape_env).start()
    deadline = time.monotonic() + 60
    while not list(run.journal_dir.glob("*.jsonl")) and time.monotonic() < deadline:
        time.sleep(0.005)
    run.send(signal.SIGKILL)
    run.finish()
    killed = [path.stem for path in run.journal_dir.glob("*.jsonl")]
    assert len(killed) == 1
    journaled = run.journaled()
    assert run_job(scrape_env, "db", "flush").returncode == 0     # any later run recovers it
    row = run_row(scrape_env, killed[0])
    assert row["status"] == "interrupted" and "the process was killed" in row["error"]
    assert rows_of(scrape_env, killed[0]) == journaled
    assert query(scrape_env, "SELECT COUNT(*) AS n FROM poller_runs WHERE status = 'running'")[0]["n"] == 0


def test_any_killed_job_is_recorded_interrupted_by_the_next_run(scrape_env, tmp_path):
    """Not only scrape: a publish (here a harness run that sleeps) SIGKILLed midway leaves a journal
    with its run, and the next run of any job closes its row as `interrupted`."""
    code = ("import time; from staktrakr.settings import load_settings; from staktrakr.store import Store; "
            "from staktrakr.jobs.harness import JobRun; s = load_settings(); store = Store.open(s); "
            "run = JobRun(s, store, 'publish').__enter__(); print(run.run_id, flush=True); time.sleep(60)")
    child = subprocess.Popen([sys.executable, "-P", "-c", code], env=scrape_env, cwd=REPO, stdout=subprocess.PIPE,
                             text=True)
    run_id = child.stdout.readline().strip()
    child.kill()
    child.wait()
    assert run_row(scrape_env, run_id)["status"] == "running"
    assert run_job(scrape_env, "db", "flush").returncode == 0
    row = run_row(scrape_env, run_id)
    assert row["status"] == "interrupted" and "nothing in its journal to recover" in row["error"]
