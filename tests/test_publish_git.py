"""Publish's git side against real bare repositories: push, no-op, rejected push, token hygiene,
dry-run, stuck rebase state, the host lock, and the CLI."""

from __future__ import annotations

import hashlib
import json
import os
import stat
import subprocess
import time
from pathlib import Path

import pytest

from staktrakr.errors import JobFailed
from staktrakr.jobs.publish import PublishOptions, publish_lock, run_publish
from staktrakr.store import Store
from tests.cli_helpers import assert_one_line_error, not_a_dir, run_cli
from tests.conftest import REPO
from tests.publish_fixtures import SNAPSHOTS, git, seed

TOKEN = "ghp_TESTTOKEN_never_in_files_1234567890"


def bare_remote(tmp_path: Path) -> Path:
    remote = tmp_path / "remote.git"
    git("init", "--quiet", "--bare", str(remote))
    return remote


def reject_pushes(remote: Path, on: bool) -> None:
    hook = remote / "hooks" / "pre-receive"
    if on:
        hook.write_text("#!/bin/sh\necho 'rejected by policy' >&2\nexit 1\n")
        hook.chmod(0o755)
    else:
        hook.unlink(missing_ok=True)


def tree_digest(root: Path) -> str:
    """Every file's path, mode and bytes under root (a .git dir included)."""
    digest = hashlib.sha256()
    if not root.exists():
        return "absent"
    for path in sorted(root.rglob("*")):
        digest.update(str(path.relative_to(root)).encode())
        if path.is_file():
            digest.update(path.read_bytes())
    return digest.hexdigest()


@pytest.fixture
def setup_remote(libsql_server, make_settings, tmp_path: Path):
    remote = bare_remote(tmp_path)
    settings = make_settings(turso_database_url=libsql_server.url, api_export_dir=tmp_path / "export",
                             api_data_repo=str(remote), poller_id="api", github_token=TOKEN)
    with Store.open(settings) as store:
        seed(store)
    return settings, remote


def publish(settings, **options):
    with Store.open(settings) as store:
        return run_publish(settings, store, PublishOptions(**options))


def test_first_publish_pushes_then_unchanged_makes_no_commit(setup_remote) -> None:
    settings, remote = setup_remote
    first = publish(settings)
    assert first.commit and first.pushed is True
    assert git("rev-parse", "refs/heads/api", cwd=remote) == first.commit
    message = git("log", "-1", "--format=%s", "api", cwd=remote)
    assert message.startswith("publish: 20") and message.endswith("| retail=2026-03-15T20:05:02.000Z")
    assert git("ls-tree", "-r", "--name-only", "api", cwd=remote).splitlines()[0].startswith("data/")

    second = publish(settings)
    assert second.commit is None and second.pushed is None
    from staktrakr.cli.publish import _pushed

    assert _pushed(second) == "not attempted (nothing to push: the remote branch already has this commit)"
    assert _pushed(publish(settings, push=False)) == "not attempted (--no-push)"
    assert git("rev-list", "--count", "api", cwd=remote) == "1"


def test_rejected_push_keeps_commit_and_next_run_pushes_it(setup_remote) -> None:
    settings, remote = setup_remote
    reject_pushes(remote, True)
    failed = publish(settings)
    assert failed.commit and failed.pushed is False and "rejected" in (failed.push_error or "")
    assert git("rev-parse", "HEAD", cwd=settings.export_dir) == failed.commit
    assert subprocess.run(["git", "rev-parse", "--verify", "--quiet", "refs/heads/api"], cwd=remote).returncode != 0

    reject_pushes(remote, False)
    retried = publish(settings)
    assert retried.commit is None and retried.pushed is True  # nothing new to commit, the old commit pushed
    assert git("rev-parse", "refs/heads/api", cwd=remote) == failed.commit


def test_push_failure_exits_1_and_token_never_leaks(setup_remote, tmp_path: Path) -> None:
    settings, remote = setup_remote
    reject_pushes(remote, True)
    env = {"TURSO_DATABASE_URL": settings.turso_database_url, "API_EXPORT_DIR": str(settings.export_dir),
           "API_DATA_REPO": str(remote), "POLLER_ID": "api", "GITHUB_TOKEN": TOKEN,
           "PROVIDERS_FILE": str(settings.providers_file)}
    result = run_cli(["publish", "--json"], env=env, var_dir=tmp_path / "var")
    assert result.exit_code == 1
    assert "git push of branch api to origin (API_DATA_REPO) failed" in result.output
    assert TOKEN not in result.output
    text = run_cli(["publish"], env=env, var_dir=tmp_path / "var")  # the kept commit, pushed again: refused again
    assert text.exit_code == 1 and "pushed: no (the commit is kept" in text.output and "False" not in text.output
    reject_pushes(remote, False)
    ok = run_cli(["publish", "--json"], env=env, var_dir=tmp_path / "var")
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.stdout[ok.stdout.index("{"):])["pushed"] is True
    for root in (settings.export_dir, remote):
        for path in root.rglob("*"):
            if path.is_file():
                assert TOKEN.encode() not in path.read_bytes(), path


def test_unwritable_export_dir_is_one_line(tmp_path):
    import sqlite3

    export_dir = not_a_dir(tmp_path)
    (tmp_path / "var").mkdir(exist_ok=True)
    sqlite3.connect(tmp_path / "var" / "staktrakr.db").close()  # the embedded default database exists
    result = run_cli(["publish", "--no-push"], env={"PROVIDERS_FILE": str(REPO / "providers.json"),
                                                   "API_EXPORT_DIR": str(export_dir)}, var_dir=tmp_path / "var")
    assert result.exit_code == 1, result.stderr
    assert_one_line_error(result, str(export_dir))


def test_dry_run_touches_nothing(setup_remote) -> None:
    settings, remote = setup_remote
    publish(settings)
    with Store.open(settings) as store:  # one more observation: the dry run has something to report
        store.db.execute(
            "INSERT INTO price_snapshots (scraped_at, window_start, coin_slug, vendor, price, source, confidence, "
            "is_failed, in_stock, poller_id) VALUES (?,?,?,?,?,?,?,?,?,?)",
            ("2026-03-15T20:16:00.000Z", "2026-03-15T20:15:00Z", "ase", "herobullion", 99.99, "http", 80, 0, 1, "api"))
    before = (tree_digest(settings.export_dir), tree_digest(remote))
    dry = publish(settings, dry_run=True)
    assert (tree_digest(settings.export_dir), tree_digest(remote)) == before
    assert "api/ase/latest.json" in dry.changed and dry.commit is None
    assert dry.median_moves["ase"] == {"from": 92.25, "to": 92.3}  # 90.40, 92.25, 92.30, 95.30, 99.99


def test_dry_run_on_a_fresh_host_creates_nothing(libsql_server, make_settings, tmp_path: Path) -> None:
    settings = make_settings(turso_database_url=libsql_server.url, api_export_dir=tmp_path / "export")
    with Store.open(settings) as store:
        seed(store)
    dry = publish(settings, dry_run=True)
    assert not settings.export_dir.exists() and "api/latest.json" in dry.added


def test_stuck_rebase_is_aborted_and_credentials_removed_from_remote_url(setup_remote) -> None:
    settings, _remote = setup_remote
    first = publish(settings)
    export = settings.export_dir
    (export / ".git" / "rebase-merge").mkdir()
    (export / ".git" / "rebase-merge" / "head-name").write_text("refs/heads/api\n")
    (export / "notes.txt").write_text("someone else's work\n")  # not ours: must survive
    git("remote", "set-url", "origin", "https://x-access-token:oldtoken@example.invalid/repo.git", cwd=export)
    with Store.open(settings) as store:
        store.db.execute(
            "INSERT INTO price_snapshots (scraped_at, window_start, coin_slug, vendor, price, source, confidence, "
            "is_failed, in_stock, poller_id) VALUES (?,?,?,?,?,?,?,?,?,?)",
            ("2026-03-15T20:16:00.000Z", "2026-03-15T20:15:00Z", "ase", "herobullion", 99.99, "http", 80, 0, 1, "api"))
    second = publish(settings)
    assert second.commit and second.commit != first.commit and second.pushed
    assert not (export / ".git" / "rebase-merge").exists()
    assert (export / "notes.txt").read_text() == "someone else's work\n"
    assert "oldtoken" not in (export / ".git" / "config").read_text()
    assert "notes.txt" not in git("show", "--name-only", "--format=", "HEAD", cwd=export)


def test_lock_prevents_a_second_publish(setup_remote) -> None:
    settings, _ = setup_remote
    held = publish_lock(settings)
    held.acquire()
    try:
        with pytest.raises(JobFailed, match="another publish is running"):
            publish(settings)
        with Store.open(settings) as store:  # a dry run only reads: it goes ahead beside the running publish
            assert run_publish(settings, store, PublishOptions(dry_run=True)).files > 0
    finally:
        held.release()


def test_local_repository_without_remote(libsql_server, make_settings, tmp_path: Path) -> None:
    settings = make_settings(turso_database_url=libsql_server.url, api_export_dir=tmp_path / "local-export")
    with Store.open(settings) as store:
        seed(store, SNAPSHOTS[:3])
    result = publish(settings)
    assert result.commit and result.pushed is None
    assert git("rev-parse", "--abbrev-ref", "HEAD", cwd=settings.export_dir) == settings.branch
    with Store.open(settings) as store:
        runs = store.db.query("SELECT status, job FROM poller_runs WHERE job = 'publish'")
    assert runs == [{"status": "ok", "job": "publish"}]


def test_real_merge_conflict_left_by_another_tool_is_aborted(setup_remote) -> None:
    settings, _ = setup_remote
    publish(settings)
    export = settings.export_dir
    git("checkout", "--quiet", "-b", "other", cwd=export)
    (export / "conflict.txt").write_text("theirs\n")
    git("add", "conflict.txt", cwd=export)
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "--quiet", "-m", "theirs", cwd=export)
    git("checkout", "--quiet", "api", cwd=export)
    (export / "conflict.txt").write_text("ours\n")
    git("add", "conflict.txt", cwd=export)
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "--quiet", "-m", "ours", cwd=export)
    assert subprocess.run(["git", "merge", "other"], cwd=export, capture_output=True).returncode != 0
    assert (export / ".git" / "MERGE_HEAD").exists()
    result = publish(settings)
    assert not (export / ".git" / "MERGE_HEAD").exists()
    assert (export / "conflict.txt").read_text() == "ours\n" and result.pushed is True


def test_token_reaches_git_only_through_askpass(tmp_path: Path, make_settings) -> None:
    """An HTTP remote that asks for Basic auth receives the token; config and the error do not hold it."""
    import base64
    import http.server
    import threading

    from staktrakr.git.repo import GitRunner, force_push
    from tests.conftest import free_port

    seen: list[str] = []

    class AskForAuth(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            auth = self.headers.get("Authorization")
            if auth:
                seen.append(base64.b64decode(auth.split()[1]).decode())
            self.send_response(403 if auth else 401)
            self.send_header("WWW-Authenticate", 'Basic realm="test"')
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", free_port()), AskForAuth)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        repo = tmp_path / "repo"
        git("init", "--quiet", "-b", "api", str(repo))
        (repo / "f").write_text("x")
        git("add", "f", cwd=repo)
        git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "--quiet", "-m", "c", cwd=repo)
        git("remote", "add", "origin", f"http://127.0.0.1:{server.server_port}/repo.git", cwd=repo)
        outcome = force_push(GitRunner(repo, make_settings(github_token=TOKEN)), "api")
    finally:
        server.shutdown()
    assert seen == [f"x-access-token:{TOKEN}"]
    assert not outcome.ok and TOKEN not in (outcome.error or "")
    assert TOKEN not in (repo / ".git" / "config").read_text()


def _leave_index_lock(settings, age_s: float) -> Path:
    lock = settings.export_dir / ".git" / "index.lock"
    lock.write_bytes(b"")
    os.utime(lock, (time.time() - age_s, time.time() - age_s))
    return lock


def test_stale_index_lock_is_removed_and_said(setup_remote) -> None:
    """A publish killed while git held the index left index.lock: it blocked every later publish.
    Older than a minute, no git process in the repo, and we hold the publish lock: removed."""
    settings, _remote = setup_remote
    publish(settings)
    lock = _leave_index_lock(settings, age_s=180)
    result = publish(settings)
    assert not lock.exists()
    assert any("removed a stale" in note and "index.lock" in note and "3.0 min old" in note for note in result.notes)
    out = run_cli(["publish", "--no-push"], env={"TURSO_DATABASE_URL": settings.turso_database_url,
                                                 "API_EXPORT_DIR": str(settings.export_dir)},
                  var_dir=settings.var_dir)
    assert out.exit_code == 0, out.output


def test_fresh_index_lock_is_left_alone_with_one_line(setup_remote) -> None:
    settings, _ = setup_remote
    publish(settings)
    lock = _leave_index_lock(settings, age_s=5)
    with pytest.raises(JobFailed, match=r"index.lock exists and is only \d+ s old"):
        publish(settings)
    assert lock.exists()


def test_index_lock_of_a_running_git_process_is_left_alone(setup_remote) -> None:
    settings, _ = setup_remote
    publish(settings)
    lock = _leave_index_lock(settings, age_s=600)
    # a git process of ours working in the repository (waiting on its editor-less stdin)
    running = subprocess.Popen(["git", "hash-object", "--stdin"], cwd=settings.export_dir, stdin=subprocess.PIPE)
    try:
        with pytest.raises(JobFailed, match=rf"git process {running.pid} works in"):
            publish(settings)
        assert lock.exists()
    finally:
        running.communicate(b"x")


def test_published_files_are_world_readable(setup_remote) -> None:
    settings, _ = setup_remote
    old_umask = os.umask(0o077)
    try:
        publish(settings)
    finally:
        os.umask(old_umask)
    modes = {stat.S_IMODE(path.stat().st_mode) for path in (settings.export_dir / "data").rglob("*.json")}
    assert modes == {0o644}
