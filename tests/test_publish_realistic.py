"""Publish on a database shaped like the shared one (tests/realistic_db.py): the bytes of the tree
are pinned (a faster publish must publish exactly the same files) and a new cycle's publish equals
a full one."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

from staktrakr.jobs.publish import PublishOptions, PublishResult, run_publish
from staktrakr.store import Store
from tests.realistic_db import add_cycle, generate

# sha256 over every file of data/ (path, then the file's sha256), made by the publish of main at
# dd927ae: the published bytes must not change.
FULL_DIGEST = "b590a48757a1700e6ed974d0e8cc2b7c6b6d5e4f4c487772cfc6f99cdc7079a1"
AFTER_CYCLE_DIGEST = "a0f431141149acf9fed48d365df08fc5b6407225f100fed49538b5ddb26a7686"


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

    window = add_cycle(db_copy)
    second = publish(make_settings, db_copy, export)
    assert second.commit and second.latest_window == window
    assert tree_digest(export / "data") == AFTER_CYCLE_DIGEST

    fresh = tmp_path / "fresh"
    publish(make_settings, db_copy, fresh)
    incremental, full = tree_files(export / "data"), tree_files(fresh / "data")
    assert {path: incremental.get(path) for path in full} == full
