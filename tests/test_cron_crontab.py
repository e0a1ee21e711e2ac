"""The repo's `crontab`: every line is a valid schedule calling bin/staktrakr-cron with a job and
options that exist in the Typer app; the hosts are staggered; merge runs on one host."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import typer
from croniter import croniter

from staktrakr.cli import app
from staktrakr.ops.crontab import parse_crontab, render
from tests.cli_helpers import cli_problems, run_cli
from tests.conftest import REPO

CRONTAB = (REPO / "crontab").read_text(encoding="utf-8")
JOBS = ("scrape", "retry", "spot", "goldback", "publish", "merge")


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
    start = datetime(2026, 3, 16, 0, 0, tzinfo=UTC) - timedelta(seconds=1)
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


def test_ops_crontab_prints_a_hosts_crontab_or_one_error_line(tmp_path):
    """`staktrakr ops crontab`: what the installers call (fly-poller/entrypoint.sh, home-scraper/setup.sh)."""
    args = ["ops", "crontab", "--host", "home", "--app-dir", "/opt/staktrakr", "--env-file", "/etc/staktrakr/env",
            "--log-suffix", "2>&1 | logger -t staktrakr"]
    result = run_cli(args, var_dir=tmp_path)
    assert result.exit_code == 0, result.output
    assert result.stdout == render(CRONTAB, "home", Path("/opt/staktrakr"), Path("/etc/staktrakr/env"),
                                   log_suffix="2>&1 | logger -t staktrakr")

    broken = tmp_path / "crontab"
    broken.write_text("# @host api\n*/5 * * bin/staktrakr-cron spot\n", encoding="utf-8")
    for extra, needles in ((["--file", str(broken)], ("crontab line 2: expected 5 time fields", f"(in {broken})")),
                           (["--file", str(tmp_path / "absent")], (f"crontab {tmp_path / 'absent'}: cannot read",)),
                           (["--host", "nowhere"], ("no '# @host nowhere' section",))):
        failed = run_cli([*args, *extra], var_dir=tmp_path)
        assert failed.exit_code == 2 and failed.stdout == ""
        errors = [line for line in failed.stderr.splitlines() if line.strip()]
        assert len(errors) == 1 and errors[0].startswith("error: "), failed.stderr
        assert all(needle in errors[0] for needle in needles), errors[0]
