"""The job harness every job runs through: lock, a run row on every way out, signals, exit codes."""

from __future__ import annotations

import os
import signal

import pytest

from staktrakr.errors import JobFailed, JobInterrupted
from staktrakr.jobs.harness import JobRun, conclude
from staktrakr.store import Store
from tests.farm import make_target, page_text
from tests.scrape_fixtures import rows, scrape


def run_rows(settings) -> list[dict]:
    return rows(settings, "SELECT job, status, total, captured, failures, error FROM poller_runs ORDER BY started_at")


def test_a_programming_error_is_recorded_and_still_a_traceback(make_settings):
    settings = make_settings()
    with Store.open(settings) as store, pytest.raises(ZeroDivisionError):
        with JobRun(settings, store, "spot"):
            1 / 0  # noqa: B018 (a bug in a job body)
    assert run_rows(settings) == [{"job": "spot", "status": "error", "total": None, "captured": None,
                                   "failures": None, "error": "internal error: ZeroDivisionError: division by zero"}]


def test_a_job_failure_is_recorded_with_its_one_line(make_settings):
    settings = make_settings()
    with Store.open(settings) as store, pytest.raises(JobFailed):
        with JobRun(settings, store, "goldback") as run:
            raise JobFailed("goldback: no usable rate at https://x: http: not_found (HTTP 404); nothing stored")
    assert run.report.status == "error" and run.report.exit_code == 1
    assert run_rows(settings)[0]["error"].startswith("goldback: no usable rate")


def test_a_second_run_on_the_host_is_refused_at_once(make_settings):
    settings = make_settings()
    with Store.open(settings) as store, JobRun(settings, store, "publish"):
        with pytest.raises(JobFailed, match="another publish is running on this host"):
            with JobRun(settings, store, "publish"):
                pass
        with JobRun(settings, store, "publish", dry_run=True, lock=False):  # a dry run may look meanwhile
            pass


def test_dry_run_writes_no_row_and_takes_no_lock(make_settings):
    settings = make_settings()
    with Store.open(settings) as store, JobRun(settings, store, "scrape"):
        with JobRun(settings, store, "scrape", dry_run=True) as dry:
            dry.finish(total=1, captured=1, failures=0)
        assert dry.report.status == "dry_run"
    assert [r["job"] for r in run_rows(settings)] == ["scrape"]


def test_sigterm_in_process_stops_new_targets_and_records_interrupted(farm, farm_settings):
    """The first target's result triggers a real SIGTERM to this process: the cycle stores that
    target, starts no other one (the farm counts requests) and the run ends `interrupted` (143)."""
    settings = farm_settings()
    host = farm.host("alpha")
    targets = [make_target("ase", "alpha", host.add(f"/p{n}", page_text("jsonld_instock.html"))) for n in range(6)]
    targets = [t.model_copy(update={"coin": t.coin.model_copy(update={"slug": f"ase-{n}"})})
               for n, t in enumerate(targets)]
    sent: list[int] = []

    def progress(outcome) -> None:
        if not sent:
            sent.append(1)
            os.kill(os.getpid(), signal.SIGTERM)

    result = scrape(settings, targets, progress=progress)
    assert result.signal == "SIGTERM" and result.status == "interrupted"
    assert result.total == 1 and host.total_hits == 1 and result.planned == 6
    assert result.run.status == "interrupted" and result.run.exit_code == 143
    assert rows(settings, "SELECT COUNT(*) AS n FROM price_snapshots")[0]["n"] == 1
    assert run_rows(settings) == [{"job": "scrape", "status": "interrupted", "total": 6, "captured": 1,
                                   "failures": 0, "error": "interrupted by SIGTERM"}]
    with pytest.raises(JobInterrupted) as ended:
        conclude(result.run)
    assert ended.value.exit_code == 143 and "interrupted by SIGTERM: 1/6 captured" in str(ended.value)
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL   # handlers restored after the run


def test_signal_handlers_are_restored_and_sigint_maps_to_130(make_settings):
    settings = make_settings()
    before = signal.getsignal(signal.SIGINT)
    with Store.open(settings) as store:
        with JobRun(settings, store, "spot") as run:
            os.kill(os.getpid(), signal.SIGINT)
            assert run.stop.requested and run.stop.name == "SIGINT"
    assert run.report.status == "interrupted" and run.report.exit_code == 130
    assert signal.getsignal(signal.SIGINT) is before
    with pytest.raises(JobInterrupted) as ended:
        conclude(run.report)
    assert ended.value.exit_code == 130


def test_targets_journaled_before_a_crash_are_stored_with_the_error_row(make_settings):
    """A bug ends the run with an error row; the targets it had journaled are not lost: they
    are stored in the same final batch, counted, and nothing is left for the next run."""
    from staktrakr.models import PriceObservation
    from staktrakr.store.session import ops_of

    settings = make_settings()
    with Store.open(settings) as store, pytest.raises(RuntimeError):
        with JobRun(settings, store, "scrape") as run:
            row = PriceObservation(scraped_at="2026-03-15T20:01:00.000Z", window_start="2026-03-15T20:00:00Z",
                                   coin_slug="ase", vendor="apmex", price=79.1, source="http", poller_id="local",
                                   run_id=run.run_id)
            run.journal.add(ops_of([row]))
            raise RuntimeError("extraction bug")
    assert run_rows(settings)[0]["status"] == "error"
    assert rows(settings, "SELECT price FROM price_snapshots") == [{"price": 79.1}]
    assert rows(settings, "SELECT captured, failures FROM poller_runs") == [{"captured": 1, "failures": 0}]
    with Store.open(settings) as store:
        assert store.prepare().recovered == []
    assert rows(settings, "SELECT COUNT(*) AS n FROM price_snapshots")[0]["n"] == 1
    assert run_rows(settings)[0]["status"] == "error"      # the run's own word stays
