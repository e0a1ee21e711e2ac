"""The cycle journal: a live writer's journal is never touched; a dead one is queued once, scored
like a live cycle, its run marked `interrupted`, and a torn line is quarantined, not fatal."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from staktrakr.models import PollerRun, PriceObservation
from staktrakr.store.journal import Journal, recover_journals
from tests.conftest import REPO
from tests.store_rows import WINDOW, count


def snapshot(coin: str, vendor: str, price: float | None, run_id: str = "api-scrape-1") -> dict:
    return PriceObservation(scraped_at="2026-03-15T20:01:00.000Z", window_start=WINDOW, coin_slug=coin, vendor=vendor,
                            price=price, source="http", is_failed=price is None, poller_id="api",
                            run_id=run_id).model_dump(mode="json")


def header(run_id: str = "api-scrape-1", planned: int = 4) -> dict:
    run = PollerRun(run_id=run_id, poller_id="api", job="scrape", started_at="2026-03-15T20:00:00.000Z",
                    total=planned)
    return {"run": run.model_dump(mode="json"), "planned": planned, "window_start": WINDOW,
            "scoring": {"window_prices": {}, "previous_day": {"ase": 79.0}}}


def write_dead_journal(folder, run_id="api-scrape-1", prices=(79.10, 80.0, 95.0)) -> None:
    """A journal whose writer is gone (what a SIGKILL leaves): written, lock released, file kept."""
    journal = Journal(folder, run_id, header(run_id))
    for number, price in enumerate(prices):
        journal.add([{"kind": "price_snapshots", "rows": [snapshot("ase", f"v{number}", price, run_id)]}])
    journal.close(discard=False)


def test_dead_journal_is_queued_once_scored_and_marked_interrupted(any_db_url, store_for):
    store = store_for(any_db_url)
    store.migrate()
    write_dead_journal(store.journal_dir)
    recovered = store.recover_journals()
    assert [(r.run_id, r.targets, r.rows) for r in recovered] == [("api-scrape-1", 3, 3)]
    assert not list(store.journal_dir.glob("*.jsonl"))
    assert store.recover_journals() == []                      # gone: nothing queued twice
    assert store.replay_outbox().replayed_rows == 4
    rows = store.db.query("SELECT vendor, price, confidence FROM price_snapshots ORDER BY vendor")
    # upper median of 79.10, 80.00, 95.00 is 80.00: within 3% -> 80; 95 is 18.75% away (-15) and 20%
    # from the previous day's 79.00 (-20) -> 15: the live cycle's rule (scoring.window_confidences)
    assert [(r["vendor"], r["confidence"]) for r in rows] == [("v0", 80), ("v1", 80), ("v2", 15)]
    run = store.db.query("SELECT status, total, captured, failures, error FROM poller_runs")[0]
    assert run["status"] == "interrupted" and (run["total"], run["captured"], run["failures"]) == (4, 3, 0)
    assert "3 finished targets recovered from its journal" in run["error"]


def test_journal_of_a_live_writer_is_left_alone(any_db_url, store_for):
    store = store_for(any_db_url)
    live = Journal(store.journal_dir, "api-scrape-live", header("api-scrape-live"))
    live.add([{"kind": "price_snapshots", "rows": [snapshot("ase", "v0", 79.1, "api-scrape-live")]}])
    try:
        # another process (a spot job starting now) must not take a running scrape's journal
        code = ("import sys; from pathlib import Path; from staktrakr.store.outbox import Outbox; "
                "from staktrakr.store.journal import recover_journals; "
                "print(len(recover_journals(Path(sys.argv[1]), Outbox(Path(sys.argv[2])))))")
        out = subprocess.run([sys.executable, "-c", code, str(store.journal_dir), str(store.outbox.path)],
                             capture_output=True, text=True, cwd=REPO, check=True).stdout
        assert out.strip() == "0" and live.path.exists() and not store.outbox.path.exists()
    finally:
        live.close(discard=True)


def test_recovery_killed_after_queueing_queues_once(any_db_url, store_for):
    store = store_for(any_db_url)
    store.migrate()
    write_dead_journal(store.journal_dir)
    path = next(store.journal_dir.glob("*.jsonl"))
    kept = path.read_bytes()
    recover_journals(store.journal_dir, store.outbox)
    path.write_bytes(kept)                                    # as if killed before the journal was deleted
    recover_journals(store.journal_dir, store.outbox)
    assert store.outbox.size() == (1, 4)                      # same entry id: queued once
    store.replay_outbox()
    assert count(store, "price_snapshots") == 3


def test_torn_journal_line_is_quarantined_the_rest_recovered(any_db_url, store_for):
    store = store_for(any_db_url)
    store.migrate()
    write_dead_journal(store.journal_dir)
    path = next(store.journal_dir.glob("*.jsonl"))
    with open(path, "ab") as handle:
        handle.write(b'{"ops": [{"kind": "price_snap')
    recovered = store.recover_journals()
    assert recovered[0].targets == 3 and recovered[0].quarantined_lines == 1
    assert store.outbox.report()["quarantined"] == 1
    store.replay_outbox()
    assert count(store, "price_snapshots") == 3


def test_journal_without_a_readable_header_is_quarantined_whole(any_db_url, store_for):
    store = store_for(any_db_url)
    store.journal_dir.mkdir(parents=True)
    (store.journal_dir / "api-scrape-x.jsonl").write_bytes(b"\xff\xfe garbage\n{\"ops\": []}\n")
    recovered = store.recover_journals()
    assert recovered[0].quarantined_lines == 2 and recovered[0].rows == 0
    assert store.outbox.report()["quarantined"] == 2 and not store.outbox.path.exists()


def test_interrupted_never_overwrites_a_runs_own_final_row(any_db_url, store_for):
    """Killed after its batch was stored but before the journal was deleted: the run keeps `ok`."""
    store = store_for(any_db_url)
    store.migrate()
    finished = PollerRun.model_validate({**header()["run"], "status": "ok", "finished_at": "2026-03-15T20:02:00.000Z",
                                         "captured": 3, "failures": 0})
    store.write([finished])
    write_dead_journal(store.journal_dir)
    store.prepare()
    assert store.db.query("SELECT status FROM poller_runs") == [{"status": "ok"}]


def test_journal_file_is_private(tmp_path):
    journal = Journal(tmp_path, "api-scrape-1", header())
    try:
        assert oct(os.stat(journal.path).st_mode & 0o777) == "0o600"
        assert json.loads(journal.path.read_text().splitlines()[0])["journal"] == 1
    finally:
        journal.close(discard=True)
    assert not journal.path.exists()
