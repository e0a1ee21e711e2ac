"""The store against a hung, killed or refusing database, and an outbox fed garbage.

Real sqld (SIGSTOP / SIGKILL from the test), real files: every broken case of the outbox
ends quarantined and reported while the good entries still replay; a statement the server
refuses is a typed error with its rows kept in rejected.jsonl; a replay killed midway resumes.
"""

from __future__ import annotations

import base64
import json
import signal
import subprocess
import sys
import time

import pytest

from staktrakr.errors import StatementRejected
from staktrakr.store import Store
from tests.cli_helpers import run_cli
from tests.conftest import REPO
from tests.fake_apis import API_KEY, FakeMetalPriceApi
from tests.faults import corrupt_lines, freeze, kill_server, outbox_line
from tests.store_rows import count, cycle_rows, spot_row


def server_settings(make_settings, server, **overrides):
    return make_settings(turso_database_url=server.url, db_connect_timeout_s=1, db_statement_timeout_s=2, **overrides)


# --- a hung or killed database ----------------------------------------------------------------------

def test_frozen_database_times_out_and_the_batch_goes_to_the_outbox(libsql_server, make_settings):
    settings = server_settings(make_settings, libsql_server)
    with Store.open(settings) as store:
        store.migrate()
        with freeze(libsql_server):
            started = time.monotonic()
            written = store.write(cycle_rows(run_id="frozen"))
            waited = time.monotonic() - started
            assert written.queued_rows == 8 and "no answer within 2 s (DB_STATEMENT_TIMEOUT_S)" in written.error
            assert waited < 10
            # later calls in the same run do not wait again: straight to the outbox
            started = time.monotonic()
            assert store.write([spot_row()]).queued_rows == 1
            assert time.monotonic() - started < 1
            assert store.outbox.size() == (2, 9)
    with Store.open(settings) as store:   # a later run, sqld answering again
        prepared = store.prepare()
        assert prepared.replay.replayed_entries == 2 and prepared.replay.replayed_rows == 9
        assert count(store, "price_snapshots") == 6 and count(store, "spot_prices") == 1
        assert store.db.query("SELECT status FROM poller_runs WHERE run_id = 'frozen'") == [{"status": "ok"}]


def test_frozen_database_at_start_prepare_reports_instead_of_hanging(libsql_server, make_settings):
    settings = server_settings(make_settings, libsql_server)
    with Store.open(settings) as store:
        store.migrate()
    with freeze(libsql_server), Store.open(settings) as store:
        started = time.monotonic()
        prepared = store.prepare()
        assert not prepared.schema_ok and "no answer within" in prepared.error
        # the first call also connects: the message names both settings that make its deadline
        assert "no answer within 3 s (DB_CONNECT_TIMEOUT_S 1 s + DB_STATEMENT_TIMEOUT_S 2 s" in prepared.error
        assert time.monotonic() - started < 10


def test_killed_database_between_cycles_queues_then_replays_once(libsql_server, make_settings):
    settings = server_settings(make_settings, libsql_server)
    with Store.open(settings) as store:
        store.migrate()
        store.write(cycle_rows(run_id="before"))
        kill_server(libsql_server)
        assert store.write(cycle_rows(run_id="after-kill", window="2026-03-15T20:15:00Z")).queued_rows == 8
    libsql_server.start()
    with Store.open(settings) as store:
        assert store.prepare().replay.replayed_rows == 8
        assert count(store, "price_snapshots") == 12 and store.replay_outbox().replayed_entries == 0


# --- a statement the database refuses ---------------------------------------------------------------

def refuse_spot_inserts(store: Store) -> None:
    store.db.execute("CREATE TRIGGER refuse_spot BEFORE INSERT ON spot_prices "
                     "BEGIN SELECT RAISE(ABORT, 'spot rows refused by a trigger'); END")


def test_rejected_statement_is_typed_kept_in_rejected_file_and_not_queued(any_db_url, store_for):
    store = store_for(any_db_url)
    store.migrate()
    refuse_spot_inserts(store)
    with pytest.raises(StatementRejected) as raised:
        store.write([spot_row(), spot_row("silver", 80.1)])
    assert raised.value.statement == "INSERT spot_prices"
    message = str(raised.value)
    assert "rejected INSERT spot_prices" in message and "spot rows refused by a trigger" in message
    assert "2 rows kept in" in message and str(store.outbox.rejected_path) in message
    assert store.outbox.size() == (0, 0)                      # never queued for a retry
    kept = [json.loads(line) for line in store.outbox.rejected_path.read_text().splitlines()]
    assert len(kept) == 1 and kept[0]["statement"] == "INSERT spot_prices"
    assert [row["metal"] for row in kept[0]["entry"]["ops"][0]["rows"]] == ["gold", "silver"]
    assert count(store, "spot_prices") == 0


def test_rejected_outbox_entry_moves_aside_and_the_rest_still_replays(any_db_url, store_for):
    store = store_for(any_db_url)
    store.migrate()
    refuse_spot_inserts(store)
    store.outbox.append(Store._ops([spot_row()]), reason="test")
    store.outbox.append(Store._ops(cycle_rows(run_id="good")), reason="test")
    result = store.replay_outbox()
    assert result.rejected_entries == 1 and result.replayed_entries == 1 and result.needs_attention
    assert "rejected INSERT spot_prices" in result.problems[0]
    assert store.outbox.size() == (0, 0) and count(store, "price_snapshots") == 6
    assert store.outbox.report()["rejected"] == 1
    assert store.replay_outbox().replayed_entries == 0        # not retried forever


def test_a_sql_bug_is_not_treated_as_an_outage(any_db_url, store_for):
    store = store_for(any_db_url)
    store.migrate()
    with pytest.raises(StatementRejected, match="rejected SELECT no_such_table"):
        store.db.query("SELECT * FROM no_such_table")
    assert not store.outbox.path.exists()


# --- an outbox fed garbage --------------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["torn", "garbage", "extra_byte", "unknown_kind", "invalid_row", "not_utf8"])
def test_broken_outbox_line_is_quarantined_and_good_entries_replay(kind, any_db_url, store_for):
    store = store_for(any_db_url)
    store.migrate()
    good_ops = Store._ops(cycle_rows(run_id="before"))
    broken = corrupt_lines(good_ops)[kind]
    store.outbox.path.parent.mkdir(parents=True, exist_ok=True)
    store.outbox.path.write_bytes(outbox_line(good_ops, "before") + broken +
                                  outbox_line(Store._ops(cycle_rows(run_id="after", window="2026-03-15T20:15:00Z")),
                                              "after"))
    result = store.replay_outbox()
    assert result.replayed_entries == 2 and result.replayed_rows == 16
    assert result.quarantined_entries == 1 and result.needs_attention and len(result.problems) == 1
    assert count(store, "price_snapshots") == 12
    assert not store.outbox.path.exists()
    quarantined = [json.loads(line) for line in store.outbox.quarantine_path.read_text().splitlines()]
    assert len(quarantined) == 1
    raw = base64.b64decode(quarantined[0]["raw_b64"])
    assert raw == broken.rstrip(b"\n") or json.loads(raw)["id"] in ("unknown-kind", "invalid-row")
    assert store.outbox.report()["quarantined"] == 1


def test_flush_status_and_db_status_report_quarantined_entries(tmp_path):
    var_dir = tmp_path / "var"
    env = {"PROVIDERS_FILE": str(REPO / "providers.json")}
    assert run_cli(["db", "migrate"], env=env, var_dir=var_dir).exit_code == 0
    good_ops = Store._ops(cycle_rows(run_id="ok-entry"))
    (var_dir / "outbox.jsonl").write_bytes(corrupt_lines(good_ops)["not_utf8"] + outbox_line(good_ops, "ok-entry"))

    before = json.loads(run_cli(["db", "status", "--json"], env=env, var_dir=var_dir).stdout)
    assert before["outbox"]["entries"] == 1 and before["outbox"]["unreadable_lines"] == 1

    flushed = run_cli(["db", "flush"], env=env, var_dir=var_dir)
    assert flushed.exit_code == 1
    assert "replayed 1 entries (8 rows), 0 remaining, 1 quarantined, 0 rejected" in flushed.stdout
    assert "warning: outbox line 1 quarantined: not UTF-8" in flushed.stderr
    assert "error: outbox: 1 entries quarantined in" in flushed.stderr and "Traceback" not in flushed.output

    report = json.loads(run_cli(["db", "status", "--json"], env=env, var_dir=var_dir).stdout)
    assert report["outbox"]["quarantined"] == 1 and report["outbox"]["entries"] == 0
    assert report["tables"]["price_snapshots"] == 6
    text = run_cli(["db", "status"], env=env, var_dir=var_dir).stdout
    assert "quarantined: 1 entries in" in text
    status = json.loads(run_cli(["status", "--json"], env=env, var_dir=var_dir).stdout)
    assert status["outbox"]["quarantined"] == 1
    assert "outbox quarantine: 1 unreadable entries" in run_cli(["status"], env=env, var_dir=var_dir).stdout
    # a later job does not fail again for the same line: it has left the outbox
    assert run_cli(["db", "flush"], env=env, var_dir=var_dir).exit_code == 0


def test_any_job_quarantines_and_exits_nonzero_but_does_its_work(make_settings, tmp_path):
    """The old reader gave a traceback in every job on the host, forever; now the first job that
    meets the line moves it aside, warns, does its own work and exits 1; the next job is clean."""
    var_dir = tmp_path / "var"
    with FakeMetalPriceApi() as api:
        env = {"METAL_PRICE_API_KEY": API_KEY, "METAL_PRICE_API_BASE_URL": api.base_url,
               "PROVIDERS_FILE": str(REPO / "providers.json")}
        var_dir.mkdir()
        (var_dir / "outbox.jsonl").write_bytes(b'{"id": "x", "queued_at": "t", "ops": [{"kind": "nope", "rows": []}]}\n')
        first = run_cli(["spot", "--json"], env=env, var_dir=var_dir)
        assert first.exit_code == 1, first.output
        assert json.loads(first.stdout)["status"] == "stored"
        assert ("error: 1 outbox entries moved aside, see `staktrakr db status`: outbox entry x quarantined: "
                "unknown kind 'nope'") in first.stderr
        assert "Traceback" not in first.stderr
        second = run_cli(["spot", "--json"], env=env, var_dir=var_dir)
        assert second.exit_code == 0 and json.loads(second.stdout)["status"] == "already_stored"


def test_replay_killed_midway_resumes_where_it_stopped(libsql_server, make_settings, tmp_path):
    settings = server_settings(make_settings, libsql_server)
    with Store.open(settings) as store:
        store.migrate()
        for number in range(300):
            store.outbox.append(Store._ops(cycle_rows(run_id=f"r{number}", n=2,
                                                      window=f"2026-03-{1 + number // 96:02d}T{number % 96 // 4:02d}:"
                                                             f"{15 * (number % 4):02d}:00Z")), reason="test")
    flush = subprocess.Popen([sys.executable, "-P", "-m", "staktrakr", "db", "flush", "--json"], cwd=REPO,
                             env={"PATH": "/usr/bin:/bin", "TURSO_DATABASE_URL": libsql_server.url,
                                  "STAKTRAKR_VAR_DIR": str(settings.var_dir), "STAKTRAKR_ENV_FILE": "/nonexistent",
                                  "STAKTRAKR_LOG_FORMAT": "json"},
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    done_path = settings.outbox_path.with_name("outbox.jsonl.done")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and (not done_path.exists() or len(done_path.read_bytes().split()) < 20):
        time.sleep(0.005)
    flush.send_signal(signal.SIGKILL)
    flush.wait()
    applied_before_kill = len(done_path.read_bytes().split())
    assert 20 <= applied_before_kill < 300, "the replay finished before it could be killed"
    with Store.open(settings) as store:
        resumed = store.replay_outbox()
        assert resumed.replayed_entries == 300 - applied_before_kill   # not from the top
        assert count(store, "poller_runs") == 300 and count(store, "price_snapshots") == 900
        assert not store.outbox.path.exists() and not done_path.exists()


def test_append_during_a_replay_is_kept(any_db_url, store_for):
    store = store_for(any_db_url)
    store.migrate()
    store.outbox.append(Store._ops(cycle_rows(run_id="old")), reason="test")
    entries, _ = store.outbox.read()
    # another job queues a batch after this replay read the file, before it rewrites it
    store.outbox.append(Store._ops([spot_row()]), reason="meanwhile")
    store.db.batch(Store._statements(entries[0].ops))
    store.outbox.mark_done(entries[0].id)
    store.outbox.remove(store.outbox.done_ids(), [])
    assert [entry.reason for entry in store.outbox.entries()] == ["meanwhile"]


def test_a_second_replayer_skips_instead_of_blocking(any_db_url, store_for):
    store = store_for(any_db_url)
    store.migrate()
    store.outbox.append(Store._ops([spot_row()]), reason="test")
    held = store.outbox.replay_lock()
    held.acquire()
    try:
        result = store.replay_outbox()
        assert result.busy and result.replayed_entries == 0 and result.remaining_entries == 1
    finally:
        held.release()
    assert store.replay_outbox().replayed_entries == 1


def test_settings_expose_database_timeouts(make_settings):
    settings = make_settings()
    assert (settings.db_connect_timeout_s, settings.db_statement_timeout_s) == (10.0, 20.0)
    with Store.open(make_settings(db_statement_timeout_s=3)) as store:
        assert store.db.statement_timeout_s == 3
