"""Git objects built without a working tree: read a commit's tree, read and store blobs, write a
tree from (path -> mode, blob) and commit it. Merge composes `main` this way in a bare repository.

Every git command goes through `GitRunner` (identity, no credential helper, redacted errors); a
failure is JobFailed with one line naming the git subcommand and the repository.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from io import BytesIO
from pathlib import Path

from gitdb.base import IStream

from staktrakr.git.repo import GitRunner

# path -> (mode such as "100644", blob sha in hex): one commit's files, or the files of a tree to write
TreeEntries = dict[str, tuple[str, str]]


def read_tree(runner: GitRunner, ref: str) -> TreeEntries:
    """Every file (blob) in the commit or tree `ref`, recursively; submodules and trees skipped."""
    _, out, _ = runner.run("ls-tree", "-r", "-z", "--full-tree", ref)
    entries: TreeEntries = {}
    for record in out.split("\0"):
        if not record:
            continue
        meta, path = record.split("\t", 1)
        mode, kind, sha = meta.split()
        if kind == "blob":
            entries[path] = (mode, sha)
    return entries


def tree_of(runner: GitRunner, commit: str) -> str:
    """The sha of the commit's root tree (equal trees: equal contents)."""
    return runner.run("rev-parse", f"{commit}^{{tree}}")[1].strip()


def read_blob(runner: GitRunner, sha: str) -> bytes:
    """The blob's bytes, read from the object database."""
    return bytes(runner.repo.odb.stream(bytes.fromhex(sha)).read())


def store_blob(runner: GitRunner, data: bytes) -> str:
    """Write `data` as a blob (a no-op when it exists) and return its sha."""
    stored = runner.repo.odb.store(IStream("blob", len(data), BytesIO(data)))
    return str(stored.hexsha.decode("ascii"))


def write_tree(runner: GitRunner, entries: TreeEntries) -> str:
    """A tree object holding exactly `entries` (subtrees made as needed), built through a
    temporary index, so no working tree and no shared index are touched."""
    lines = "".join(f"{mode} {sha}\t{path}\0" for path, (mode, sha) in sorted(entries.items()))
    with tempfile.TemporaryDirectory(prefix="staktrakr-index-") as folder:
        index = {"GIT_INDEX_FILE": str(Path(folder) / "index")}
        runner.run("update-index", "--add", "-z", "--index-info", stdin=lines.encode("utf-8"), env=index)
        return runner.run("write-tree", env=index)[1].strip()


def commit_tree(runner: GitRunner, tree: str, parents: Sequence[str], message: str) -> str:
    """A commit of `tree` on `parents` (author: the settings' git identity); returns its sha.
    Moves no branch: the caller pushes it."""
    parent_args = [arg for parent in parents for arg in ("-p", parent)]
    return runner.run("commit-tree", tree, *parent_args, "-m", message)[1].strip()
