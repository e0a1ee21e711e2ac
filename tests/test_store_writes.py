"""Idempotent batch writes: one round trip per batch, a retried batch stores nothing twice."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from staktrakr.models import PollerRun, PriceObservation
from tests.store_rows import WINDOW, count, cycle_rows, goldback_row, spot_row


def test_cycle_batch_is_one_round_trip_and_idempotent(any_db_url, store_for):
    store = store_for(any_db_url)
    store.migrate()
    rows = cycle_rows(n=250)  # more rows than one INSERT statement carries

    before = store.db.round_trips
    result = store.write(rows)
    assert store.db.round_trips - before == 1
    assert result.stored_rows == len(rows) and not result.queued

    store.write(rows)  # the same cycle retried
    assert count(store, "price_snapshots") == 251
    assert count(store, "provider_failures") == 1
    assert count(store, "poller_runs") == 1


def test_other_pollers_and_windows_are_separate_observations(any_db_url, store_for):
    store = store_for(any_db_url)
    store.migrate()
    store.write(cycle_rows(poller="api", run_id="a1"))
    store.write(cycle_rows(poller="home", run_id="h1"))
    store.write(cycle_rows(poller="api", run_id="a2", window="2026-03-15T20:15:00Z"))
    assert count(store, "price_snapshots") == 18


def test_retry_success_after_failure_adds_a_row_and_replaces_nothing(any_db_url, store_for):
    store = store_for(any_db_url)
    store.migrate()
    failed = PriceObservation(scraped_at="2026-03-15T20:00:01.000Z", window_start=WINDOW, coin_slug="ase",
                              vendor="apmex", price=None, source="http", is_failed=True, poller_id="api")
    success = failed.model_copy(update={"price": 92.3, "is_failed": False, "scraped_at": "2026-03-15T20:05:00.000Z"})
    store.write([failed])
    store.write([success])
    store.write([success])
    rows = store.db.query("SELECT price, is_failed FROM price_snapshots ORDER BY id")
    assert rows == [{"price": None, "is_failed": 1}, {"price": 92.3, "is_failed": 0}]


def test_run_upsert_never_goes_back_to_running(any_db_url, store_for):
    store = store_for(any_db_url)
    store.migrate()
    running = PollerRun(run_id="r1", poller_id="api", job="scrape", started_at="2026-03-15T20:00:00.000Z")
    finished = running.model_copy(update={"status": "ok", "finished_at": "2026-03-15T20:02:00.000Z", "total": 3,
                                          "captured": 3, "failures": 0})
    store.start_run(running)
    store.write([finished])
    store.write([running])  # a stale copy replayed late
    row = store.db.query("SELECT status, captured FROM poller_runs WHERE run_id = 'r1'")[0]
    assert row == {"status": "ok", "captured": 3}


def test_start_run_closes_this_pollers_orphans_only(any_db_url, store_for):
    store = store_for(any_db_url)
    store.migrate()
    for run_id, poller in (("old-api", "api"), ("old-home", "home")):
        store.write([PollerRun(run_id=run_id, poller_id=poller, job="scrape", started_at="2026-03-15T19:00:00.000Z")])
    store.start_run(PollerRun(run_id="new-api", poller_id="api", job="scrape", started_at="2026-03-15T20:00:00.000Z"))
    statuses = {r["run_id"]: (r["status"], r["error"]) for r in store.db.query("SELECT run_id, status, error FROM poller_runs")}
    assert statuses["old-api"] == ("error", "orphaned: the process ended before finishing")
    assert statuses["old-home"] == ("running", None)
    assert statuses["new-api"] == ("running", None)


def test_spot_and_goldback_rows_are_keyed_by_slot_and_date(any_db_url, store_for):
    store = store_for(any_db_url)
    store.migrate()
    store.write([spot_row(), spot_row(spot=5020.0), goldback_row(), goldback_row(g1=11.0)])
    assert store.db.query("SELECT spot FROM spot_prices") == [{"spot": 5019.5}]
    assert store.db.query("SELECT g1_usd FROM goldback_rates") == [{"g1_usd": 10.06}]
    from staktrakr.store.queries.spot import latest_spot

    assert latest_spot(store) == {"gold": 5019.5}


@pytest.mark.parametrize("bad", [0.0, -3.0, float("nan"), float("inf")])
def test_a_bad_price_never_becomes_a_row(bad):
    with pytest.raises(ValidationError):
        PriceObservation(scraped_at="x", window_start=WINDOW, coin_slug="ase", vendor="apmex", price=bad,
                         source="http", poller_id="api")
