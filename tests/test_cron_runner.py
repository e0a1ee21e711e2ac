"""`bin/staktrakr-cron JOB [ARGS]`: overlap lock, timeout, env file permissions, exit codes, log line.

Uses the test-only `sleep [SECONDS [EXIT_CODE]]` job (enabled by STAKTRAKR_CRON_TEST_JOBS=1) for
lock and timeout behaviour, and real commands (`db status`, `providers validate`) for the rest.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from staktrakr.ops.jobs import job_command, job_lock
from tests.cli_helpers import not_a_dir
from tests.conftest import REPO, RUNNER


@pytest.fixture
def cron_env(tmp_path):
    """A minimal environment like cron's, plus the env file the runner loads."""
    env_file = tmp_path / "staktrakr.env"
    env_file.write_text(f'POLLER_ID=home\nTURSO_DATABASE_URL="file:{tmp_path}/db/from-env-file.db"\n', encoding="utf-8")
    env_file.chmod(0o600)
    return {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "STAKTRAKR_ENV_FILE": str(env_file),
        "STAKTRAKR_VAR_DIR": str(tmp_path / "var"),
        "STAKTRAKR_CRON_TEST_JOBS": "1",
        "STAKTRAKR_LOG_FORMAT": "json",
        "PROVIDERS_FILE": str(REPO / "providers.json"),
    }


def run_cron(env, *args, timeout=60):
    return subprocess.run([str(RUNNER), *args], env=env, capture_output=True, text=True, timeout=timeout, cwd=env["HOME"])


def log_record(stdout: str) -> dict:
    """The runner's JSON line: the last line of stdout."""
    return json.loads(stdout.strip().splitlines()[-1])


def wait_for_job(pid: int, deadline_s: float = 30) -> None:
    """Until the runner (after the sh launcher's exec) has started its job, which it does only
    once it holds the lock. Before the exec, the launcher's `$(...)` subshell is a child too."""
    proc = Path(f"/proc/{pid}")
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        try:
            runner = b"-m\0staktrakr\0ops\0cron\0" in (proc / "cmdline").read_bytes()
            children = (proc / "task" / str(pid) / "children").read_text().split()
        except OSError:
            runner, children = False, []
        if runner and children:
            return
        time.sleep(0.02)
    raise AssertionError("the runner did not start its job")


def test_exit_code_and_log_line(cron_env):
    result = run_cron(cron_env, "sleep", "0", "3")
    assert result.returncode == 3
    record = log_record(result.stdout)
    assert record["event"] == "cron" and record["job"] == "sleep"
    assert record["poller"] == "home"  # from the env file
    assert record["exit_code"] == 3 and record["status"] == "failed"
    assert isinstance(record["duration_s"], float)

    ok = run_cron(cron_env, "sleep", "0")
    assert ok.returncode == 0
    assert log_record(ok.stdout)["status"] == "ok"


def test_real_job_sees_the_env_file(cron_env, tmp_path):
    result = run_cron(cron_env, "db", "status", "--json")
    assert result.returncode == 0, result.stderr
    job_output = result.stdout.strip().rsplit("\n", 1)[0]
    assert json.loads(job_output)["database"] == f"file:{tmp_path}/db/from-env-file.db"
    assert log_record(result.stdout)["args"] == ["status", "--json"]


def test_real_job_exit_code_passes_through(cron_env, tmp_path):
    env = {**cron_env, "PROVIDERS_FILE": str(tmp_path / "missing.json")}
    result = run_cron(env, "providers", "validate")
    assert result.returncode == 2
    assert "missing.json" in result.stderr
    assert log_record(result.stdout)["exit_code"] == 2


def test_overlapping_run_exits_0_still_running(cron_env, tmp_path):
    gate = tmp_path / "gate"  # the first job runs until this file exists: no race with the clock
    env = {**cron_env, "STAKTRAKR_TEST_GATE": str(gate)}
    first = subprocess.Popen([str(RUNNER), "sleep", "120", "5"], env=env, stdout=subprocess.PIPE, text=True,
                             cwd=cron_env["HOME"])
    try:
        wait_for_job(first.pid)
        second = run_cron(cron_env, "sleep", "0", "7")
        assert second.returncode == 0
        record = log_record(second.stdout)
        assert record["status"] == "still_running"
        assert "still running" in record["message"]
        # another job is not blocked by this one's lock
        assert run_cron(cron_env, "db", "status").returncode == 0
    finally:
        gate.touch()
        out, _ = first.communicate(timeout=60)
    assert first.returncode == 5
    assert log_record(out)["status"] == "failed"
    # released: the next run goes ahead
    assert run_cron(cron_env, "sleep", "0", "7").returncode == 7


def test_lock_is_shared_with_the_trigger(cron_env, tmp_path):
    lock = job_lock(tmp_path / "var" / "locks", "sleep")  # what POST /api/ops/trigger/sleep takes
    lock.acquire()
    try:
        result = run_cron(cron_env, "sleep", "0", "9")
        assert result.returncode == 0
        assert log_record(result.stdout)["status"] == "still_running"
    finally:
        lock.release()


def test_dry_run_takes_no_lock(cron_env, tmp_path):
    """The README's debug recipe (`bin/staktrakr-cron scrape ... --dry-run`) runs while the scheduled
    run holds the job's lock; the scheduled run's pid file stays."""
    lock = job_lock(tmp_path / "var" / "locks", "sleep")
    lock.acquire()
    pid_file = tmp_path / "var" / "run" / "cron-sleep.pid"
    pid_file.parent.mkdir(parents=True, exist_ok=True)
    pid_file.write_text("12345\n", encoding="ascii")
    try:
        result = run_cron(cron_env, "sleep", "0", "7", "--dry-run")
        assert result.returncode == 7
        assert log_record(result.stdout)["status"] != "still_running"
        assert pid_file.read_text(encoding="ascii") == "12345\n"
        without = run_cron(cron_env, "sleep", "0", "7")
        assert log_record(without.stdout)["status"] == "still_running"
    finally:
        lock.release()


def test_timeout_stops_the_job(cron_env, tmp_path):
    env = {**cron_env, "STAKTRAKR_CRON_TIMEOUT_S": "1"}
    result = run_cron(env, "sleep", "120", timeout=60)
    assert result.returncode == 124
    record = log_record(result.stdout)
    assert record["status"] == "timeout" and record["exit_code"] == 124
    lock = job_lock(tmp_path / "var" / "locks", "sleep")
    lock.acquire()  # released after the timeout
    lock.release()


@pytest.mark.parametrize("mode", [0o644, 0o604, 0o620, 0o666])
def test_refuses_env_file_others_can_read_or_change(cron_env, mode):
    Path(cron_env["STAKTRAKR_ENV_FILE"]).chmod(mode)
    result = run_cron(cron_env, "sleep", "0")
    assert result.returncode == 2
    errors = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(errors) == 1
    assert f"chmod 600 {cron_env['STAKTRAKR_ENV_FILE']}" in errors[0]
    assert log_record(result.stdout)["status"] == "config_error"


@pytest.mark.parametrize("mode", [0o600, 0o400, 0o640])
def test_accepts_private_env_file(cron_env, mode):
    Path(cron_env["STAKTRAKR_ENV_FILE"]).chmod(mode)
    assert run_cron(cron_env, "sleep", "0").returncode == 0


def test_missing_explicit_env_file(cron_env, tmp_path):
    env = {**cron_env, "STAKTRAKR_ENV_FILE": str(tmp_path / "nope.env")}
    result = run_cron(env, "sleep", "0")
    assert result.returncode == 2
    assert "nope.env: not found" in result.stderr


def test_bad_setting_in_env_file_is_one_line(cron_env):
    Path(cron_env["STAKTRAKR_ENV_FILE"]).write_text("POLLER_ID=Not A Valid Id\n", encoding="utf-8")
    result = run_cron(cron_env, "sleep", "0")
    assert result.returncode == 2
    assert "POLLER_ID" in result.stderr
    assert "Traceback" not in result.stderr


def test_cron_runner_with_unwritable_var_dir_logs_its_json_line(tmp_path):
    var_dir = not_a_dir(tmp_path)
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "STAKTRAKR_VAR_DIR": str(var_dir),
           "STAKTRAKR_ENV_FILE": str(tmp_path / "absent.env"), "STAKTRAKR_LOG_FORMAT": "json",
           "PROVIDERS_FILE": str(REPO / "providers.json")}
    (tmp_path / "absent.env").write_text("POLLER_ID=home\n", encoding="utf-8")
    (tmp_path / "absent.env").chmod(0o600)
    done = subprocess.run([str(RUNNER), "status"], env=env, capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert str(var_dir) in done.stderr
    record = json.loads(done.stdout.strip().splitlines()[-1])
    assert (record["event"], record["job"], record["status"], record["exit_code"]) == ("cron", "status", "config_error", 2)


def test_usage(cron_env):
    assert run_cron(cron_env).returncode == 2
    assert "usage" in run_cron(cron_env, "--help").stderr
    assert run_cron(cron_env, "../../etc/x").returncode == 2  # a job name also names its lock file


def test_sleep_job_only_exists_in_tests(cron_env):
    env = {key: value for key, value in cron_env.items() if key != "STAKTRAKR_CRON_TEST_JOBS"}
    result = run_cron(env, "sleep", "0")
    assert result.returncode == 2  # `staktrakr sleep`: no such command


def test_jobs_never_import_modules_from_the_working_directory(cron_env, tmp_path):
    """`python -m staktrakr` put the working directory first on sys.path: a stray secrets.py there
    was imported by `staktrakr spot`. The runner and its jobs start Python with -P."""
    marker = tmp_path / "imported"
    (tmp_path / "secrets.py").write_text(f"open({str(marker)!r}, 'w').write('stray')\n", encoding="utf-8")
    result = run_cron(cron_env, "db", "status")       # cwd = HOME = tmp_path, where the stray file is
    assert result.returncode == 0, result.stderr
    assert not marker.exists()
    assert job_command("spot", [])[1] == "-P"
    # the same program without -P does import it: the test would notice a regression
    subprocess.run([sys.executable, "-c", "import secrets"], cwd=tmp_path, check=True)
    assert marker.exists()
