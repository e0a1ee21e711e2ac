"""`staktrakr db snapshot OUT [--days N]` against a real libSQL server: a read-only SQLite file of
what the API publishes, opened with sqlite3 to read a coin's history."""

from __future__ import annotations

import sqlite3
import stat
from pathlib import Path

from staktrakr.store import Store
from tests.cli_helpers import assert_one_line_error, run_cli
from tests.conftest import REPO
from tests.publish_fixtures import seed


def snapshot(libsql_server, tmp_path: Path, *args: str):
    env = {"TURSO_DATABASE_URL": libsql_server.url, "PROVIDERS_FILE": str(REPO / "providers.json")}
    return run_cli(["db", "snapshot", *args], env=env, var_dir=tmp_path / "var")


def read_only(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True)


def test_snapshot_holds_a_coins_published_history(libsql_server, make_settings, tmp_path: Path) -> None:
    with Store.open(make_settings(turso_database_url=libsql_server.url)) as store:
        seed(store)
    out = tmp_path / "offline" / "prices.db"
    result = snapshot(libsql_server, tmp_path, str(out))
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(out.stat().st_mode) == 0o444
    assert not list(out.parent.glob(".prices.db.*"))  # the staging files are gone

    with read_only(out) as db:
        history = db.execute("SELECT window_start, vendor, price, in_stock FROM price_snapshots "
                             "WHERE coin_slug = 'ase' AND vendor = 'apmex' ORDER BY window_start").fetchall()
        # 30 days back from the newest window (03-15 20:00): the 02-01 row is outside
        assert history == [("2026-03-01T10:00:00Z", "apmex", 100.0, 1), ("2026-03-15T17:30:00Z", "apmex", 93.33, 1)]
        columns = [row[1] for row in db.execute("PRAGMA table_info(price_snapshots)")]
        assert "poller_id" not in columns and "is_failed" not in columns
        failed = db.execute("SELECT COUNT(*) FROM price_snapshots WHERE vendor = 'providentmetals'").fetchone()
        assert failed == (0,)  # a failed fetch is not a published price
        spot = db.execute("SELECT spot FROM spot_prices WHERE metal = 'silver' "
                          "AND timestamp_floor = '2026-03-15T19:30:00Z'").fetchall()
        assert spot == []  # out of band: never published
        assert db.execute("SELECT g1_usd FROM goldback_rates WHERE date = '2026-03-15'").fetchone() == (10.06,)
        assert db.execute("SELECT name FROM coins WHERE slug = 'ase'").fetchone()[0].startswith("American Silver")

    everything = snapshot(libsql_server, tmp_path, str(out), "--days", "0")  # replaces the read-only file
    assert everything.exit_code == 0, everything.output
    with read_only(out) as db:
        assert db.execute("SELECT COUNT(*) FROM price_snapshots WHERE coin_slug = 'ase' "
                          "AND vendor = 'apmex'").fetchone() == (3,)


def test_snapshot_into_an_unwritable_place_is_one_line(libsql_server, make_settings, tmp_path: Path) -> None:
    with Store.open(make_settings(turso_database_url=libsql_server.url)) as store:
        seed(store)
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    result = snapshot(libsql_server, tmp_path, str(blocker / "prices.db"))
    assert result.exit_code == 1
    assert_one_line_error(result, str(blocker))


def test_snapshot_never_overwrites_the_database_or_a_foreign_file(make_settings, tmp_path: Path) -> None:
    database = tmp_path / "live.db"
    url = f"file:{database}"
    with Store.open(make_settings(turso_database_url=url)) as store:
        seed(store)
    before = database.read_bytes()
    env = {"TURSO_DATABASE_URL": url, "PROVIDERS_FILE": str(REPO / "providers.json")}

    def run(*args: str):
        return run_cli(["db", "snapshot", *args], env=env, var_dir=tmp_path / "var")

    for target in (str(database), str(tmp_path / "." / "live.db")):
        refused = run(target, "--force")
        assert refused.exit_code == 2, refused.output
        assert_one_line_error(refused, "source database")
    link = tmp_path / "alias.db"
    link.hardlink_to(database)
    assert run(str(link), "--force").exit_code == 2
    assert database.read_bytes() == before

    catalog = tmp_path / "providers.json"
    catalog.write_text('{"coins": {}}\n')
    refused = run(str(catalog))
    assert refused.exit_code == 2
    assert_one_line_error(refused, "--force")
    assert catalog.read_text() == '{"coins": {}}\n'

    out = tmp_path / "prices.db"
    assert run(str(out)).exit_code == 0
    assert run(str(out)).exit_code == 0  # an earlier snapshot is replaced without --force
    assert run(str(catalog), "--force").exit_code == 0
    with read_only(catalog) as db:
        assert db.execute("SELECT COUNT(*) FROM coins").fetchone()[0] > 0

    for days in ("100000000", "12345678901234567890", "-1"):
        bad = run(str(out), "--days", days)
        assert bad.exit_code == 2, bad.output
        assert "--days" in bad.output


def test_snapshot_slots_are_one_shape_and_a_killed_snapshots_staging_is_removed(libsql_server, make_settings,
                                                                                tmp_path: Path) -> None:
    """Spot slots stored by older writers as "YYYY-MM-DD HH:MM:SS" come out as ours, so they sort as
    times; the staging directory a snapshot killed before its end left beside OUT is removed by
    the next one once it is an hour old (a fresh one may be a snapshot still running)."""
    import os
    import time

    with Store.open(make_settings(turso_database_url=libsql_server.url)) as store:
        seed(store)
        store.db.execute("INSERT INTO spot_prices (metal, spot, source, poller_id, timestamp, timestamp_floor, scraped_at) "
                         "VALUES ('gold', 5001.5, 'metalprice-api', 'old', '2026-03-12 09:00:00', '2026-03-12 09:00:00', "
                         "'2026-03-12 09:00:07')")
    out = tmp_path / "offline" / "prices.db"
    out.parent.mkdir()
    abandoned, running = out.parent / ".prices.db.killed", out.parent / ".prices.db.running"
    for staging in (abandoned, running):
        staging.mkdir()
        (staging / "staging.db").write_bytes(b"x" * 1000)
    os.utime(abandoned, (time.time() - 7200, time.time() - 7200))
    result = snapshot(libsql_server, tmp_path, str(out))
    assert result.exit_code == 0, result.output
    assert not abandoned.exists() and running.exists()
    with read_only(out) as db:
        slots = [row[0] for row in db.execute("SELECT timestamp_floor FROM spot_prices WHERE metal = 'gold' "
                                              "ORDER BY timestamp_floor")]
    assert slots[0] == "2026-03-12T09:00:00Z" and slots[1] == "2026-03-13T08:00:00Z"
    assert all(len(slot) == 20 and slot[10] == "T" and slot.endswith("Z") for slot in slots)
