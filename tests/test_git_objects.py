"""Git objects without a working tree (what merge builds `main` with), in a real bare repository:
blobs, trees and commits round-trip, and a git failure is one redacted line, not a traceback."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from staktrakr.errors import JobFailed
from staktrakr.git.objects import commit_tree, read_blob, read_tree, store_blob, tree_of, write_tree
from staktrakr.git.repo import open_bare_repo

TOKEN = "ghp_TESTTOKEN_objects_0123456789abcdef"


def git(*args: str, cwd: Path) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


@pytest.fixture
def bare(make_settings, tmp_path: Path):
    origin = tmp_path / "origin.git"
    git("init", "--quiet", "--bare", str(origin), cwd=tmp_path)
    settings = make_settings(github_token=TOKEN, git_author_name="Merge Bot", git_author_email="bot@example.invalid")
    return open_bare_repo(tmp_path / "work.git", settings, str(origin))


def test_tree_and_commit_round_trip(bare) -> None:
    runner = bare
    assert git("config", "--get", "remote.origin.url", cwd=runner.path).endswith("origin.git")
    entries = {"data/api/latest.json": ("100644", store_blob(runner, b'{"a": 1}\n')),
               "data/hourly/2026/03/15/20.json": ("100644", store_blob(runner, b"[]\n")),
               "README.md": ("100644", store_blob(runner, b"kept\n"))}
    tree = write_tree(runner, entries)
    assert read_tree(runner, tree) == entries
    commit = commit_tree(runner, tree, [], "first")
    assert tree_of(runner, commit) == tree
    assert git("log", "-1", "--format=%an <%ae>|%s", commit, cwd=runner.path) == "Merge Bot <bot@example.invalid>|first"
    assert read_blob(runner, entries["data/api/latest.json"][1]) == b'{"a": 1}\n'

    changed = {**entries, "data/api/latest.json": ("100644", store_blob(runner, b'{"a": 2}\n'))}
    second = commit_tree(runner, write_tree(runner, changed), [commit], "second")
    assert git("rev-parse", f"{second}^", cwd=runner.path) == commit
    assert git("diff-tree", "--no-commit-id", "--name-only", "-r", commit, second, cwd=runner.path) == \
        "data/api/latest.json"
    # the same entries give the same tree: unchanged inputs are recognisable without a diff
    assert write_tree(runner, dict(reversed(list(entries.items())))) == tree
    assert not (runner.path / "index").exists()  # only a temporary index was used


def test_git_failure_is_one_redacted_line(bare) -> None:
    runner = bare
    missing = "0123456789abcdef0123456789abcdef01234567"
    with pytest.raises(JobFailed) as failed:
        write_tree(runner, {"data/x.json": ("100644", missing)})
    message = str(failed.value)
    assert message.startswith("git ") and str(runner.path) in message and "\n" not in message
    with pytest.raises(JobFailed) as bad_ref:
        read_tree(runner, f"refs/heads/{TOKEN}")
    assert TOKEN not in str(bad_ref.value) and "\n" not in str(bad_ref.value)
