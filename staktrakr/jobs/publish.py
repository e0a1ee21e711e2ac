"""The publish job: database -> static JSON tree under API_EXPORT_DIR/data -> commit -> force-push.

One publish per host at a time (`publish.lock`). The tree is rebuilt deterministically and only
changed files are written, so an unchanged database makes no commit. A failed push keeps the
commit; the next run pushes it (HEAD differs from the remote-tracking ref). `--dry-run` reads
the database and the current tree and reports what would change, writing nothing anywhere.
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout

from staktrakr.catalog import Catalog, load_catalog
from staktrakr.errors import JobFailed
from staktrakr.export.build import BuiltTree, build_tree
from staktrakr.export.tree import compare_tree, read_existing, write_tree
from staktrakr.gitops import DATA_DIR, commit_paths, force_push, needs_push, open_export_repo
from staktrakr.models import PollerRun, new_run_id
from staktrakr.settings import Settings
from staktrakr.store import Store
from staktrakr.store.catalog_tables import catalog_from_db
from staktrakr.timeutil import iso_z, utcnow

log = logging.getLogger(__name__)
LOCK_NAME = "publish.lock"


@dataclass
class PublishOptions:
    dry_run: bool = False
    push: bool = True


@dataclass
class PublishResult:
    dry_run: bool
    export_dir: str
    branch: str
    generated_at: str | None = None
    latest_window: str | None = None
    files: int = 0
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)  # publish never deletes; kept for the report shape
    median_moves: dict[str, dict[str, Any]] = field(default_factory=dict)
    commit: str | None = None
    pushed: bool | None = None
    push_error: str | None = None
    elapsed_s: float = 0.0

    @property
    def failed(self) -> bool:
        return self.push_error is not None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def publish_lock(settings: Settings) -> FileLock:
    settings.lock_dir.mkdir(parents=True, exist_ok=True)
    return FileLock(str(settings.lock_dir / LOCK_NAME), timeout=0, thread_local=False, is_singleton=False)


def load_publish_catalog(settings: Settings, store: Store) -> Catalog:
    if settings.catalog_source == "db":
        return catalog_from_db(store.db)
    return load_catalog(settings.providers_file)


def median_moves(data_dir: Path, built: BuiltTree) -> dict[str, dict[str, Any]]:
    """Per coin, the published median before and after (only coins whose median moves)."""
    previous = read_existing(data_dir, "api/latest.json") or {}
    before = {slug: entry.get("median_price") for slug, entry in (previous.get("coins") or {}).items()
              if isinstance(entry, dict)}
    moves = {}
    for slug in sorted(set(before) | set(built.medians)):
        old, new = before.get(slug), built.medians.get(slug)
        if old != new:
            moves[slug] = {"from": old, "to": new}
    return moves


def commit_message(built: BuiltTree) -> str:
    now = utcnow().strftime("%Y-%m-%dT%H:%MZ")
    return f"publish: {now} | retail={built.generated_at or 'none'}"


def run_publish(settings: Settings, store: Store, options: PublishOptions, catalog: Catalog | None = None) -> PublishResult:
    lock = publish_lock(settings)
    try:
        lock.acquire()
    except Timeout:
        raise JobFailed(f"another publish is running on this host (lock {lock.lock_file})") from None
    try:
        return _publish(settings, store, options, catalog)
    finally:
        lock.release()


def _publish(settings: Settings, store: Store, options: PublishOptions, catalog: Catalog | None) -> PublishResult:
    started = time.monotonic()
    export_dir = settings.export_dir.resolve()
    data_dir = export_dir / DATA_DIR
    result = PublishResult(dry_run=options.dry_run, export_dir=str(export_dir), branch=settings.branch)
    if not options.dry_run:
        prepared = store.prepare()
        if not prepared.schema_ok:
            raise JobFailed(f"publish needs the database: {prepared.error}")
    catalog = catalog or load_publish_catalog(settings, store)

    if options.dry_run:
        built = build_tree(store.db, settings, catalog, data_dir)
        _fill(result, built, compare_tree(data_dir, built.texts), data_dir)
        result.elapsed_s = round(time.monotonic() - started, 3)
        return result

    started_at = utcnow()
    run = PollerRun(run_id=new_run_id(settings.poller_id, "publish", started_at),
                    poller_id=settings.poller_id, job="publish", started_at=iso_z(started_at))
    store.start_run(run)
    try:
        runner = open_export_repo(settings)
        built = build_tree(store.db, settings, catalog, data_dir)
        result.median_moves = median_moves(data_dir, built)
        changes = write_tree(data_dir, built.texts)
        _fill(result, built, changes, None)
        result.commit = commit_paths(runner, commit_message(built))
        if options.push and settings.api_data_repo and needs_push(runner, settings.branch):
            outcome = force_push(runner, settings.branch)
            result.pushed, result.push_error = outcome.ok, outcome.error
    except Exception as exc:
        store.write([run.model_copy(update={"status": "error", "finished_at": iso_z(utcnow()),
                                            "error": str(exc)[:500]})])
        raise
    result.elapsed_s = round(time.monotonic() - started, 3)
    store.write([run.model_copy(update={
        "status": "error" if result.failed else "ok", "finished_at": iso_z(utcnow()),
        "total": result.files, "captured": len(result.added) + len(result.changed), "failures": int(result.failed),
        "error": result.push_error,
    })])
    if result.push_error:
        log.error("%s (the commit is kept; the next publish pushes it)", result.push_error)
    return result


def _fill(result: PublishResult, built: BuiltTree, changes: Any, data_dir: Path | None) -> None:
    result.generated_at, result.latest_window = built.generated_at, built.latest_window
    result.files = len(built.texts)
    result.added, result.changed = changes.added, changes.changed
    if data_dir is not None:
        result.median_moves = median_moves(data_dir, built)
