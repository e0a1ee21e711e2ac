"""The publish job: database -> static JSON tree under API_EXPORT_DIR/data -> commit -> force-push.

One publish per host at a time (`publish.lock`, taken by the job harness, also for --dry-run).
The tree is rebuilt deterministically and only changed files are written, so an unchanged
database makes no commit; files under data/ that no builder produced (strays) are removed and
reported, so the branch holds only the builders' files. Before building, the watermark recorded
by the last publish (export/watermark.py) is compared with the database's newest row ids and row
counts, the catalog and the builder code, and the files on disk with the commit (git status, an
untracked file included): when nothing moved, publish says so and stops without aggregating (it
still pushes a commit an earlier push left behind). Rows updated in place move no watermark:
`--full` (options.full) rebuilds regardless. A failed
push keeps the commit; the next run pushes it (HEAD differs from the remote-tracking ref).
`--dry-run` reads the database and the current tree and reports what would change, writing
nothing anywhere.
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from filelock import FileLock

from staktrakr.errors import ConfigError, JobFailed, StatementRejected
from staktrakr.export.tree import compare_tree, read_existing, remove_links, write_tree
from staktrakr.export.watermark import (
    PublishRecord,
    forget_record,
    read_reads,
    read_record,
    watermark,
    write_reads,
    write_record,
)
from staktrakr.git.repo import (
    DATA_DIR,
    GitRunner,
    commit_paths,
    committed_paths,
    force_push,
    needs_push,
    open_export_repo,
    restore_from_head,
    worktree_matches_head,
)
from staktrakr.jobs.harness import JobRun, RunReport, lock_for
from staktrakr.models import DEMO_POLLER_ID
from staktrakr.settings import Settings
from staktrakr.store import Store
from staktrakr.store.queries.prices import poller_has_prices
from staktrakr.store.queries.watermark import feeding_marks
from staktrakr.timeutil import utcnow

if TYPE_CHECKING:  # loaded by a build only: an unchanged publish needs neither
    from staktrakr.catalog import Catalog
    from staktrakr.export.build import BuiltTree

log = logging.getLogger(__name__)
JOB = "publish"


@dataclass
class PublishOptions:
    dry_run: bool = False
    push: bool = True
    full: bool = False  # rebuild even when the watermark says nothing moved


@dataclass
class PublishResult:
    dry_run: bool
    export_dir: str
    branch: str
    generated_at: str | None = None
    latest_window: str | None = None
    files: int = 0  # files in the published tree (a dry run: the files this build produces)
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)  # files under data/ no builder produced (strays)
    median_moves: dict[str, dict[str, Any]] = field(default_factory=dict)
    commit: str | None = None
    up_to_date: bool = False  # the watermark matched: nothing was rebuilt
    pushed: bool | None = None
    push_error: str | None = None
    push_skipped: str | None = None  # why no push was attempted
    elapsed_s: float = 0.0
    notes: list[str] = field(default_factory=list)
    run: RunReport | None = None

    @property
    def failed(self) -> bool:
        return self.push_error is not None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def publish_lock(settings: Settings) -> FileLock:
    """The lock a publish holds for its whole run (what the harness takes for job `publish`)."""
    return lock_for(settings, JOB)


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


def refuse_demo_rows(settings: Settings, store: Store) -> None:
    """JobFailed when the database holds `staktrakr demo` sample prices and this is not the demo poller:
    sample prices must never reach a published tree."""
    if settings.poller_id == DEMO_POLLER_ID:
        return
    try:
        found = poller_has_prices(store, DEMO_POLLER_ID)
    except StatementRejected as exc:
        if not exc.missing_table:
            raise
        found = False
    if found:
        raise JobFailed(f"publish: {store.db.display} holds sample rows of `staktrakr demo` (poller_id "
                        f"'{DEMO_POLLER_ID}'); delete them (DELETE FROM price_snapshots WHERE poller_id = "
                        f"'{DEMO_POLLER_ID}') or publish from another database")


def require_database_file(settings: Settings) -> None:
    """ConfigError when TURSO_DATABASE_URL is a `file:` path that does not exist: publish reads the
    shared database, it never starts an empty one (opening a missing file would create it)."""
    url = settings.database_url
    if url.startswith("file:"):
        path = Path(urlsplit(url).path or url[len("file:"):]).expanduser()
        nearest = next((folder for folder in path.parents if folder.exists()), None)
        if not path.exists() and (nearest is None or nearest.is_dir()):  # else opening it names what is in the way
            raise ConfigError(f"TURSO_DATABASE_URL: {path} does not exist; publish reads an existing database "
                              f"(a scrape or `staktrakr demo` creates one)")


def run_publish(settings: Settings, store: Store, options: PublishOptions,
                catalog: Catalog | None = None) -> PublishResult:
    """Build, commit and push the tree as one `publish` run (lock held throughout). A dry run takes no
    lock: it only reads the database and the tree (written file by file atomically), so it works while
    the scheduled publish runs."""
    with JobRun(settings, store, JOB, dry_run=options.dry_run) as run:
        return _publish(run, options, catalog)


def _publish(run: JobRun, options: PublishOptions, catalog: Catalog | None) -> PublishResult:
    settings, store = run.settings, run.store
    started = time.monotonic()
    export_dir = settings.export_dir.resolve()
    data_dir = export_dir / DATA_DIR
    result = PublishResult(dry_run=options.dry_run, export_dir=str(export_dir), branch=settings.branch, run=run.report)
    if run.prepared is not None and not run.prepared.schema_ok:
        raise JobFailed(f"publish needs the database: {run.prepared.error}")
    refuse_demo_rows(settings, store)
    if options.dry_run:
        from staktrakr.export.build import build_tree

        built = build_tree(store, settings, _catalog(run, catalog), data_dir)
        _fill(result, built, compare_tree(data_dir, built.texts), data_dir)
        result.elapsed_s = round(time.monotonic() - started, 3)
        return result

    if data_dir.is_symlink():  # git would commit the link itself, and strays be deleted in its target
        raise JobFailed(f"publish: {data_dir} is a symlink; publish keeps a real directory there: move the "
                        f"whole export directory instead and set API_EXPORT_DIR to its new place")
    # the harness holds publish.lock: a leftover index.lock with no git process of ours is stale
    runner = open_export_repo(settings, holding_publish_lock=True, notes=result.notes, stop=run.stop)
    git_dir = runner.git_dir
    repaired = _repair_tree(runner, data_dir, result)
    if settings.catalog_source == "db":  # the tables are the catalog: read them for the watermark
        catalog = _catalog(run, catalog)
    mark = watermark(feeding_marks(store), catalog, settings, store.db.display)
    if options.full:
        result.notes.append("--full: rebuilt regardless of the watermark")
    if options.full or not _up_to_date(runner, git_dir, mark, result, restored=repaired):
        from staktrakr.export.build import build_tree

        forget_record(git_dir)
        previous = None if options.full else read_reads(git_dir, mark, store)
        built = build_tree(store, settings, _catalog(run, catalog), data_dir, previous)
        if not built.texts:
            raise JobFailed(f"publish: database {store.db.display} holds no price, spot or Goldback rows: nothing "
                            "to publish (is TURSO_DATABASE_URL the shared database?)")
        if built.reads is not None:
            write_reads(git_dir, mark, built.reads)
        result.median_moves = median_moves(data_dir, built)
        run.stop.check(JOB, "before writing the tree (nothing changed)")
        changes = write_tree(data_dir, built.texts, committed_paths(runner))
        _fill(result, built, changes, None)
        result.commit = commit_paths(runner, commit_message(built))
        head = result.commit or runner.rev("HEAD")
        result.files = len(committed_paths(runner) or ())  # the whole published tree, not this build's part
        if head and worktree_matches_head(runner):
            write_record(git_dir, PublishRecord(mark, head, result.files, built.generated_at, built.latest_window,
                                                built.medians))
        run.stop.check(JOB, f"after the commit {result.commit or '(none)'}; the next publish pushes it")
    if not options.push:
        result.push_skipped = "--no-push"
    elif not settings.api_data_repo:
        result.push_skipped = "API_DATA_REPO unset"
    elif not needs_push(runner, settings.branch):
        result.push_skipped = "nothing to push: the remote branch already has this commit"
    else:
        outcome = force_push(runner, settings.branch)
        result.pushed, result.push_error = outcome.ok, outcome.error
    result.elapsed_s = round(time.monotonic() - started, 3)
    pushed = {True: "pushed", False: "not pushed (the next publish pushes it)", None: "nothing pushed"}[result.pushed]
    run.report.summary = f"commit {result.commit[:12] if result.commit else '(none)'}, {pushed}"
    run.finish(total=result.files, captured=len(result.added) + len(result.changed) + len(result.removed),
               failures=int(result.failed),
               error=result.push_error)
    if result.push_error:
        log.error("%s (the commit is kept; the next publish pushes it)", result.push_error)
    return result


def _repair_tree(runner: GitRunner, data_dir: Path, result: PublishResult) -> bool:
    """Before anything reads the tree: put back from the last commit every committed file that
    differs on disk, and remove every symlink under data/ (never its target). Returns whether
    data/ differed from the commit (what is left, untracked files, the stray check removes)."""
    differing, restored = restore_from_head(runner)
    if differing:
        shown = ", ".join(differing[:5]) + (f" and {len(differing) - 5} more" if len(differing) > 5 else "")
        result.notes.append(f"{DATA_DIR}/ differed from the last commit on disk ({shown}): committed files put "
                            f"back from it, others checked as strays" if restored else
                            f"{DATA_DIR}/ holds files and there is no commit yet ({shown}): files named like the "
                            f"builders' and valid JSON are kept, others removed as strays")
    links = remove_links(data_dir)
    if links:
        result.removed += links
        result.notes.append(f"removed {len(links)} symlink(s) under {DATA_DIR}/ (the links, not their targets): "
                            f"a published tree holds real files only")
    return bool(differing)


def _catalog(run: JobRun, catalog: Catalog | None) -> Catalog:
    """The catalog given, else the configured one (ConfigError naming the file or table when invalid)."""
    from staktrakr.catalog.load import load_run_catalog

    return catalog or load_run_catalog(run.settings, run.store)


def _up_to_date(runner: GitRunner, git_dir: Path, mark: dict[str, Any], result: PublishResult,
                restored: bool) -> bool:
    """True (and `result` filled from the record) when the recorded watermark is `mark`, HEAD is
    the recorded commit and the files on disk are that commit's (`restored`: some were just put
    back from it, so git status is asked again for the rest)."""
    record = read_record(git_dir)
    if record is None or record.watermark != mark or runner.rev("HEAD") != record.commit:
        return False
    if restored and not worktree_matches_head(runner):  # files the commit does not hold: the build removes the strays
        result.notes.append(f"{DATA_DIR}/ holds files commit {record.commit[:12]} does not: rebuilt")
        return False
    result.up_to_date = True
    result.files, result.generated_at, result.latest_window = record.files, record.generated_at, record.latest_window
    result.notes.append(f"nothing new since commit {record.commit[:12]}: tree not rebuilt")
    return True


def _fill(result: PublishResult, built: BuiltTree, changes: Any, data_dir: Path | None) -> None:
    result.generated_at, result.latest_window = built.generated_at, built.latest_window
    result.files = len(built.texts)
    result.added, result.changed = changes.added, changes.changed
    result.removed = sorted({*result.removed, *changes.removed})  # symlinks removed before the build included
    if data_dir is not None:
        result.median_moves = median_moves(data_dir, built)
