"""Publish on a database shaped like the shared one (tests/realistic_db.py): the bytes of the tree
are pinned (a faster publish must publish exactly the same files), a new cycle's publish equals
a full one, an unchanged database is noticed without rebuilding, and a tree edited or damaged on
disk is noticed and repaired."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from pathlib import Path

import pytest

from staktrakr.jobs.publish import PublishOptions, PublishResult, run_publish
from staktrakr.store import Store
from tests.realistic_db import add_cycle, generate

# sha256 over every file of data/ (path, then the file's sha256), made by the publish of main at
# dd927ae: the published bytes must not change. One value was changed since, on purpose: a day's
# average whose exact value is a half cent (herobullion's ape on 2026-03-14: 420063/200 =
# 2100.315) was 2100.31 when SQLite's AVG added the rows' floats in index order, and is 2100.32
# since averages are exact (store/queries/prices.py DAILY_AGGREGATES).
FULL_DIGEST = "6d9df5fb69c4f5e9502ed9a99894954be36b4e31efbf7e187dfaa667f443612f"
AFTER_CYCLE_DIGEST = "7e816865d3ad6d01a4ec83486ee76b606479e59b410cc6620b8e581ed7e1b9ce"


def tree_files(data: Path) -> dict[str, str]:
    return {str(path.relative_to(data)): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(data.rglob("*")) if path.is_file()}


def tree_digest(data: Path) -> str:
    digest = hashlib.sha256()
    for path, file_digest in tree_files(data).items():
        digest.update(f"{path}\0{file_digest}\n".encode())
    return digest.hexdigest()


@pytest.fixture(scope="module")
def realistic_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("realistic") / "shared.db"
    generate(path, days=34, pollers=2, targets=40)
    return path


@pytest.fixture
def db_copy(realistic_db: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "shared.db"
    shutil.copyfile(realistic_db, copy)
    return copy


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=True).stdout


def object_counts(repo: Path) -> dict[str, int]:
    """`git count-objects -v`: loose objects ("count"), objects in packs ("in-pack"), "packs"."""
    fields = dict(line.split(": ", 1) for line in git(repo, "count-objects", "-v").splitlines())
    return {name: int(value) for name, value in fields.items()}


def blobs(repo: Path, commit: str) -> set[str]:
    """The distinct blob ids of a commit's tree."""
    return {line.split()[2] for line in git(repo, "ls-tree", "-r", commit).splitlines()}


def assert_same_as_a_fresh_publish(make_settings, db: Path, export: Path, fresh: Path) -> None:
    """Every file a publish of `db` into the empty directory `fresh` writes is in `export`, byte for byte."""
    publish(make_settings, db, fresh)
    incremental, full = tree_files(export / "data"), tree_files(fresh / "data")
    assert {path: incremental.get(path) for path in full} == full


def publish(make_settings, db: Path, export: Path, **options: bool) -> PublishResult:
    settings = make_settings(turso_database_url=f"file:{db}", api_export_dir=export)
    with Store.open(settings) as store:
        return run_publish(settings, store, PublishOptions(push=False, **options))


def test_tree_bytes_are_pinned_and_a_new_cycle_equals_a_full_publish(make_settings, db_copy: Path,
                                                                      tmp_path: Path) -> None:
    export = tmp_path / "export"
    first = publish(make_settings, db_copy, export)
    assert first.commit and first.files > 300
    assert tree_digest(export / "data") == FULL_DIGEST
    # the blobs went into one pack (git add's bulk-checkin, git/repo.py commit_paths); loose are
    # only the commit and its trees
    counts = object_counts(export)
    commit_and_trees = git(export, "rev-list", "--objects", "--filter=object:type=tree", "HEAD").splitlines()
    assert counts["packs"] == 1 and counts["in-pack"] == len(blobs(export, "HEAD")) > 300
    assert counts["count"] == len(commit_and_trees)

    window = add_cycle(db_copy)
    second = publish(make_settings, db_copy, export)
    assert second.commit and second.latest_window == window and not second.up_to_date
    assert tree_digest(export / "data") == AFTER_CYCLE_DIGEST
    counts = object_counts(export)
    assert counts["packs"] == 2 and counts["in-pack"] == len(blobs(export, "HEAD") | blobs(export, "HEAD~1"))
    git(export, "fsck", "--strict", "--no-dangling")  # check=True: a damaged store fails here

    assert_same_as_a_fresh_publish(make_settings, db_copy, export, tmp_path / "fresh")


def test_unchanged_database_is_not_rebuilt_and_a_damaged_tree_is(make_settings, db_copy: Path,
                                                                 tmp_path: Path) -> None:
    export = tmp_path / "export"
    first = publish(make_settings, db_copy, export)
    data = export / "data"
    before = tree_files(data)

    unchanged = publish(make_settings, db_copy, export)
    assert unchanged.up_to_date and unchanged.commit is None and not unchanged.changed
    assert (unchanged.files, unchanged.generated_at) == (first.files, first.generated_at)
    assert any("nothing new" in note for note in unchanged.notes)

    latest = data / "api/latest.json"
    latest.write_bytes(latest.read_bytes()[:100])  # a torn write
    (data / "goldback-2026.json").unlink()
    history = next(data.glob("api/*/history-30d.json"))
    history.write_text(history.read_text().replace('"avg_median": ', '"avg_median": 1'))  # an edit by hand
    old_hour = sorted(data.glob("15min/*/*/*/*.json"))[0]  # a file no build writes again
    old_hour.write_text(old_hour.read_text().replace('"spot": ', '"spot": 1', 1))
    (data / "api/manifest.json").chmod(0o755)
    outside = tmp_path / "outside.json"
    outside.write_bytes((data / "api/ase/latest.json").read_bytes())
    (data / "api/ase/latest.json").unlink()
    (data / "api/ase/latest.json").symlink_to(outside)  # the same bytes, through a link
    shutil.rmtree(data / "hourly")
    (data / "hourly").write_text("not a directory")
    repaired = publish(make_settings, db_copy, export)
    assert repaired.up_to_date and repaired.commit is None and not repaired.changed
    assert any("differed from the last commit" in note for note in repaired.notes)
    assert tree_files(data) == before
    assert not any(path.is_symlink() for path in data.rglob("*"))
    assert {oct(path.stat().st_mode & 0o777) for path in data.rglob("*.json")} == {"0o644"}
    assert publish(make_settings, db_copy, export).up_to_date


def test_another_setting_or_a_lost_record_rebuilds(make_settings, db_copy: Path, tmp_path: Path) -> None:
    export = tmp_path / "export"
    publish(make_settings, db_copy, export)
    settings = make_settings(turso_database_url=f"file:{db_copy}", api_export_dir=export, publish_spot_hours=12)
    with Store.open(settings) as store:
        assert not run_publish(settings, store, PublishOptions(push=False)).up_to_date
        assert run_publish(settings, store, PublishOptions(push=False)).up_to_date
    (export / ".git" / "staktrakr-publish.json").write_text("{not json")
    assert not publish(make_settings, db_copy, export).up_to_date


def test_late_rows_of_an_earlier_date_reach_its_history(make_settings, db_copy: Path, tmp_path: Path) -> None:
    """Rows replayed from an outbox days later: the dates they touch are aggregated again."""
    import sqlite3

    export = tmp_path / "export"
    publish(make_settings, db_copy, export)
    history = export / "data/api/age/history-30d.json"
    before = history.read_bytes()
    with sqlite3.connect(db_copy) as connection:
        connection.execute(
            "INSERT INTO price_snapshots (scraped_at, window_start, coin_slug, vendor, price, source, confidence, "
            "is_failed, in_stock, poller_id) VALUES ('2026-03-12T10:01:00.000Z', '2026-03-12T10:00:00Z', 'age', "
            "'apmex', 4000.0, 'http', 80, 0, 1, 'home')")
    late = publish(make_settings, db_copy, export)
    assert "api/age/history-30d.json" in late.changed and history.read_bytes() != before

    assert_same_as_a_fresh_publish(make_settings, db_copy, export, tmp_path / "fresh")


def test_late_rows_of_the_last_day_win_their_window_as_a_full_read_does(make_settings, db_copy: Path,
                                                                         tmp_path: Path) -> None:
    """A new cycle reads only the rows added since the last build and merges them into the last
    day it kept: a later scraped row takes over its (earlier) window, a vision reading does not
    displace a scraped row, and the tree is the one a full read gives."""
    import json
    import sqlite3

    export = tmp_path / "export"
    publish(make_settings, db_copy, export)
    insert = ("INSERT INTO price_snapshots (scraped_at, window_start, coin_slug, vendor, price, source, confidence, "
              "is_failed, in_stock, poller_id) VALUES (?, ?, 'age', 'jmbullion', ?, ?, 80, 0, 1, 'fly2')")
    with sqlite3.connect(db_copy) as connection:
        connection.executemany(insert, [
            ("2026-03-15T19:14:00.000Z", "2026-03-15T19:00:00Z", 5301.5, "http"),  # later than that window's rows
            ("2026-03-15T19:59:00.000Z", "2026-03-15T19:45:00Z", 6000.0, "gemini-vision"),  # a reading, not a price
        ])
    late = publish(make_settings, db_copy, export)
    assert not late.up_to_date and "api/age/latest.json" in late.changed
    windows = {entry["window"]: entry["vendors"].get("jmbullion")
               for entry in json.loads((export / "data/api/age/latest.json").read_text())["windows_24h"]}
    assert windows["2026-03-15T19:00:00.000Z"] == 5301.5  # was 5202.08
    assert windows["2026-03-15T19:45:00.000Z"] == 5250.44  # the newest scraped row still

    assert_same_as_a_fresh_publish(make_settings, db_copy, export, tmp_path / "fresh")


def test_an_edited_catalog_file_rebuilds(make_settings, db_copy: Path, tmp_path: Path) -> None:
    from tests.conftest import REPO

    catalog = tmp_path / "providers.json"
    catalog.write_text((REPO / "providers.json").read_text())
    settings = make_settings(turso_database_url=f"file:{db_copy}", api_export_dir=tmp_path / "export",
                             providers_file=catalog)
    with Store.open(settings) as store:
        run_publish(settings, store, PublishOptions(push=False))
        assert run_publish(settings, store, PublishOptions(push=False)).up_to_date
        catalog.write_text(catalog.read_text().replace("American Gold Eagle 1 oz", "American Gold Eagle (1 oz)"))
        edited = run_publish(settings, store, PublishOptions(push=False))
    assert not edited.up_to_date and "api/manifest.json" in edited.changed


def test_files_the_builders_did_not_produce_are_removed(make_settings, db_copy: Path, tmp_path: Path) -> None:
    """A stray file under data/ (put there by hand, or a snapshot written into the tree) is not
    published: the publish removes it, lists it, and commits the removal; an old committed
    builder file (an earlier hour) stays."""
    import subprocess

    export = tmp_path / "export"
    publish(make_settings, db_copy, export)
    data = export / "data"
    before = tree_files(data)
    old_hour = data / "hourly/2020/01/01/00.json"  # named like a builder file but never built nor committed
    strays = {"api/stray.json": b"{}", "prices.db": b"SQLite format 3\0", "api/age/notes.txt": b"x",
              "hourly/2020/01/01/00.json": b"[]"}
    for path, content in strays.items():
        (data / path).parent.mkdir(parents=True, exist_ok=True)
        (data / path).write_bytes(content)

    cleaned = publish(make_settings, db_copy, export)
    assert not cleaned.up_to_date and cleaned.removed == sorted(strays)
    assert cleaned.commit is None  # the strays were never committed: nothing to record
    assert tree_files(data) == before and not old_hour.exists()

    (data / "api/stray.json").write_bytes(b"{}")  # committed by hand: removed by a commit
    subprocess.run(["git", "add", "data"], cwd=export, check=True)
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "stray"], cwd=export,
                   check=True)
    removed = publish(make_settings, db_copy, export)
    assert removed.removed == ["api/stray.json"] and removed.commit
    listed = subprocess.run(["git", "ls-tree", "-r", "--name-only", "HEAD", "data"], cwd=export, check=True,
                            capture_output=True, text=True).stdout.split()
    assert "data/api/stray.json" not in listed
    assert publish(make_settings, db_copy, export).up_to_date


def test_deleted_rows_rebuild_and_full_rebuilds_updated_rows(make_settings, db_copy: Path, tmp_path: Path) -> None:
    """A DELETE moves the watermark (row counts); an UPDATE in place does not, `--full` rebuilds it."""
    import sqlite3

    export = tmp_path / "export"
    publish(make_settings, db_copy, export)
    history = export / "data/api/age/history-30d.json"
    with sqlite3.connect(db_copy) as connection:
        connection.execute("DELETE FROM price_snapshots WHERE coin_slug = 'age' AND window_start < '2026-03-10'")
    deleted = publish(make_settings, db_copy, export)
    assert not deleted.up_to_date and "api/age/history-30d.json" in deleted.changed

    fresh = tmp_path / "fresh"
    publish(make_settings, db_copy, fresh)
    assert tree_files(export / "data") == tree_files(fresh / "data")

    before = history.read_bytes()
    with sqlite3.connect(db_copy) as connection:
        connection.execute("UPDATE price_snapshots SET price = price * 2 WHERE coin_slug = 'age'")
    assert publish(make_settings, db_copy, export).up_to_date  # documented: updates need --full
    full = publish(make_settings, db_copy, export, full=True)
    assert not full.up_to_date and history.read_bytes() != before
    again = tmp_path / "again"
    publish(make_settings, db_copy, again)
    assert tree_files(export / "data") == tree_files(again / "data")


def test_day_aggregates_walk_their_index_without_sorting(make_settings, db_copy: Path) -> None:
    """The 30-day aggregation reads a date range of idx_snapshots_day in GROUP BY order: no sort of
    a month of rows, no scan of every row ever (a changed WHERE or GROUP BY would lose the index)."""
    import sqlite3

    from staktrakr.store.queries.prices import DAILY_SUMS

    settings = make_settings(turso_database_url=f"file:{db_copy}")
    with Store.open(settings) as store:
        store.ensure_schema()
    with sqlite3.connect(db_copy) as connection:
        plan = " | ".join(row[3] for row in connection.execute(f"EXPLAIN QUERY PLAN {DAILY_SUMS}", ("2026-02-13",)))
    assert "USING INDEX idx_snapshots_day (<expr>>?)" in plan and "TEMP B-TREE" not in plan, plan


def test_a_day_average_is_exact_whatever_the_row_order(make_settings, tmp_path: Path) -> None:
    """Six in-stock prices whose exact mean is a half cent (192.09 / 6 = 32.015): adding their floats
    in ascending order (here both the rows' and the index's order) gives 32.01499999999999, which
    published 32.01."""
    import sqlite3

    from staktrakr.export.stats import money
    from staktrakr.store.queries.prices import day_aggregates, day_averages

    db = tmp_path / "exact.db"
    settings = make_settings(turso_database_url=f"file:{db}")
    prices = [23.43, 27.56, 30.18, 34.08, 37.36, 39.48]
    with Store.open(settings) as store:
        store.migrate()
    with sqlite3.connect(db) as connection:
        connection.executemany(
            "INSERT INTO price_snapshots (scraped_at, window_start, coin_slug, vendor, price, source, confidence, "
            "is_failed, in_stock, poller_id) VALUES (?, ?, 'ase', 'apmex', ?, 'http', 80, 0, 1, 'home')",
            [(f"2026-03-15T0{n}:01:00.000Z", f"2026-03-15T0{n}:00:00Z", price) for n, price in enumerate(prices)])
    with Store.open(settings) as store:
        [row] = day_averages(day_aggregates(store.db, "2026-03-15").rows)
    in_stock_rows, avg_in_stock, low_in_stock, avg_any = (row[key] for key in (
        "in_stock_rows", "avg_in_stock", "low_in_stock", "avg_any"))
    assert (in_stock_rows, low_in_stock) == (6, 23.43)
    assert avg_in_stock == avg_any == 32.015 and money(avg_in_stock) == 32.02


def test_sums_of_the_rows_added_later_equal_a_full_read(make_settings, tmp_path: Path) -> None:
    """day_aggregates given what it read before adds only the newer rows: an out-of-stock day that
    gets an in-stock row, a new vendor, a late row of an earlier date, a lower low, a failed row
    and a vision reading (neither counted) give the sums a full read gives."""
    import sqlite3

    from staktrakr.store.queries.prices import day_aggregates

    db = tmp_path / "sums.db"
    settings = make_settings(turso_database_url=f"file:{db}")
    with Store.open(settings) as store:
        store.migrate()
    insert = ("INSERT INTO price_snapshots (scraped_at, window_start, coin_slug, vendor, price, source, confidence, "
              "is_failed, in_stock, poller_id) VALUES (?, ?, 'ase', ?, ?, ?, 80, ?, ?, 'home')")

    def rows(*values: tuple[str, str, float, str, int, int]) -> list[tuple[object, ...]]:
        return [(f"{window[:-1]}.500Z", window, vendor, price, source, failed, in_stock)
                for window, vendor, price, source, failed, in_stock in values]

    with sqlite3.connect(db) as connection:
        connection.executemany(insert, rows(
            ("2026-03-14T10:00:00Z", "apmex", 31.25, "http", 0, 1),
            ("2026-03-15T10:00:00Z", "apmex", 32.5, "http", 0, 0),
            ("2026-03-15T10:00:00Z", "sdbullion", 33.1, "http", 0, 1)))
    with Store.open(settings) as store:
        before = day_aggregates(store.db, "2026-03-14")
    with sqlite3.connect(db) as connection:
        connection.executemany(insert, rows(
            ("2026-03-15T10:15:00Z", "apmex", 32.75, "http", 0, 1),
            ("2026-03-15T10:15:00Z", "jmbullion", 34.0, "http", 0, 1),
            ("2026-03-14T23:45:00Z", "apmex", 30.5, "http", 0, 1),
            ("2026-03-15T10:15:00Z", "sdbullion", 1.0, "http", 1, 1),
            ("2026-03-15T10:30:00Z", "sdbullion", 20.0, "gemini-vision", 0, 1),
            ("2026-03-13T10:00:00Z", "apmex", 29.0, "http", 0, 1)))  # before the range
    with Store.open(settings) as store:
        added = day_aggregates(store.db, "2026-03-14", before)
        full = day_aggregates(store.db, "2026-03-14")
    assert added.rows == full.rows and added.price_id == full.price_id > before.price_id
    assert [row[:4] for row in full.rows] == [["ase", "2026-03-14", "apmex", 2], ["ase", "2026-03-15", "apmex", 1],
                                              ["ase", "2026-03-15", "jmbullion", 1],
                                              ["ase", "2026-03-15", "sdbullion", 1]]


def test_the_rows_added_later_are_read_by_id(make_settings, db_copy: Path) -> None:
    """A new cycle's reads take the short primary-key range of the new ids, not an index walk."""
    import sqlite3

    from staktrakr.store.queries.prices import _ROWS_AFTER, _SUMS_AFTER

    settings = make_settings(turso_database_url=f"file:{db_copy}")
    with Store.open(settings) as store:
        store.ensure_schema()
    with sqlite3.connect(db_copy) as connection:
        for sql, args in ((_SUMS_AFTER, (1000,)), (_ROWS_AFTER, (1000, "2026-03-14T19:30:00Z", "2026-03-15T20:00:00Z"))):
            plan = " | ".join(row[3] for row in connection.execute(f"EXPLAIN QUERY PLAN {sql}", args))
            assert plan.startswith("SEARCH price_snapshots USING INTEGER PRIMARY KEY (rowid>?)"), plan


def test_kept_reads_are_dropped_when_a_row_they_counted_is_deleted(make_settings, db_copy: Path,
                                                                   tmp_path: Path) -> None:
    """The reads a build keeps are reused only while every row counted with them is there: checked
    from the count's own date (a new day's watermark counts from a later date) and from the same
    date (the watermark's count less the rows added since)."""
    import sqlite3

    from staktrakr.export.watermark import read_reads, read_record
    from staktrakr.store.queries.watermark import feeding_marks

    export = tmp_path / "export"
    settings = make_settings(turso_database_url=f"file:{db_copy}", api_export_dir=export)
    git_dir = export / ".git"
    with Store.open(settings) as store:
        run_publish(settings, store, PublishOptions(push=False))
        mark = read_record(git_dir).watermark  # type: ignore[union-attr]
        assert read_reads(git_dir, mark, store) is not None
        next_day = {**mark, "tables": {**mark["tables"], "price_rows_since": "2026-02-14", "price_rows": 1}}
        assert read_reads(git_dir, next_day, store) is not None
        with sqlite3.connect(db_copy) as connection:
            connection.execute("DELETE FROM price_snapshots WHERE id = (SELECT MAX(id) FROM price_snapshots "
                               "WHERE window_start < '2026-03-01')")
        assert read_reads(git_dir, next_day, store) is None
        now = {**mark, "tables": feeding_marks(store)}
        assert now["tables"]["price_rows_since"] == mark["tables"]["price_rows_since"]
        assert read_reads(git_dir, now, store) is None


def test_a_build_never_commits_a_file_damaged_on_disk(make_settings, db_copy: Path, tmp_path: Path) -> None:
    """New rows and a damaged file no build writes again (an old spot quarter): the commit holds
    the file as it was published, not the damage."""
    import subprocess

    export = tmp_path / "export"
    publish(make_settings, db_copy, export)
    data = export / "data"
    old_hour = sorted(data.glob("15min/*/*/*/*.json"))[0]
    published = old_hour.read_bytes()
    old_hour.write_bytes(b"")
    add_cycle(db_copy)
    built = publish(make_settings, db_copy, export)
    assert built.commit and not built.up_to_date
    committed = subprocess.run(["git", "show", f"HEAD:data/{old_hour.relative_to(data)}"], cwd=export, check=True,
                               capture_output=True).stdout
    assert committed == published == old_hour.read_bytes()


def test_a_tree_without_a_commit_keeps_its_files_and_a_linked_data_dir_is_refused(make_settings, db_copy: Path,
                                                                                tmp_path: Path) -> None:
    """A tree copied into a directory with no repository yet (or whose first publish was killed
    before its commit) is not taken for strays: files named like the builders' are kept and
    committed. `data` as a symlink is refused before anything is written or removed."""
    from staktrakr.errors import JobFailed

    first = tmp_path / "first"
    publish(make_settings, db_copy, first)
    copied = tmp_path / "copied"
    shutil.copytree(first / "data", copied / "data")
    kept = publish(make_settings, db_copy, copied)
    assert kept.commit and not kept.removed
    assert tree_files(copied / "data") == tree_files(first / "data")

    elsewhere = tmp_path / "elsewhere"
    (first / "data").rename(elsewhere)
    (first / "data").symlink_to(elsewhere)
    before = tree_files(elsewhere)
    with pytest.raises(JobFailed, match="is a symlink"):
        publish(make_settings, db_copy, first)
    assert tree_files(elsewhere) == before


def test_a_database_restored_from_a_backup_is_read_again(make_settings, db_copy: Path, tmp_path: Path) -> None:
    """A backup copied over the database and written again reuses ids, and may reach the same
    newest id and row count as the database the kept reads came from: they are not reused, and
    the tree is the one a fresh publish gives."""
    import sqlite3

    export = tmp_path / "export"
    backup = tmp_path / "backup.db"
    publish(make_settings, db_copy, export)
    shutil.copyfile(db_copy, backup)
    with sqlite3.connect(db_copy) as connection:
        added = connection.execute("SELECT COUNT(*) FROM price_snapshots").fetchone()[0]
    add_cycle(db_copy)
    publish(make_settings, db_copy, export)
    with sqlite3.connect(db_copy) as connection:
        added = connection.execute("SELECT COUNT(*) FROM price_snapshots").fetchone()[0] - added
    shutil.copyfile(backup, db_copy)  # the rows of that cycle are gone; the same number come back, other prices
    with sqlite3.connect(db_copy) as connection:
        connection.execute(
            "INSERT INTO price_snapshots (scraped_at, window_start, coin_slug, vendor, price, source, confidence, "
            "is_failed, in_stock, poller_id) SELECT '2026-03-15T20:17:00.000Z', '2026-03-15T20:15:00Z', coin_slug, "
            "vendor, price + 1.5, source, confidence, 0, 1, 'restored-' || id FROM price_snapshots "
            "WHERE window_start = '2026-03-15T20:00:00Z' LIMIT ?", (added,))
    again = publish(make_settings, db_copy, export)
    assert not again.up_to_date
    assert_same_as_a_fresh_publish(make_settings, db_copy, export, tmp_path / "fresh")


def test_an_empty_database_is_an_error_naming_it(make_settings, tmp_path: Path) -> None:
    """A database with no rows (a wrong TURSO_DATABASE_URL creates an empty file) publishes nothing
    and says so, instead of failing in git."""
    from staktrakr.errors import JobFailed

    with pytest.raises(JobFailed, match=r"empty\.db holds no price, spot or Goldback rows"):
        publish(make_settings, tmp_path / "empty.db", tmp_path / "export")


def test_links_junk_and_ignore_rules_never_reach_a_commit(make_settings, db_copy: Path, tmp_path: Path) -> None:
    """A tree copied as symlinks, a linked directory, junk named like builder files and an ignore
    rule, with no commit yet: the first commit holds real files only (mode 100644, valid JSON),
    equal to a publish into an empty directory; nothing outside the tree is touched."""
    import json
    import subprocess

    reference = tmp_path / "reference"
    publish(make_settings, db_copy, reference)
    source = tmp_path / "source"
    shutil.copytree(reference / "data", source)
    export = tmp_path / "export"
    data = export / "data"
    for path in sorted(source.rglob("*.json")):  # `cp -rs`: every file a link into the source
        (data / path.relative_to(source)).parent.mkdir(parents=True, exist_ok=True)
        (data / path.relative_to(source)).symlink_to(path)
    shutil.rmtree(data / "hourly")
    (data / "hourly").symlink_to(source / "hourly", target_is_directory=True)
    (data / "hourly-2020").mkdir()
    (data / "15min/2019/01/01").mkdir(parents=True)
    (data / "15min/2019/01/01/0000.json").write_bytes(b"\xff\xfe not json")  # named like a builder's file
    (export / ".gitignore").write_text("data/15min/\n")
    before = tree_files(source)

    first = publish(make_settings, db_copy, export)
    assert first.commit and "15min/2019/01/01/0000.json" in first.removed
    listed = subprocess.run(["git", "ls-tree", "-r", "HEAD", "data"], cwd=export, check=True, capture_output=True,
                            text=True).stdout.splitlines()
    assert listed and {line.split()[0] for line in listed} == {"100644"}
    committed = {line.split("\t")[1].removeprefix("data/") for line in listed}
    assert committed == set(tree_files(reference / "data"))
    for path in committed:
        json.loads((data / path).read_bytes())
    assert not any(path.is_symlink() for path in data.rglob("*"))
    assert tree_files(source) == before


def test_publish_refuses_a_missing_database_file(tmp_path: Path) -> None:
    """A `file:` URL whose file does not exist is a one-line error (exit 2) and creates nothing."""
    from tests.cli_helpers import assert_one_line_error, run_cli

    missing = tmp_path / "nodir" / "x.db"
    result = run_cli(["publish", "--no-push"], env={"TURSO_DATABASE_URL": f"file:{missing}",
                                                     "API_EXPORT_DIR": str(tmp_path / "export")},
                     var_dir=tmp_path / "var")
    assert result.exit_code == 2
    assert_one_line_error(result, str(missing))
    assert not missing.parent.exists()
