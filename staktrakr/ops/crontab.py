"""The repo's `crontab`: one file with every host's schedule, rendered per host at install time.

Lines are ordinary crontab lines (`m h dom mon dow command`); a `# @host NAME` comment starts a
host's section. Every command is `bin/staktrakr-cron JOB [ARGS]`. Rendering makes the runner
path absolute, sets STAKTRAKR_ENV_FILE, adds a user column for /etc/cron.d if asked, and a
log redirection, so the file in the repo stays the single, readable source of schedules.
Installers print a host's rendering with `staktrakr ops crontab --host NAME ...`.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from pathlib import Path

RUNNER = "bin/staktrakr-cron"
HOST_MARKER = re.compile(r"^#\s*@host\s+([a-z0-9_-]+)\s*$")
REPO_CRONTAB = Path(__file__).resolve().parents[2] / "crontab"


@dataclass(frozen=True)
class CronEntry:
    host: str
    schedule: str  # the five time fields
    job: str
    args: tuple[str, ...]
    line_number: int


def parse_crontab(text: str) -> list[CronEntry]:
    """Every schedule line with its host; a line outside a host section or not calling the
    runner is a ValueError naming the line (the test and the installer both rely on this)."""
    entries: list[CronEntry] = []
    host: str | None = None
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        marker = HOST_MARKER.match(line)
        if marker:
            host = marker.group(1)
            continue
        if not line or line.startswith("#"):
            continue
        if re.match(r"^[A-Z_][A-Z0-9_]*=", line):
            raise ValueError(f"crontab line {number}: variables are set at install time, not in the repo file")
        fields = line.split(None, 5)
        if len(fields) < 6:
            raise ValueError(f"crontab line {number}: expected 5 time fields and a command: {line!r}")
        if host is None:
            raise ValueError(f"crontab line {number}: outside a '# @host NAME' section")
        command = shlex.split(fields[5])
        if not command or command[0] != RUNNER:
            raise ValueError(f"crontab line {number}: the command must be {RUNNER} JOB [ARGS]")
        if len(command) < 2:
            raise ValueError(f"crontab line {number}: {RUNNER} needs a JOB")
        entries.append(CronEntry(host, " ".join(fields[:5]), command[1], tuple(command[2:]), number))
    return entries


def render(text: str, host: str, app_dir: Path, env_file: Path, user: str | None = None,
           log_suffix: str = "") -> str:
    """The crontab for one host: absolute runner path, env file variable, optional user column."""
    entries = [entry for entry in parse_crontab(text) if entry.host == host]
    if not entries:
        raise ValueError(f"crontab: no '# @host {host}' section (hosts: {sorted(hosts(text))})")
    runner = shlex.quote(str(app_dir / RUNNER))
    lines = [
        f"# staktrakr schedules for host {host}, rendered from {REPO_CRONTAB.name} in the repo; do not edit here",
        "SHELL=/bin/sh",
        f"STAKTRAKR_ENV_FILE={env_file}",
    ]
    for entry in entries:
        command = " ".join([runner, shlex.quote(entry.job), *(shlex.quote(arg) for arg in entry.args)])
        who = f" {user}" if user else ""
        lines.append(f"{entry.schedule}{who} {command}{(' ' + log_suffix) if log_suffix else ''}")
    return "\n".join(lines) + "\n"


def hosts(text: str) -> set[str]:
    return {entry.host for entry in parse_crontab(text)}
