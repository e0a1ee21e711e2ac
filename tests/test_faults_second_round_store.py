"""Second round of attacks on "nothing lost": page text UTF-8 cannot encode, a full disk, a
journal raced by a recovery, one row the database refuses, malformed outbox ids, and what the
journal folder may hold (symbolic links, folders). Real sqld, real files, real processes."""

from __future__ import annotations

import json
import resource
import subprocess
import sys
from pathlib import Path

import pytest

from staktrakr.errors import StatementRejected
from staktrakr.models import PriceObservation
from staktrakr.store import Store
from staktrakr.store import journal as journal_module
from staktrakr.store.journal import Journal
from staktrakr.store.session import ops_of
from tests.cli_helpers import run_cli
from tests.farm import Farm, page_text
from tests.faults import REPO, ScrapeProcess, farm_targets, job_env, outbox_line, run_job, tls_context, write_catalog
from tests.store_rows import WINDOW, count, cycle_rows

SURROGATE_PAGE = """<!doctype html>
<html><head><title>American Silver Eagle 1 oz | Dealer</title>
<script type="application/ld+json">
{"@context": "https://schema.org", "@type": "Product", "name": "2026 1 oz American Silver Eagle Coin \\ud800",
 "offers": {"@type": "Offer", "price": "79.10", "priceCurrency": "USD",
            "availability": "https://schema.org/InStock\\udfff"}}
</script></head>
<body><main><h1>2026 1 oz American Silver Eagle Coin</h1>
<p>Price: $79.10</p><button>Add to Cart</button></main></body></html>"""


def query(env: dict[str, str], sql: str, args=()) -> list[dict]:
    from staktrakr.settings import load_settings

    settings = load_settings(turso_database_url=env["TURSO_DATABASE_URL"], STAKTRAKR_VAR_DIR=env["STAKTRAKR_VAR_DIR"])
    with Store.open(settings) as store:
        return store.db.query(sql, list(args))


@pytest.fixture
def https_farm(farm_cert):
    farm = Farm(tls=tls_context(farm_cert))
    yield farm
    farm.stop()


# --- 1. a lone surrogate in a dealer page ----------------------------------------------------------

def test_lone_surrogate_in_a_dealer_page_fails_nothing(https_farm, farm_cert, libsql_server, tmp_path):
    """The journal write raised UnicodeEncodeError: traceback, the cycle lost, later targets never
    scraped. Now the page is read with U+FFFD in place and every target is stored."""
    targets = farm_targets(https_farm, 2, 3, page_text)
    bad_url = https_farm.host("surrogates").add("/eagle", SURROGATE_PAGE)
    targets.insert(1, ("surrogate-coin", "surrogates", bad_url))
    env = job_env(tmp_path / "var", libsql_server.url, write_catalog(tmp_path / "providers.json", targets), farm_cert)
    code, out, err = ScrapeProcess(env).start().finish()
    assert code == 0, err
    assert "Traceback" not in err and "UnicodeEncodeError" not in err
    result = json.loads(out)
    assert result["total"] == len(targets) and result["stored_rows"] >= len(targets)
    row = query(env, "SELECT price, evidence FROM price_snapshots WHERE vendor = 'surrogates'")[0]
    assert row["price"] == 79.10
    assert not list((tmp_path / "var" / "journal").glob("*.jsonl"))


def test_rows_with_a_lone_surrogate_go_to_journal_outbox_and_database(libsql_server, make_settings):
    """Wherever rows are serialized, a lone surrogate is replaced instead of raising."""
    settings = make_settings(turso_database_url=libsql_server.url)
    row = PriceObservation(scraped_at="2026-03-15T20:01:00.000Z", window_start=WINDOW, coin_slug="ase",
                           vendor="apmex", price=79.1, source="http", poller_id="api", run_id="api-scrape-s",
                           evidence='{"text": "Eagle \ud800"}')
    with Store.open(settings) as store:
        store.migrate()
        journal = Journal(store.journal_dir, "api-scrape-s", {"run": {"run_id": "api-scrape-s"}})
        journal.add(ops_of([row]))
        assert journal.failure is None
        journal.close(discard=True)
        store.outbox.append([{"kind": "price_snapshots", "rows": [row.model_dump(mode="json")]}], reason="x \udfff")
        assert store.replay_outbox().replayed_rows == 1
        assert store.write([row.model_copy(update={"vendor": "sdbullion"})]).stored_rows == 1
        evidence = [r["evidence"] for r in store.db.query("SELECT evidence FROM price_snapshots")]
        assert evidence == ['{"text": "Eagle \ufffd"}'] * 2


# --- 2. a full disk --------------------------------------------------------------------------------

def _limit_file_size(limit: int):
    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return apply


def test_a_journal_the_disk_refuses_is_reported_and_the_cycle_still_stored(https_farm, farm_cert, libsql_server,
                                                                             tmp_path):
    """No file may grow past 3 kB (RLIMIT_FSIZE: writes fail like on a full disk): the journal
    takes its header and a target or two, then refuses. The cycle used to abort with a bare
    OSError; now one warning names the journal and the whole cycle is stored in its one batch."""
    targets = farm_targets(https_farm, 2, 4, page_text)
    env = job_env(tmp_path / "var", libsql_server.url, write_catalog(tmp_path / "providers.json", targets), farm_cert)
    assert run_job(env, "db", "migrate").returncode == 0
    process = subprocess.run([sys.executable, "-P", "-m", "staktrakr", "scrape", "--json"], env=env, cwd=REPO,
                             capture_output=True, text=True, timeout=120, preexec_fn=_limit_file_size(3000))
    assert process.returncode == 0, process.stderr
    result = json.loads(process.stdout)
    assert "Traceback" not in process.stderr and "Task exception" not in process.stderr
    journal_dir = tmp_path / "var" / "journal"
    assert f"journal {journal_dir}/{result['run_id']}.jsonl: cannot write (File too large)" in process.stderr
    assert result["run"]["warnings"] and "cannot write" in result["run"]["warnings"][0]
    assert result["total"] == len(targets)
    assert query(env, "SELECT COUNT(*) AS n FROM price_snapshots WHERE run_id = ?", [result["run_id"]])[0]["n"] \
        == len(targets)
    assert query(env, "SELECT status FROM poller_runs WHERE run_id = ?", [result["run_id"]]) == [{"status": "ok"}]
    flushed = run_job(env, "db", "flush")
    assert flushed.returncode == 0 and "0 quarantined" in flushed.stdout
    assert not list(journal_dir.iterdir())


def test_a_write_the_disk_refuses_cuts_the_journal_back_to_whole_lines(tmp_path):
    """The disk takes part of a line, then refuses: the half line is cut off again (it would
    otherwise be quarantined as torn, and the next line glued to it)."""
    code = ("import resource, sys; from pathlib import Path; from staktrakr.store.journal import Journal\n"
            "j = Journal(Path(sys.argv[1]), 'api-scrape-1', {'run': {'run_id': 'api-scrape-1'}})\n"
            "size = j.path.stat().st_size\n"
            "resource.setrlimit(resource.RLIMIT_FSIZE, (size + 100, size + 100))\n"
            "j.add([{'kind': 'price_snapshots', 'rows': [{'text': 'x' * 500}]}])\n"
            "j.add([{'kind': 'price_snapshots', 'rows': [{'text': 'y'}]}])\n"
            "print(size, j.entries, j.failure)\n"
            "j.close(discard=False)\n")
    out = subprocess.run([sys.executable, "-P", "-c", code, str(tmp_path)], cwd=REPO, capture_output=True, text=True,
                         check=True).stdout
    size, entries, failure = out.split(" ", 2)
    assert entries == "2" and f"journal {tmp_path}/api-scrape-1.jsonl: cannot write (File too large)" in failure
    data = (tmp_path / "api-scrape-1.jsonl").read_bytes()
    assert len(data) == int(size) and data.count(b"\n") == 1


# --- 3. a journal raced by a recovery --------------------------------------------------------------

class _RecoverBeforeLocking:
    """fcntl for the journal module, except that just before the journal takes its lock a real
    recovery runs in another process: the moment the old code left the file unlocked."""

    def __init__(self, folder: Path, outbox: Path) -> None:
        self.folder, self.outbox = folder, outbox
        self.recoveries = 0

    def __getattr__(self, name: str):
        import fcntl

        return getattr(fcntl, name)

    def flock(self, fd: int, operation: int) -> None:
        import fcntl

        if operation == fcntl.LOCK_EX:
            code = ("import sys; from pathlib import Path; from staktrakr.store.outbox import Outbox; "
                    "from staktrakr.store.journal import recover_journals; "
                    "print(len(recover_journals(Path(sys.argv[1]), Outbox(Path(sys.argv[2])))))")
            subprocess.run([sys.executable, "-c", code, str(self.folder), str(self.outbox)], cwd=REPO, check=True,
                           capture_output=True)
            self.recoveries += 1
        fcntl.flock(fd, operation)


def test_a_journal_is_never_visible_unlocked(tmp_path, monkeypatch):
    """The old journal was created, then locked: a recovery in between found an empty unlocked
    file and deleted it, and a SIGKILL then lost the whole cycle. Now it appears only locked."""
    folder, outbox = tmp_path / "journal", tmp_path / "outbox.jsonl"
    racer = _RecoverBeforeLocking(folder, outbox)
    monkeypatch.setattr(journal_module, "fcntl", racer)
    journal = Journal(folder, "api-scrape-race", {"run": {"run_id": "api-scrape-race"}})
    try:
        assert racer.recoveries == 1
        assert journal.path.exists() and not outbox.exists()
        journal.add([{"kind": "price_snapshots", "rows": []}])
        assert journal.path.read_bytes().count(b"\n") == 2
    finally:
        journal.close(discard=True)
    assert not list(folder.iterdir())


# --- 4. one row the database refuses ---------------------------------------------------------------

def refuse_vendor(store: Store, vendor: str) -> None:
    store.db.execute(f"CREATE TRIGGER refuse_{vendor} BEFORE INSERT ON price_snapshots WHEN NEW.vendor = '{vendor}' "
                     f"BEGIN SELECT RAISE(ABORT, 'vendor {vendor} refused by a trigger'); END")


def test_one_refused_row_keeps_only_that_row_aside_and_flush_rejected_applies_it(any_db_url, store_for, tmp_path):
    store = store_for(any_db_url)
    store.migrate()
    rows = cycle_rows(run_id="api-run-refused")
    refuse_vendor(store, "jmbullion")                       # the failed snapshot of the cycle
    with pytest.raises(StatementRejected) as raised:
        store.write(rows)
    assert "1 rows kept in" in str(raised.value) and "the other 7 of 8 stored" in str(raised.value)
    assert count(store, "price_snapshots") == 5 and count(store, "provider_failures") == 1
    assert store.db.query("SELECT status FROM poller_runs") == [{"status": "ok"}]
    kept = [json.loads(line) for line in store.outbox.rejected_path.read_text().splitlines()]
    assert [[row["vendor"] for row in op["rows"]] for op in kept[0]["entry"]["ops"]] == [["jmbullion"]]

    store.db.execute("DROP TRIGGER refuse_jmbullion")           # the cause is fixed
    assert store.requeue(rejected=True) == (1, 0)
    assert not store.outbox.rejected_path.exists()
    assert store.replay_outbox().replayed_rows == 1
    assert count(store, "price_snapshots") == 6


def test_a_replayed_entry_with_one_refused_row_stores_the_rest(any_db_url, store_for):
    store = store_for(any_db_url)
    store.migrate()
    refuse_vendor(store, "jmbullion")
    store.outbox.append(ops_of(cycle_rows(run_id="api-run-q")), reason="test")
    result = store.replay_outbox()
    assert result.rejected_entries == 1 and result.replayed_rows == 7 and result.needs_attention
    assert count(store, "price_snapshots") == 5 and store.outbox.size() == (0, 0)
    assert store.outbox.report()["rejected"] == 1


def test_db_flush_rejected_and_quarantined_put_entries_back(libsql_server, tmp_path):
    env = {"TURSO_DATABASE_URL": libsql_server.url}
    var_dir = tmp_path / "var"
    assert run_cli(["db", "migrate"], env=env, var_dir=var_dir).exit_code == 0
    from staktrakr.settings import load_settings

    with Store.open(load_settings(turso_database_url=libsql_server.url, STAKTRAKR_VAR_DIR=var_dir)) as store:
        refuse_vendor(store, "jmbullion")
        with pytest.raises(StatementRejected):
            store.write(cycle_rows(run_id="api-run-a"))
        # an entry an older version could not read, and a torn line that never becomes one
        good = outbox_line(ops_of(cycle_rows(run_id="api-run-b", window="2026-03-15T20:15:00Z")), "entry-b")
        store.outbox.quarantine([(good.rstrip(b"\n"), "outbox line 1: unknown kind"), (b'{"id": "torn', "torn")])
        store.db.execute("DROP TRIGGER refuse_jmbullion")
    text = " ".join(run_cli(["db", "status"], env=env, var_dir=var_dir).stdout.split())  # wrapped at 80 columns
    assert "staktrakr db flush --rejected" in text and "staktrakr db flush --quarantined" in text
    flushed = run_cli(["db", "flush", "--rejected", "--quarantined"], env=env, var_dir=var_dir)
    assert flushed.exit_code == 0, flushed.output
    assert "requeued 2 entries into the outbox; 1 lines are still no entry" in flushed.stdout
    with Store.open(load_settings(turso_database_url=libsql_server.url, STAKTRAKR_VAR_DIR=var_dir)) as store:
        assert count(store, "price_snapshots") == 12
        report = store.outbox.report()
        assert report["rejected"] == 0 and report["quarantined"] == 1    # only the torn line stays


# --- 5. malformed outbox ids -----------------------------------------------------------------------

@pytest.mark.parametrize("bad_id", ["café", "", "x ", "x\nentry-good"])
def test_an_entry_id_that_is_not_an_id_is_quarantined(bad_id, make_settings):
    """A non-ASCII id was a traceback in every job forever; an id ending in a space or holding a
    newline never left the outbox, and "x\\n<id>" marked another entry done unapplied."""
    settings = make_settings()
    good_ops = ops_of(cycle_rows(run_id="api-run-good"))
    settings.var_dir.mkdir(parents=True)
    settings.outbox_path.write_bytes(outbox_line(ops_of(cycle_rows(run_id="api-run-bad", window="2026-03-15T20:15:00Z")),
                                                 bad_id) + outbox_line(good_ops, "entry-good"))
    flushed = run_cli(["db", "flush"], var_dir=settings.var_dir)
    assert flushed.exit_code == 1 and "Traceback" not in flushed.output
    assert "replayed 1 entries (8 rows), 0 remaining, 1 quarantined" in flushed.stdout
    assert "is not an id" in flushed.stderr
    again = run_cli(["db", "flush"], var_dir=settings.var_dir)
    assert again.exit_code == 0 and "replayed 0 entries" in again.stdout
    with Store.open(settings) as store:
        assert count(store, "price_snapshots") == 6      # the good entry, applied once
        assert store.outbox.report()["quarantined"] == 1


# --- journal quarantine counted, odd things in the journal folder ----------------------------------

def test_quarantined_journal_lines_are_counted_and_fail_the_flush(make_settings):
    settings = make_settings()
    folder = settings.journal_dir
    journal = Journal(folder, "api-scrape-torn", {"run": {"run_id": "api-scrape-torn", "poller_id": "api",
                                                          "job": "scrape", "started_at": "2026-03-15T20:00:00.000Z"}})
    journal.add(ops_of(cycle_rows(run_id="api-scrape-torn")[:1]))
    journal.close(discard=False)
    with open(folder / "api-scrape-torn.jsonl", "ab") as handle:
        handle.write(b'{"ops": [{"kind": "price_snap')
    (folder / "headless.jsonl").write_bytes(b"\xff not a header\n")
    flushed = run_cli(["db", "flush"], var_dir=settings.var_dir)
    assert flushed.exit_code == 1, flushed.output
    assert "2 quarantined" in flushed.stdout
    assert f"journal: {folder}/headless.jsonl had no readable header: 1 lines quarantined" in flushed.stdout
    assert "run headless" not in flushed.stdout
    assert f"warning: journal {folder}/api-scrape-torn.jsonl: 1 unreadable lines quarantined" in flushed.stderr


def test_links_and_folders_in_the_journal_folder_are_left_alone(make_settings, tmp_path):
    settings = make_settings()
    folder = settings.journal_dir
    folder.mkdir(parents=True)
    secret = tmp_path / "not-yours.txt"
    secret.write_text("root:x:0:0:root:/root:/bin/bash\n")
    (folder / "link.jsonl").symlink_to(secret)
    (folder / "folder.jsonl").mkdir()
    flushed = run_cli(["db", "flush"], var_dir=settings.var_dir)
    assert flushed.exit_code == 0, flushed.output
    assert "cannot use 4" not in flushed.output and "Traceback" not in flushed.output
    quarantine = settings.var_dir / "outbox-quarantine.jsonl"
    assert not quarantine.exists()
    assert (folder / "link.jsonl").is_symlink() and secret.read_text().startswith("root")
    status = json.loads(run_cli(["db", "status", "--json"], var_dir=settings.var_dir).stdout)
    assert sorted(status["journals"]["not_journals"]) == [str(folder / "folder.jsonl"), str(folder / "link.jsonl")]
    assert "is not a journal" in run_cli(["status"], var_dir=settings.var_dir).stdout


def test_status_and_db_status_show_journals_of_killed_runs(make_settings):
    settings = make_settings()
    journal = Journal(settings.journal_dir, "api-scrape-killed", {"run": {"run_id": "api-scrape-killed"}})
    journal.close(discard=False)          # what a SIGKILL leaves
    live = Journal(settings.journal_dir, "api-scrape-live", {"run": {"run_id": "api-scrape-live"}})
    try:
        report = json.loads(run_cli(["db", "status", "--json"], var_dir=settings.var_dir).stdout)
        assert report["journals"]["abandoned"] == ["api-scrape-killed"]
        assert report["journals"]["running"] == ["api-scrape-live"]
        text = run_cli(["status"], var_dir=settings.var_dir).stdout
        assert "journals: 1 of killed runs waiting" in text and "api-scrape-killed" in text
        assert "journals: 1 of killed runs waiting" in run_cli(["db", "status"], var_dir=settings.var_dir).stdout
    finally:
        live.close(discard=True)


# --- counts ----------------------------------------------------------------------------------------

def test_rows_stored_counts_what_the_database_took_not_what_was_sent(any_db_url, store_for):
    store = store_for(any_db_url)
    store.migrate()
    first = store.write(cycle_rows(run_id="api-run-1"))
    assert (first.data_stored_rows, first.stored_rows) == (7, 8)
    again = store.write(cycle_rows(run_id="api-run-2"))   # the same window and vendors: the index drops them
    assert again.stored_by_kind.get("price_snapshots", 0) == 0 and again.stored_by_kind["poller_runs"] == 1
    assert again.data_stored_rows == 1                       # only this run's provider failure is new
