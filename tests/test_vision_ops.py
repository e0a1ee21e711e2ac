"""The vision counters of the last scrape run in `status` and /metrics, read from poller_runs.vision."""

from __future__ import annotations

import json
from datetime import timedelta

from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families
from rich.console import Console

from staktrakr.cli.status import render
from staktrakr.jobs.status import collect_status
from staktrakr.models import PollerRun
from staktrakr.ops.metrics import build_registry, read_snapshot
from staktrakr.store import Store
from staktrakr.timeutil import iso_z, utcnow

COUNTERS = {"eligible": 9, "planned": 6, "calls": 5, "reused": 1, "agreed": 4, "disagreed": 1, "vision_only": 0,
            "failed": 1, "tokens": 7200, "call_seconds": 8.25}


def seed(store: Store) -> None:
    now = utcnow()
    older, newer = now - timedelta(minutes=30), now - timedelta(minutes=15)
    store.write([
        PollerRun(run_id="api-scrape-1", poller_id="api", job="scrape", started_at=iso_z(older),
                  finished_at=iso_z(older + timedelta(seconds=90)), status="ok", total=9, captured=9,
                  failures=0, vision=json.dumps(COUNTERS)),
        # a newer run without the cross-check does not hide the last one that had it
        PollerRun(run_id="api-scrape-2", poller_id="api", job="scrape", started_at=iso_z(newer),
                  finished_at=iso_z(newer + timedelta(seconds=60)), status="ok", total=9, captured=9, failures=0),
    ])


def test_status_shows_the_last_vision_counters(make_settings, capsys):
    settings = make_settings(poller_id="api")
    with Store.open(settings) as store:
        store.migrate()
        seed(store)
        report = collect_status(settings, store)
    assert report.vision == {"api": COUNTERS}
    assert report.as_dict()["vision"]["api"]["tokens"] == 7200
    render(report, Console(width=200))
    assert ("last scrape of api, vision: 5 calls, 1 reused, 4 agreed, 1 disagreed, 0 vision-only, 1 failed; "
            "7,200 tokens, 8.2 s in calls (6 of 9 eligible targets checked)") in capsys.readouterr().out


def test_metrics_carry_the_vision_counters(make_settings):
    settings = make_settings(poller_id="api")
    with Store.open(settings) as store:
        store.migrate()
        seed(store)
        text = generate_latest(build_registry(lambda: read_snapshot(store, settings, utcnow()))).decode()
    samples = {(s.name, tuple(sorted(s.labels.items()))): s.value
               for family in text_string_to_metric_families(text) for s in family.samples}
    poller = (("poller", "api"),)
    assert samples[("staktrakr_vision_last_run_calls", poller)] == 5
    assert samples[("staktrakr_vision_last_run_reused", poller)] == 1
    assert samples[("staktrakr_vision_last_run_agreed", poller)] == 4
    assert samples[("staktrakr_vision_last_run_failed", poller)] == 1
    assert samples[("staktrakr_vision_last_run_tokens", poller)] == 7200
    assert samples[("staktrakr_vision_last_run_call_seconds", poller)] == 8.25
    assert "# HELP staktrakr_vision_last_run_calls " in text


def test_a_database_from_before_the_column_reads_as_no_counters(make_settings):
    settings = make_settings(poller_id="api")
    with Store.open(settings) as store:
        store.migrate()
        store.db.execute("ALTER TABLE poller_runs DROP COLUMN vision")
        report = collect_status(settings, store)
    assert report.database_error is None and report.vision == {}
