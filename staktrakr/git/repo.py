"""Git for publish and merge: the export clone, the merge repository, commits, pushes.

Every git command of the package runs through `GitRunner`, so each gets the same identity, no
credential helper and redacted error text. Commands run as git processes; GitPython is loaded
only by what reads or writes objects directly (merge, git/objects.py), not by a publish.

Credentials: GITHUB_TOKEN reaches git only through a GIT_ASKPASS script that reads it from the
git process's environment; it is never part of a remote URL, git config, a log line or the
tree. Credential helpers are switched off for our git calls, so none can store the token.
Nothing here runs `reset --hard`; a rebase, merge or cherry-pick left half done by an older
tool is aborted (which restores the pre-operation state and keeps the working files).
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import shutil
import stat
import subprocess
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING
from urllib.parse import urlsplit

from staktrakr.errors import ConfigError, JobFailed
from staktrakr.git.network import StopRequest, run_network_git
from staktrakr.log import shorten
from staktrakr.settings import Settings

if TYPE_CHECKING:
    import git

log = logging.getLogger(__name__)
DATA_DIR = "data"
NO_HELPER = ("-c", "credential.helper=")
# `git add` streams every new blob into one packfile (see commit_paths).
BULK_CHECKIN = ("core.bigFileThreshold=1",)
# The commit is the durable copy of a publish (its files are written without fsync): git syncs the
# objects, the index and the ref it writes, once per command (batch), not file by file.
DURABLE_COMMIT = ("core.fsync=added", "core.fsyncMethod=batch")
# An index.lock younger than this may belong to a git command that is just starting: never touched.
STALE_INDEX_LOCK_AGE_S = 60.0

_ASKPASS = """#!/bin/sh
# Answers git's credential prompts from the environment of this git process only.
case "$1" in
  Username*|username*) printf '%s\\n' "${STAKTRAKR_GIT_USERNAME:-x-access-token}" ;;
  *) printf '%s\\n' "$STAKTRAKR_GIT_TOKEN" ;;
esac
"""


def check_remote_url(url: str) -> str:
    """A remote URL must not carry credentials (the token goes through askpass)."""
    parts = urlsplit(url)
    if parts.scheme in ("http", "https") and (parts.password or parts.username):
        raise ConfigError("API_DATA_REPO: remove the user/token from the URL; set GITHUB_TOKEN instead")
    return url


@contextlib.contextmanager
def git_auth_env(settings: Settings) -> Iterator[dict[str, str]]:
    """Environment for one git network call: askpass script + token, prompts off."""
    env = {"GIT_TERMINAL_PROMPT": "0"}
    token = settings.github_token.get_secret_value() if settings.github_token else ""
    if not token:
        yield env
        return
    folder = tempfile.mkdtemp(prefix="staktrakr-askpass-")
    script = Path(folder) / "askpass.sh"
    try:
        script.write_text(_ASKPASS, encoding="utf-8")
        script.chmod(stat.S_IRWXU)
        yield {**env, "GIT_ASKPASS": str(script), "STAKTRAKR_GIT_TOKEN": token}
    finally:
        shutil.rmtree(folder, ignore_errors=True)


class GitRunner:
    """Runs git in one repository with our identity, no credential helper, secrets redacted.
    Network calls are bounded by GIT_TIMEOUT_S and ended when `stop` is requested (git/network.py)."""

    def __init__(self, path: Path, settings: Settings, stop: StopRequest | None = None) -> None:
        self.path = path
        self.settings = settings
        self.stop = stop
        self.secrets = settings.secret_values()

    @functools.cached_property
    def repo(self) -> git.Repo:
        """GitPython's view of the repository, for direct object reads and writes (git/objects.py)."""
        import git

        return git.Repo(self.path)

    @functools.cached_property
    def git_dir(self) -> Path:
        """The repository's git directory (`.git` of a clone, the repository itself when bare);
        JobFailed when `path` is not a repository."""
        _, out, _ = self.run("rev-parse", "--absolute-git-dir")
        return Path(out.strip())

    def run(self, *args: str, network: bool = False, check: bool = True, stdin: bytes | None = None,
            env: Mapping[str, str] | None = None, config: Sequence[str] = ()) -> tuple[int, str, str]:
        """(exit status, stdout, stderr redacted) of `git ARGS` in this repository.

        `network`: the askpass environment for a remote call; `stdin`: bytes fed to git (e.g.
        `update-index --index-info`); `env`: extra variables for this call only (e.g.
        GIT_INDEX_FILE); `config`: `key=value` settings for this call only (`git -c`). With
        `check`, a non-zero exit is JobFailed naming the subcommand and the repository, with
        git's message redacted and cut to one line."""
        command = ["git", *NO_HELPER, "-c", f"user.name={self.settings.git_author_name}",
                   "-c", f"user.email={self.settings.git_author_email}",
                   *(option for setting in config for option in ("-c", setting)), *args]
        with contextlib.ExitStack() as stack:
            call_env = dict(stack.enter_context(git_auth_env(self.settings)) if network else {})
            call_env.update(env or {})
            source = None
            if stdin is not None:  # git reads a real file descriptor: spool the bytes to a temp file
                source = stack.enter_context(tempfile.TemporaryFile())
                source.write(stdin)
                source.seek(0)
            if network:
                status, out, err = run_network_git(command, self.path, call_env, self.settings.git_timeout_s,
                                                   self.stop, source)
            else:
                status, out, err = _run_local_git(command, self.path, call_env, source)
        if check and status != 0:
            raise JobFailed(f"git {args[0]} in {self.path}: {shorten(err.strip() or out.strip(), 400, self.secrets)}")
        return status, out, shorten(err, 4000, self.secrets)

    def rev(self, ref: str) -> str | None:
        status, out, _ = self.run("rev-parse", "--verify", "--quiet", ref + "^{commit}", check=False)
        return out.strip() if status == 0 and out.strip() else None

    def current_branch(self) -> str | None:
        status, out, _ = self.run("symbolic-ref", "--quiet", "--short", "HEAD", check=False)
        return out.strip() if status == 0 else None


def _run_local_git(command: Sequence[str], cwd: Path, env: Mapping[str, str],
                   stdin: IO[bytes] | None) -> tuple[int, str, str]:
    """(exit status, stdout, stderr) of a git command that needs no network, messages in English
    (LC_ALL=C, as for network calls), a final newline dropped."""
    done = subprocess.run(list(command), cwd=cwd, env={**os.environ, "LC_ALL": "C", "LANGUAGE": "C", **env},
                          stdin=stdin if stdin is not None else subprocess.DEVNULL, capture_output=True, check=False)
    out, err = (stream.decode("utf-8", "replace").removesuffix("\n") for stream in (done.stdout, done.stderr))
    return done.returncode, out, err


def clone_or_init(path: Path, settings: Settings, remote: str | None, stop: StopRequest | None = None) -> None:
    """Create the repository: a clone of the remote, or a fresh local repository."""
    if remote is None:  # a local repository; files already there stay and get committed
        path.mkdir(parents=True, exist_ok=True)
        status, _, err = _run_local_git(["git", "init", "--quiet", f"--initial-branch={settings.branch}", str(path)],
                                        path, {}, None)
        if status != 0:
            raise JobFailed(f"git init {path}: {shorten(err.strip(), 400)}")
        return
    if path.exists() and any(path.iterdir()):
        raise JobFailed(f"{path}: exists but is not a git repository; move it away or set API_EXPORT_DIR")
    path.mkdir(parents=True, exist_ok=True)
    with git_auth_env(settings) as env:
        status, _, err = run_network_git(["git", *NO_HELPER, "clone", "--", remote, str(path)], path.parent, env,
                                         settings.git_timeout_s, stop)
    if status != 0:
        shutil.rmtree(path, ignore_errors=True)
        raise JobFailed(f"git clone {shorten(remote, 200)}: {shorten(err.strip(), 400, settings.secret_values())}")


def abort_stuck_operations(runner: GitRunner) -> list[str]:
    """Abort a rebase / merge / cherry-pick an older tool left half done (never reset --hard).

    `--abort` restores the state before the operation; when the state is too broken for that,
    `--quit` drops the operation's bookkeeping and leaves HEAD and the working files alone."""
    git_dir = runner.git_dir
    checks = (
        ("rebase", ("rebase-merge", "rebase-apply")),
        ("merge", ("MERGE_HEAD",)),
        ("cherry-pick", ("CHERRY_PICK_HEAD",)),
    )
    aborted = []
    def in_progress(markers: tuple[str, ...]) -> bool:
        return any((git_dir / marker).exists() for marker in markers)

    for operation, markers in checks:
        if not in_progress(markers):
            continue
        runner.run(operation, "--abort", check=False)
        if in_progress(markers):
            runner.run(operation, "--quit", check=False)
        if in_progress(markers):
            raise JobFailed(f"{runner.path}: a {operation} is in progress and could not be aborted; "
                            f"run 'git {operation} --abort' there by hand")
        log.warning("%s: aborted a %s left in progress by an earlier tool", runner.path, operation)
        aborted.append(operation)
    return aborted


def _set_origin(runner: GitRunner, remote: str | None) -> None:
    """Strip credentials from every remote's URL (an older tool put them there), then point
    origin at `remote` (None: leave origin as it is)."""
    _, listed, _ = runner.run("config", "--get-regexp", r"^remote\..*\.url$", check=False)
    urls = {key.removeprefix("remote.").removesuffix(".url"): url
            for key, _, url in (line.partition(" ") for line in listed.splitlines() if line)}
    for name, url in urls.items():
        parts = urlsplit(url)
        if parts.password or (parts.username and parts.scheme in ("http", "https")):
            clean = parts._replace(netloc=(parts.hostname or "") + (f":{parts.port}" if parts.port else "")).geturl()
            runner.run("remote", "set-url", name, clean)
            log.warning("%s: removed credentials from the URL of remote %s", runner.path, name)
    if remote is None:
        return
    if "origin" not in urls:
        runner.run("remote", "add", "origin", remote)
    elif urls["origin"] != remote:
        runner.run("remote", "set-url", "origin", remote)


def _checkout_branch(runner: GitRunner, branch: str) -> None:
    if runner.current_branch() == branch:
        return
    if runner.rev(f"refs/heads/{branch}"):
        runner.run("checkout", "--quiet", branch)
    elif runner.rev(f"refs/remotes/origin/{branch}"):
        runner.run("checkout", "--quiet", "-b", branch, f"refs/remotes/origin/{branch}")
    elif runner.rev("HEAD") is None:
        runner.run("symbolic-ref", "HEAD", f"refs/heads/{branch}")
    else:  # a new poller branch starts from what the clone checked out
        runner.run("checkout", "--quiet", "-b", branch)


def git_processes_in(path: Path) -> list[int] | None:
    """PIDs of this user's git processes whose working directory is `path` or below it (from
    /proc); None when that cannot be known (no /proc), which never counts as "none running"."""
    proc = Path("/proc")
    if not (proc / "self" / "cwd").exists():
        return None
    found = []
    uid = os.getuid()
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if entry.stat().st_uid != uid:
                continue
            program = os.path.basename((entry / "cmdline").read_bytes().split(b"\0")[0])
            if not program.startswith(b"git"):
                continue
            cwd = Path(os.readlink(entry / "cwd"))
        except OSError:  # the process ended meanwhile
            continue
        if cwd == path or path in cwd.parents:
            found.append(int(entry.name))
    return found


def clear_stale_index_lock(runner: GitRunner, holding_publish_lock: bool) -> str | None:
    """Remove `.git/index.lock` when it is provably abandoned: this process holds the publish lock
    (no other publish of ours runs), no git process of this user works in the repository, and the
    file is older than STALE_INDEX_LOCK_AGE_S. Returns what was done (None: there was no lock);
    JobFailed saying why when the lock may be live."""
    lock = runner.git_dir / "index.lock"
    try:
        age = time.time() - lock.stat().st_mtime
    except FileNotFoundError:
        return None
    where = f"{runner.path}/.git/index.lock"
    if not holding_publish_lock:
        raise JobFailed(f"{where} exists and this process does not hold the publish lock: another git "
                        "process may be running (remove the file if none is)")
    running = git_processes_in(runner.path.resolve())
    if running is None:
        raise JobFailed(f"{where} exists and running git processes cannot be listed here; "
                        "remove the file if no git process is running")
    if running:
        raise JobFailed(f"{where} exists: git process {', '.join(map(str, running))} works in {runner.path}; "
                        "the next publish retries")
    if age < STALE_INDEX_LOCK_AGE_S:
        raise JobFailed(f"{where} exists and is only {age:.0f} s old (a git command may be starting); "
                        "the next publish retries")
    lock.unlink(missing_ok=True)
    message = (f"removed a stale {where} ({age / 60:.1f} min old, no git process running there; "
               "left by a git command that was killed)")
    log.warning("%s", message)
    return message


def open_export_repo(settings: Settings, *, holding_publish_lock: bool = False,
                     notes: list[str] | None = None, stop: StopRequest | None = None) -> GitRunner:
    """API_EXPORT_DIR as a repository on branch API_BRANCH: cloned or initialised when absent,
    a provably stale index.lock removed (said in `notes`), stuck operations aborted, origin set
    to API_DATA_REPO (never with credentials)."""
    path = settings.export_dir.resolve()
    remote = check_remote_url(settings.api_data_repo) if settings.api_data_repo else None
    if not (path / ".git").exists():
        clone_or_init(path, settings, remote, stop)
    runner = GitRunner(path, settings, stop)
    cleared = clear_stale_index_lock(runner, holding_publish_lock)
    if cleared and notes is not None:
        notes.append(cleared)
    abort_stuck_operations(runner)
    _set_origin(runner, remote)
    _checkout_branch(runner, settings.branch)
    return runner


def open_bare_repo(path: Path, settings: Settings, remote: str, stop: StopRequest | None = None) -> GitRunner:
    """A private bare repository at `path` (created when absent) whose origin is `remote` (a URL
    without credentials, or a local path): where merge builds commits without a working tree."""
    if not path.exists():
        import git

        git.Repo.init(path, bare=True)
    runner = GitRunner(path, settings, stop)
    _set_origin(runner, remote)
    return runner


def commit_paths(runner: GitRunner, message: str, paths: Sequence[str] = (DATA_DIR,)) -> str | None:
    """Stage and commit only `paths` (additions, changes, removals); None when nothing changed.

    The new blobs go into one packfile rather than a loose object file each: a first publish
    adds 1,000+ files, and one loose file per blob made that add cost ~0.4 s of system time
    (0.1 s as one pack). `core.bigFileThreshold=1` sends every blob through git's bulk-checkin
    (what `git add` does for big files: stream into a pack, zlib only, no deltas). Only for this
    add: git gc / repack and push still delta-compress as usual. Both commands sync what they
    write (DURABLE_COMMIT). `--force`: an ignore rule (a .gitignore, .git/info/exclude) never keeps
    a built file out of the commit; what does not belong under `paths` is removed before (strays)."""
    runner.run("add", "--all", "--force", "--", *paths, config=(*BULK_CHECKIN, *DURABLE_COMMIT))
    status, _, _ = runner.run("diff", "--cached", "--quiet", "--", *paths, check=False)
    if status == 0:
        return None
    runner.run("commit", "--quiet", "--no-verify", "-m", message, "--", *paths, config=DURABLE_COMMIT)
    return runner.rev("HEAD")


def worktree_matches_head(runner: GitRunner, paths: Sequence[str] = (DATA_DIR,)) -> bool:
    """True when the files under `paths`, on disk and in the index, are exactly HEAD's (git
    status: a file edited, damaged, deleted or added beside them is a difference)."""
    return not differences_from_head(runner, paths)


def differences_from_head(runner: GitRunner, paths: Sequence[str] = (DATA_DIR,)) -> list[str]:
    """The paths under `paths` whose file on disk or in the index is not HEAD's (edited, truncated,
    deleted, another mode, a symlink or a directory in its place) or that HEAD does not hold
    (untracked files included), from `git status`; every path when status fails."""
    status, out, _ = runner.run("status", "--porcelain", "-z", "--untracked-files=all", "--no-renames", "--",
                                *paths, check=False)
    if status != 0:
        return list(paths)
    return sorted({entry[3:] for entry in out.split("\0") if len(entry) > 3})


def restore_from_head(runner: GitRunner, paths: Sequence[str] = (DATA_DIR,)) -> tuple[list[str], bool]:
    """Put HEAD's version back for every file under `paths` that HEAD holds and that differs on
    disk or in the index; returns the paths that differed (`differences_from_head`), those HEAD
    does not hold included (they are left for the stray check, export/tree.py), and whether
    anything was put back (never without a commit). The last commit is the published tree: a
    file damaged on disk is never committed, whether or not the next build writes it again."""
    differing = differences_from_head(runner, paths)
    if differing and runner.rev("HEAD") is not None and committed_paths(runner, paths[0]):
        runner.run("checkout", "--quiet", "HEAD", "--", *paths)
        return differing, True
    return differing, False


def committed_paths(runner: GitRunner, folder: str = DATA_DIR) -> set[str] | None:
    """The paths HEAD holds under `folder`, relative to it; None when there is no commit yet
    (nothing is known to be published: the stray check then goes by file names only)."""
    if runner.rev("HEAD") is None:
        return None
    _, out, _ = runner.run("ls-tree", "-r", "-z", "--name-only", "HEAD", "--", f"{folder}/")
    prefix = f"{folder}/"
    return {name[len(prefix):] for name in out.split("\0") if name.startswith(prefix)}


@dataclass
class PushOutcome:
    attempted: bool
    ok: bool
    error: str | None = None


def needs_push(runner: GitRunner, branch: str) -> bool:
    head = runner.rev("HEAD")
    return head is not None and head != runner.rev(f"refs/remotes/origin/{branch}")


def force_push(runner: GitRunner, branch: str) -> PushOutcome:
    """Force-push HEAD to origin/<branch>; a failure keeps the commit for the next run."""
    status, out, err = runner.run("push", "--force", "--porcelain", "origin", f"HEAD:refs/heads/{branch}",
                                  network=True, check=False)
    if status != 0:
        reason = shorten(err or out, 400, runner.secrets) or f"exit {status}"
        return PushOutcome(True, False, f"git push of branch {branch} to origin (API_DATA_REPO) failed: {reason}")
    runner.run("update-ref", f"refs/remotes/origin/{branch}", "HEAD")
    return PushOutcome(True, True)


def push_with_lease(runner: GitRunner, commit: str, branch: str, expected_head: str | None) -> PushOutcome:
    """Push `commit` to origin/<branch> only while the remote branch is still at `expected_head`
    (None: the branch must not exist yet). A rejection (someone pushed meanwhile) is ok=False
    with git's reason redacted; the caller refetches and retries."""
    lease = f"--force-with-lease=refs/heads/{branch}:{expected_head or ''}"
    status, out, err = runner.run("push", "--porcelain", lease, "origin", f"{commit}:refs/heads/{branch}",
                                  network=True, check=False)
    if status != 0:
        reason = shorten(err or out, 400, runner.secrets) or f"exit {status}"
        return PushOutcome(True, False, f"git push of branch {branch} to origin rejected: {reason}")
    return PushOutcome(True, True)


def fetch(runner: GitRunner, refspecs: Sequence[str]) -> tuple[bool, str]:
    """Fetch `refspecs` from origin (pruning); (ok, git's message redacted)."""
    status, _, err = runner.run("fetch", "--quiet", "--prune", "origin", *refspecs, network=True, check=False)
    return status == 0, shorten(err, 400, runner.secrets)
