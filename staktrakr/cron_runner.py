"""`bin/staktrakr-cron JOB [ARGS]`: what every crontab line calls.

Loads the host's env file (refusing one others can read), takes the job's lock (a run that
finds the previous one still going logs "still running" and exits 0), runs `staktrakr JOB
ARGS` with the job's timeout, prints one JSON line (job, poller, duration, exit code) and
exits with the job's exit code (124 on timeout, 2 for a config error of the runner itself).
"""

from __future__ import annotations

import os
import re
import sys
from typing import MutableMapping

from filelock import Timeout

from staktrakr.errors import ConfigError
from staktrakr.ops.envfile import env_file_path, load_env_file
from staktrakr.ops.jobs import job_command, job_lock, job_timeout_s
from staktrakr.ops.process import log_line, run_with_timeout

JOB_NAME = re.compile(r"^[a-z][a-z0-9-]{0,39}$")  # a command name; it also names the lock file
USAGE = "usage: bin/staktrakr-cron JOB [ARGS...]   (JOB is a staktrakr command: scrape, spot, publish, ...)"


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


def run(argv: list[str], environ: MutableMapping[str, str]) -> int:
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
        lock = job_lock(settings.lock_dir, job)
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
    try:
        outcome = run_with_timeout(job_command(job, args), job_timeout_s(job), environ)
    finally:
        lock.release()
    status = "timeout" if outcome.timed_out else ("ok" if outcome.exit_code == 0 else "failed")
    print(log_line("cron", job, poller, status, outcome.exit_code, outcome.duration_s, args=args), flush=True)
    return outcome.exit_code


def main() -> None:
    sys.exit(run(sys.argv[1:], os.environ))


if __name__ == "__main__":
    main()
