"""The repo's `crontab`: every line is a valid schedule calling bin/staktrakr-cron with a job and
options that exist in the Typer app; the hosts are staggered; merge runs on one host."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import typer
from croniter import croniter

from staktrakr.cli import app
from staktrakr.ops.crontab import parse_crontab, render
from tests.conftest import REPO

CRONTAB = (REPO / "crontab").read_text(encoding="utf-8")
JOBS = ("scrape", "retry", "spot", "goldback", "publish", "merge")


def cli_problems(job: str, args: tuple[str, ...], root) -> list[str]:
    """What in `staktrakr JOB ARGS` the Typer app would reject (unknown command, option, arity).

    Duck-typed (groups have `commands`, params a `param_type_name`): Typer may ship its own click.
    """
    command = root.commands.get(job)
    if command is None:
        return [f"no command {job!r}"]
    words = list(args)
    while hasattr(command, "commands"):
        if not words or words[0] not in command.commands:
            return [f"{job}: needs one of {sorted(command.commands)}"]
        command = command.commands[words.pop(0)]
    options = {name: param for param in command.params if param.param_type_name == "option"
               for name in (*param.opts, *param.secondary_opts)}
    positional = [param for param in command.params if param.param_type_name == "argument"]
    problems, seen_positional = [], 0
    while words:
        word = words.pop(0)
        if word.startswith("-"):
            name, has_value, _ = word.partition("=")
            option = options.get(name)
            if option is None:
                problems.append(f"{job}: unknown option {name}")
            elif not option.is_flag and not has_value:
                if not words:
                    problems.append(f"{job}: {name} needs a value")
                else:
                    words.pop(0)
        else:
            seen_positional += 1
    if seen_positional > len(positional):
        problems.append(f"{job}: {seen_positional} arguments, the command takes {len(positional)}")
    return problems


@pytest.fixture(scope="module")
def root():
    return typer.main.get_command(app)


def test_every_line_parses_and_names_a_real_job_and_options(root):
    entries = parse_crontab(CRONTAB)
    assert len(entries) >= 11
    for entry in entries:
        assert croniter.is_valid(entry.schedule), f"line {entry.line_number}: bad schedule {entry.schedule!r}"
        assert cli_problems(entry.job, entry.args, root) == [], f"line {entry.line_number}"
        assert "not built yet" not in (root.commands[entry.job].help or "").lower(), f"{entry.job} is a placeholder"


def test_every_host_runs_every_job_and_merge_runs_once():
    entries = parse_crontab(CRONTAB)
    by_host: dict[str, set[str]] = {}
    for entry in entries:
        by_host.setdefault(entry.host, set()).add(entry.job)
    assert set(by_host) == {"api", "home"}
    assert by_host["api"] >= set(JOBS)
    assert by_host["home"] >= set(JOBS) - {"merge"}
    assert [entry.host for entry in entries if entry.job == "merge"] == ["api"]


def _quarters(host: str, job: str) -> set[int]:
    """Which quarter hours (0-3) the host starts `job` in, over one day."""
    start = datetime(2026, 3, 16, 0, 0, tzinfo=timezone.utc) - timedelta(seconds=1)
    quarters: set[int] = set()
    for entry in parse_crontab(CRONTAB):
        if entry.host == host and entry.job == job and not entry.args:
            times = croniter(entry.schedule, start)
            for _ in range(200):
                moment = times.get_next(datetime)
                if moment.day != 16:
                    break
                quarters.add(moment.minute // 15)
    return quarters


@pytest.mark.parametrize("job", ["scrape", "spot", "retry"])
def test_hosts_cover_different_quarter_hours(job):
    api, home = _quarters("api", job), _quarters("home", job)
    assert api and home
    assert api.isdisjoint(home), f"{job}: api {api} and home {home} overlap"
    assert api | home == {0, 1, 2, 3}, f"{job}: quarters {api | home} leave a gap"


def test_retry_falls_in_the_window_of_its_hosts_scrape():
    """retry re-scrapes the failed targets of the current window, so it must run in a window
    its own host scraped."""
    for host in ("api", "home"):
        assert _quarters(host, "retry") == _quarters(host, "scrape")


def test_checker_catches_unknown_jobs_and_options(root):
    assert cli_problems("scrape", ("--no-such-option",), root) == ["scrape: unknown option --no-such-option"]
    assert cli_problems("frobnicate", (), root) == ["no command 'frobnicate'"]
    assert cli_problems("db", (), root)[0].startswith("db: needs one of")
    assert cli_problems("db", ("status", "--json"), root) == []
    assert cli_problems("scrape", ("--coin", "ase", "--vendor=apmex"), root) == []
    assert cli_problems("scrape", ("--coin",), root) == ["scrape: --coin needs a value"]
    assert cli_problems("status", ("extra",), root) == ["status: 1 arguments, the command takes 0"]


def test_parse_rejects_lines_outside_the_contract():
    with pytest.raises(ValueError, match="outside a '# @host NAME' section"):
        parse_crontab("* * * * * bin/staktrakr-cron spot\n")
    with pytest.raises(ValueError, match="must be bin/staktrakr-cron"):
        parse_crontab("# @host api\n* * * * * /app/run-spot.sh\n")
    with pytest.raises(ValueError, match="needs a JOB"):
        parse_crontab("# @host api\n* * * * * bin/staktrakr-cron\n")
    with pytest.raises(ValueError, match="5 time fields"):
        parse_crontab("# @host api\n*/5 * * bin/staktrakr-cron spot\n")
    with pytest.raises(ValueError, match="variables are set at install time"):
        parse_crontab("# @host api\nMAILTO=x\n")


def test_render_for_a_host():
    text = render(CRONTAB, "home", Path("/opt/staktrakr"), Path("/etc/staktrakr/env"),
                  log_suffix="2>&1 | logger -t staktrakr")
    lines = text.splitlines()
    assert "STAKTRAKR_ENV_FILE=/etc/staktrakr/env" in lines
    jobs = [line for line in lines if line[:1].isdigit() or line.startswith("*")]
    assert len(jobs) == len([e for e in parse_crontab(CRONTAB) if e.host == "home"])
    assert all(" /opt/staktrakr/bin/staktrakr-cron " in line for line in jobs)
    assert all(line.endswith("2>&1 | logger -t staktrakr") for line in jobs)
    assert not any("merge" in line for line in jobs)
    with_user = render(CRONTAB, "api", Path("/app"), Path("/run/staktrakr/env"), user="root")
    assert "0,30 * * * * root /app/bin/staktrakr-cron scrape" in with_user
    assert "20 6 * * * root /app/bin/staktrakr-cron spot --backfill" in with_user
    with pytest.raises(ValueError, match="no '# @host nowhere' section"):
        render(CRONTAB, "nowhere", Path("/app"), Path("/env"))
