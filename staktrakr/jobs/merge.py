"""The merge job: fold the poller branches' data/ trees into `main` (DESIGN.md section 9).

Works in a private bare repository under var/ (never in the publish clone): fetch every branch,
read each branch's data/ tree, parse only what must be merged (the api/ files and any file whose
blob differs between branches), build the merged tree with git objects (staktrakr/git/objects.py:
blobs + a temporary index), commit it on top of main and push with a lease on the main head it read. A rejected
push (someone else merged first) refetches and remerges, a bounded number of times. The same
branch heads always give the same tree, so unchanged inputs make no commit.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt, wait_incrementing

from staktrakr.errors import ConfigError, JobFailed
from staktrakr.export.combine import BranchFiles, check_branch, merge_trees
from staktrakr.export.tree import render
from staktrakr.git.objects import TreeEntries, commit_tree, read_blob, read_tree, store_blob, tree_of, write_tree
from staktrakr.git.repo import DATA_DIR, GitRunner, check_remote_url, fetch, open_bare_repo, push_with_lease
from staktrakr.jobs.harness import JobRun, RunReport
from staktrakr.settings import Settings
from staktrakr.store import Store

log = logging.getLogger(__name__)
JOB = "merge"
MAX_ATTEMPTS = 5
PREFIX = DATA_DIR + "/"


@dataclass
class MergeOptions:
    branches: list[str] | None = None
    into: str | None = None
    dry_run: bool = False


@dataclass
class MergeResult:
    into: str
    dry_run: bool
    used: dict[str, str] = field(default_factory=dict)  # branch -> head
    skipped: dict[str, str] = field(default_factory=dict)  # branch -> reason
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    commit: str | None = None
    pushed: bool | None = None
    attempts: int = 0
    nothing_to_do: bool = False
    elapsed_s: float = 0.0
    run: RunReport | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def merge_repo(settings: Settings) -> GitRunner:
    """The private bare repository merge works in; origin = API_DATA_REPO (or the local export repo)."""
    remote = check_remote_url(settings.api_data_repo) if settings.api_data_repo else str(settings.export_dir.resolve())
    if not settings.api_data_repo and not (settings.export_dir / ".git").exists():
        raise ConfigError("merge: set API_DATA_REPO (or publish once so API_EXPORT_DIR holds the branches)")
    return open_bare_repo((settings.var_dir / "merge-repo.git").resolve(), settings, remote)


def _read_branches(runner: GitRunner, names: list[str], result: MergeResult
                   ) -> tuple[list[BranchFiles], dict[str, Any]]:
    """Each usable branch's parsed files (freshest first) and every branch's data/ tree."""
    trees: dict[str, TreeEntries] = {}
    for name in names:
        head = runner.rev(f"refs/remotes/origin/{name}")
        if head is None:
            result.skipped[name] = "missing: no such branch on the remote"
            continue
        tree = {p[len(PREFIX):]: v for p, v in read_tree(runner, head).items() if p.startswith(PREFIX)}
        if "api/manifest.json" not in tree:
            result.skipped[name] = "empty: no data/api/manifest.json"
            continue
        trees[name] = tree
        result.used[name] = head
    all_paths = {p for tree in trees.values() for p in tree}
    differing = {p for p in all_paths if len({tree.get(p) for tree in trees.values()}) > 1}
    branches = []
    for name, tree in trees.items():
        files = BranchFiles(name, result.used[name])
        try:
            for path in sorted(p for p in tree if p.startswith("api/") or p in differing):
                try:
                    files.docs[path] = json.loads(read_blob(runner, tree[path][1]))
                except ValueError as exc:
                    raise ValueError(f"{path}: invalid JSON ({exc})") from None
            check_branch(files)
        except ValueError as exc:
            result.skipped[name] = f"invalid: {exc}"
            del result.used[name]
            continue
        branches.append(files)
    branches.sort(key=lambda b: b.name)
    branches.sort(key=lambda b: b.generated_at, reverse=True)  # freshest first; ties by name
    return branches, {b.name: trees[b.name] for b in branches}


def _merged_entries(runner: GitRunner, settings: Settings, branches: list[BranchFiles],
                    trees: dict[str, TreeEntries]) -> TreeEntries:
    """data/ path -> (mode, sha) of the merged tree."""
    all_paths = {p for tree in trees.values() for p in tree}
    differing = {p for p in all_paths if len({tree.get(p) for tree in trees.values()}) > 1}
    docs = merge_trees(branches, differing, settings.spot_bands)
    entries: TreeEntries = {}
    for path in sorted(all_paths):
        if path in docs:
            entries[path] = ("100644", store_blob(runner, render(path, docs[path])))
        else:  # the same blob on every branch that has it: take it as it is
            entries[path] = next(trees[b.name][path] for b in branches if path in trees[b.name])
    for path in docs.keys() - entries.keys():
        entries[path] = ("100644", store_blob(runner, render(path, docs[path])))
    return entries


def _diff(old: TreeEntries, new: TreeEntries, result: MergeResult) -> None:
    result.added = sorted(p for p in new if p not in old)
    result.changed = sorted(p for p in new if p in old and old[p] != new[p])
    result.removed = sorted(p for p in old if p not in new and p.startswith(PREFIX))


def run_merge(settings: Settings, options: MergeOptions, store: Store | None = None) -> MergeResult:
    """Merge the poller branches into `into` as one `merge` run: lock (also for a dry run), a
    poller_runs row (via `store`, or a Store opened on the settings; queued when the database is down)."""
    own_store = store is None
    store = store or Store.open(settings)
    try:
        with JobRun(settings, store, JOB, dry_run=options.dry_run, lock=True) as run:
            result = _merge(settings, options, run)
            result.run = run.report
            run.finish(total=len(result.used) + len(result.skipped), captured=len(result.used),
                       failures=len(result.skipped),
                       note="nothing to do" if result.nothing_to_do else None)
            return result
    finally:
        if own_store:
            store.close()


class _PushRejected(Exception):
    """The push with lease lost a race (another merge moved the branch): fetch and try again."""


def _merge(settings: Settings, options: MergeOptions, run: JobRun) -> MergeResult:
    """Fetch, combine and push; a rejected push is retried from a fresh fetch (tenacity: MAX_ATTEMPTS
    tries, waits growing by 0.2 s)."""
    started = time.monotonic()
    names = options.branches or settings.merge_branch_list
    into = options.into or settings.merge_into
    if into in names:
        raise ConfigError(f"merge: --into {into} is also a source branch")
    runner = merge_repo(settings)

    def warn(state: RetryCallState) -> None:
        log.warning("merge: attempt %d/%d: %s", state.attempt_number, MAX_ATTEMPTS,
                    state.outcome.exception() if state.outcome else "")

    retrying = Retrying(stop=stop_after_attempt(MAX_ATTEMPTS), wait=wait_incrementing(start=0.2, increment=0.2),
                        retry=retry_if_exception_type(_PushRejected), after=warn, reraise=True)
    try:
        result = retrying(lambda: _attempt(runner, settings, options, run, names, into,
                                           retrying.statistics.get("attempt_number", 1)))
    except _PushRejected:
        raise JobFailed(f"merge: push to {into} rejected {MAX_ATTEMPTS} times; try again later") from None
    result.elapsed_s = round(time.monotonic() - started, 3)
    return result


def _attempt(runner: GitRunner, settings: Settings, options: MergeOptions, run: JobRun, names: list[str],
             into: str, attempt: int) -> MergeResult:
    """One fetch, combine and push; _PushRejected when the lease lost."""
    run.stop.check(JOB, f"before attempt {attempt} (nothing pushed)")
    result = MergeResult(into=into, dry_run=options.dry_run, attempts=attempt)
    ok, reason = fetch(runner, ["+refs/heads/*:refs/remotes/origin/*"])
    if not ok:
        raise JobFailed(f"merge: git fetch failed: {reason}")
    branches, trees = _read_branches(runner, names, result)
    for name, why in result.skipped.items():
        log.warning("merge: branch %s skipped (%s)", name, why)
    if not branches:
        skipped = "; ".join(f"{name}: {why}" for name, why in result.skipped.items())
        raise JobFailed(f"merge: no usable branch ({skipped})")
    main_head = runner.rev(f"refs/remotes/origin/{into}")
    main_entries = read_tree(runner, main_head) if main_head else {}
    merged = {PREFIX + p: v for p, v in _merged_entries(runner, settings, branches, trees).items()}
    kept = {p: v for p, v in main_entries.items() if not p.startswith(PREFIX)}  # main's own files stay
    tree = write_tree(runner, {**kept, **merged})
    _diff(main_entries, {**kept, **merged}, result)
    main_tree = tree_of(runner, main_head) if main_head else None
    if tree == main_tree:
        result.nothing_to_do = True
        return result
    if options.dry_run:
        return result
    message = f"merge: {', '.join(f'{n}@{h[:12]}' for n, h in result.used.items())} -> {into}"
    if result.skipped:
        message += "\n\nskipped: " + "; ".join(f"{n} ({w})" for n, w in result.skipped.items())
    commit = commit_tree(runner, tree, [main_head] if main_head else [], message)
    pushed = push_with_lease(runner, commit, into, main_head)
    if not pushed.ok:
        raise _PushRejected(pushed.error)
    result.commit, result.pushed = commit, True
    return result
