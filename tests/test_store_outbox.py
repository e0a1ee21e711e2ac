"""The outbox: a database outage loses nothing; replay stores every row exactly once."""

from __future__ import annotations

import json

from staktrakr.settings import load_settings
from staktrakr.store import Store
from staktrakr.store.session import LATEST_VERSION
from tests.cli_helpers import run_cli
from tests.store_rows import count, cycle_rows, spot_row


def test_outage_mid_run_goes_to_outbox_then_replays_exactly_once(libsql_server, make_settings):
    settings = make_settings(turso_database_url=libsql_server.url)
    with Store.open(settings) as store:
        assert store.prepare().schema_ok
        store.write(cycle_rows(run_id="before-outage"))

        libsql_server.stop()
        prepared = store.prepare()
        assert not prepared.schema_ok and "database http://127.0.0.1" in prepared.error
        result = store.write([*cycle_rows(run_id="during-outage", window="2026-03-15T20:15:00Z"), spot_row()])
        assert result.queued and result.queued_rows == 9 and result.stored_rows == 0
        assert "database http://127.0.0.1" in result.error
        assert store.outbox.size() == (1, 9)

    libsql_server.start()
    with Store.open(settings) as store:
        prepared = store.prepare()
        assert prepared.replay.replayed_entries == 1 and prepared.replay.replayed_rows == 9
        assert prepared.replay.remaining_entries == 0
        assert not settings.outbox_path.exists()
        assert count(store, "price_snapshots") == 12
        assert count(store, "provider_failures") == 2
        assert count(store, "spot_prices") == 1
        runs = store.db.query("SELECT run_id, status FROM poller_runs ORDER BY run_id")
        assert runs == [{"run_id": "before-outage", "status": "ok"}, {"run_id": "during-outage", "status": "ok"}]
        # nothing left to replay, nothing duplicated
        assert store.replay_outbox().replayed_entries == 0
        assert count(store, "price_snapshots") == 12


def test_replay_twice_after_crash_between_commit_and_rewrite_stores_once(any_db_url, store_for):
    store = store_for(any_db_url)
    store.migrate()
    rows = cycle_rows(run_id="crashy")
    store.outbox.append(Store._ops(rows), reason="test")
    store.db.batch(Store._statements(Store._ops(rows)))  # the commit happened, the rewrite did not
    result = store.replay_outbox()
    assert result.replayed_entries == 1 and result.remaining_entries == 0
    assert count(store, "price_snapshots") == 6
    assert count(store, "provider_failures") == 1


def test_replay_stops_at_the_first_failure_and_keeps_order(libsql_server, make_settings):
    settings = make_settings(turso_database_url=libsql_server.url)
    with Store.open(settings) as store:
        store.migrate()
        libsql_server.stop()
        store.write(cycle_rows(run_id="one"))
        store.write(cycle_rows(run_id="two"))
        assert store.replay_outbox().remaining_entries == 2
        entries = store.outbox.entries()
        assert [e.ops[-1]["rows"][0]["run_id"] for e in entries] == ["one", "two"]


def test_torn_last_line_is_skipped_not_fatal(any_db_url, store_for):
    store = store_for(any_db_url)
    store.migrate()
    store.outbox.append(Store._ops(cycle_rows(run_id="whole")), reason="test")
    with open(store.outbox.path, "a") as handle:
        handle.write('{"id": "torn", "ops": [')
    assert store.replay_outbox().replayed_entries == 1
    assert count(store, "poller_runs") == 1


def test_outbox_batch_after_a_torn_append_is_kept(tmp_path):
    from staktrakr.store.outbox import Outbox

    outbox = Outbox(tmp_path / "outbox.jsonl")
    outbox.append([{"kind": "spot", "rows": [{"metal": "gold"}]}], "down")
    with open(outbox.path, "a", encoding="utf-8") as handle:   # a crash mid-append leaves half a line
        handle.write('{"id":"torn","ops":[{"kind":"spot","ro')
    outbox.append([{"kind": "spot", "rows": [{"metal": "silver"}]}], "down")
    kept = [entry.ops[0]["rows"][0]["metal"] for entry in outbox.entries()]
    assert kept == ["gold", "silver"]


def test_db_status_and_flush_commands_report_the_outbox(libsql_server, tmp_path):
    env = {"TURSO_DATABASE_URL": libsql_server.url}
    assert run_cli(["db", "migrate"], env=env, var_dir=tmp_path).exit_code == 0
    libsql_server.stop()

    with Store.open(load_settings(turso_database_url=libsql_server.url, STAKTRAKR_VAR_DIR=tmp_path)) as store:
        store.write(cycle_rows(run_id="queued"))

    status = run_cli(["db", "status", "--json"], env=env, var_dir=tmp_path)
    assert status.exit_code == 1  # unreachable; the report still says what the outbox holds
    report = json.loads(status.stdout)
    assert report["reachable"] is False
    assert report["outbox"]["entries"] == 1 and report["outbox"]["rows"] == 8

    down = run_cli(["db", "flush"], env=env, var_dir=tmp_path)
    assert down.exit_code == 1
    assert down.output.startswith("error: database http://127.0.0.1:")
    assert len(down.output.strip().splitlines()) == 1

    libsql_server.start()
    flushed = run_cli(["db", "flush", "--json"], env=env, var_dir=tmp_path)
    assert flushed.exit_code == 0, flushed.output
    assert json.loads(flushed.stdout)["replayed_rows"] == 8
    report = json.loads(run_cli(["db", "status", "--json"], env=env, var_dir=tmp_path).stdout)
    assert report["tables"]["price_snapshots"] == 6 and report["outbox"]["entries"] == 0
    assert report["newest_window"] == "2026-03-15T20:00:00Z" and report["schema_version"] == LATEST_VERSION
