"""`staktrakr ops cron JOB [ARGS]` (through `bin/staktrakr-cron`): what every crontab line calls.

Loads the host's env file (refusing one others can read), takes the job's lock (a run that
finds the previous one still going logs "still running" and exits 0; a `--dry-run` takes none, so
the debug recipes work while cron runs), runs `staktrakr JOB
ARGS` with the job's timeout, prints one JSON line (job, poller, duration, exit code) and
exits with the job's exit code (124 on timeout, 2 for a config error of the runner itself).
A SIGTERM/SIGINT to the runner is passed on to the job, which stores what it has and exits
143/130 (killed after 10 s if it does not).
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import MutableMapping
from pathlib import Path

from filelock import Timeout

from staktrakr.errors import ConfigError
from staktrakr.ops.envfile import env_file_path, load_env_file
from staktrakr.ops.jobs import job_command, job_lock, job_timeout_s
from staktrakr.ops.process import log_line, run_with_timeout

DRY_RUN = "--dry-run"  # a job run with it writes and pushes nothing, so it takes no lock (runs beside cron)
JOB_NAME = re.compile(r"^[a-z][a-z0-9-]{0,39}$")  # a command name; it also names the lock file
USAGE = ("usage: bin/staktrakr-cron JOB [ARGS...]  (= staktrakr ops cron JOB [ARGS...]; JOB is a staktrakr "
         "command: scrape, retry, spot, goldback, publish, merge, ...)")


def apply_env_file(environ: MutableMapping[str, str]) -> str | None:
    """Load the env file into `environ` (the file wins: it is the operator's configuration).

    Returns the path loaded, or None when no file is configured and the default is absent.
    """
    path, explicit = env_file_path(environ)
    if not path.exists():
        if explicit:
            raise ConfigError(f"env file {path}: not found; create it (mode 600) or unset STAKTRAKR_ENV_FILE")
        return None
    environ.update(load_env_file(path))
    return str(path)


def record_pid(path: Path) -> None:
    """This runner's pid while its job runs, so a container stop (fly-poller/cron.sh) can pass
    SIGTERM to it; removed when the job ends."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"{os.getpid()}\n", encoding="ascii")


def run(argv: list[str], environ: MutableMapping[str, str]) -> int:
    """Run `staktrakr JOB ARGS` (argv = [JOB, *ARGS]) as cron does; returns the exit code: the job's,
    0 when the previous run still holds the lock, 2 for usage or a configuration error."""
    if not argv or not JOB_NAME.match(argv[0]):
        print(USAGE, file=sys.stderr)
        return 2
    job, args = argv[0], argv[1:]
    poller = environ.get("POLLER_ID", "local")
    try:
        apply_env_file(environ)
        poller = environ.get("POLLER_ID", "local")
        from staktrakr.settings import load_settings  # after the env file: settings read os.environ

        settings = load_settings()
        timeout_s = job_timeout_s(job)
        lock = None if DRY_RUN in args else job_lock(settings.lock_dir, job)  # a dry run writes nothing
        if lock is not None:
            lock.acquire()
    except Timeout:  # before OSError: filelock's Timeout is a TimeoutError
        print(log_line("cron", job, poller, "still_running", 0,
                       message=f"{job} still running on {poller}: skipped this run"), flush=True)
        return 0
    except (ConfigError, OSError) as exc:  # OSError: the lock dir under STAKTRAKR_VAR_DIR cannot be made
        print(f"error: {exc}" if isinstance(exc, ConfigError) else
              f"error: {job}: cannot use {exc.filename}: {exc.strerror or exc} (check STAKTRAKR_VAR_DIR)",
              file=sys.stderr)
        print(log_line("cron", job, poller, "config_error", 2), flush=True)
        return 2
    # a dry run beside the scheduled run keeps its own pid file, so the scheduled one's stays
    pid_file = settings.var_dir / "run" / (f"cron-{job}.pid" if lock is not None else f"cron-{job}-{os.getpid()}.pid")
    try:
        outcome = run_with_timeout(job_command(job, args), timeout_s, environ, on_started=lambda: record_pid(pid_file))
    finally:
        pid_file.unlink(missing_ok=True)
        if lock is not None:
            lock.release()
    extra = {"signal": outcome.signal} if outcome.signal else {}
    print(log_line("cron", job, poller, outcome.status, outcome.exit_code, outcome.duration_s, args=args, **extra),
          flush=True)
    return outcome.exit_code
