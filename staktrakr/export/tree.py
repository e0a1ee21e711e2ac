"""The published tree: which builder makes which file, how each file is serialised, and how a
built tree is compared with and written to a directory.

Paths are relative to `data/`. Publish feeds it database reads; merge feeds it the union of the
branches' files; both get the same files for the same inputs. Writing only touches files whose
bytes change, so an unchanged database leaves the git tree (and the commit) alone.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from staktrakr.export.files import json_bytes, parses, write_bytes_atomic
from staktrakr.export.goldback import goldback_spot_doc, goldback_year_doc
from staktrakr.export.history import HISTORY_SPANS, history_doc
from staktrakr.export.model import CoinSnapshot, GoldbackDay
from staktrakr.export.retail import coin_latest_doc, latest_index_doc, manifest_doc

ONE_LINE_FILES = ("spot-history-",)  # the seed history is a single-line array, like the existing file
# Every path a builder can produce. A build does not reproduce the whole history (older hourly and
# 15-minute files, earlier years, coins gone from the database stay as published), so a file that
# fits one of these names and is already committed is kept; anything else under data/ is a stray.
BUILDER_PATHS = re.compile(
    r"^(?:api/[a-z0-9]+(?:-[a-z0-9]+)*/(?:latest|history-7d|history-30d)\.json"
    r"|api/(?:latest|manifest|providers|goldback-spot)\.json|retail/providers\.json"
    r"|goldback-\d{4}\.json|spot-history-\d{4}\.json"
    r"|hourly/\d{4}/\d{2}/\d{2}/\d{2}\.json|15min/\d{4}/\d{2}/\d{2}/\d{4}\.json)$")


@dataclass
class RetailInputs:
    """What the retail files are built from (publish: the database; merge: the branches)."""

    generated_at: str
    latest_window: str
    window_count: int
    last_date: str
    snapshots: Mapping[str, CoinSnapshot]
    histories: Mapping[str, Mapping[str, dict[str, Any]]]  # slug -> date -> history entry
    coins_meta: Mapping[str, Any]
    providers: Mapping[str, Any] | None = None
    retail_providers: Mapping[str, Any] | None = None


def retail_files(inputs: RetailInputs) -> dict[str, Any]:
    files: dict[str, Any] = {}
    for slug, snapshot in sorted(inputs.snapshots.items()):
        files[f"api/{slug}/latest.json"] = coin_latest_doc(snapshot)
        entries = inputs.histories.get(slug, {})
        for name, days in HISTORY_SPANS.items():
            files[f"api/{slug}/{name}"] = history_doc(entries, inputs.last_date, days)
    files["api/latest.json"] = latest_index_doc(inputs.snapshots, inputs.generated_at, inputs.latest_window)
    files["api/manifest.json"] = manifest_doc(inputs.generated_at, inputs.latest_window, inputs.window_count,
                                              inputs.snapshots, inputs.coins_meta)
    if inputs.providers is not None:
        files["api/providers.json"] = dict(inputs.providers)
    if inputs.retail_providers is not None:
        files["retail/providers.json"] = dict(inputs.retail_providers)
    return files


def goldback_files(days: Iterable[GoldbackDay]) -> dict[str, Any]:
    """api/goldback-spot.json (newest date) and one goldback-YYYY.json per year present."""
    by_date = {day.date: day for day in days}
    if not by_date:
        return {}
    files: dict[str, Any] = {"api/goldback-spot.json": goldback_spot_doc(by_date[max(by_date)])}
    for year in sorted({d[:4] for d in by_date}):
        files[f"goldback-{year}.json"] = goldback_year_doc(by_date.values(), year)
    return files


def render(path: str, doc: Any) -> bytes:
    """A file's published bytes (UTF-8 JSON, see export/files.py)."""
    indent = None if Path(path).name.startswith(ONE_LINE_FILES) else 2
    return json_bytes(doc, indent)


def render_all(files: Mapping[str, Any]) -> dict[str, bytes]:
    return {path: render(path, files[path]) for path in sorted(files)}


def read_existing(data_dir: Path, path: str) -> Any | None:
    """A published file's JSON, or None when absent or unreadable (it is then rebuilt from scratch)."""
    try:
        return json.loads((data_dir / path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


@dataclass
class TreeChanges:
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: int = 0

    @property
    def any(self) -> bool:
        return bool(self.added or self.changed or self.removed)


def _walk(data_dir: Path) -> tuple[list[str], set[str]]:
    """(the files, the symlinks) under `data_dir`, paths relative to it, in one walk that never
    follows a link: a linked directory is one link, not entered. A published tree holds no link,
    and a file reached through one is not ours."""
    files: list[str] = []
    links: set[str] = set()
    for root, dirs, names in os.walk(data_dir):
        for name, is_dir in [*((d, True) for d in dirs), *((n, False) for n in names)]:
            entry = Path(root, name)
            path = entry.relative_to(data_dir).as_posix()
            if entry.is_symlink():
                links.add(path)
            elif not is_dir:
                files.append(path)
    return files, links


def remove_links(data_dir: Path) -> list[str]:
    """Remove every symlink under `data_dir` (the link, never its target); returns their paths.
    Done before a build reads the tree: a file reached through a link is not published, so the
    build must see it missing and write it."""
    links = sorted(_walk(data_dir)[1])
    for path in links:
        (data_dir / path).unlink(missing_ok=True)
    return links


def _under_link(path: str, links: Collection[str]) -> bool:
    parts = path.split("/")
    return any("/".join(parts[:depth]) in links for depth in range(1, len(parts) + 1))


def _strays(data_dir: Path, files: list[str], links: set[str], texts: Mapping[str, bytes],
            committed: Collection[str] | None) -> list[str]:
    """Every symlink, and each file not built this time that is named like no builder's file
    (BUILDER_PATHS) or not in `committed` (the paths of the last commit). With `committed` None
    (no commit yet: nothing is known to be published) a file named like a builder's is kept only
    when it is valid JSON. Other non-regular files count as strays too."""
    strays = set(links)
    for path in files:
        if path in texts:  # built: written over (atomically) when its bytes differ
            continue
        entry = data_dir / path
        if not entry.is_file() or not BUILDER_PATHS.match(path) or (
                committed is not None and path not in committed) or (committed is None and not _is_json(entry)):
            strays.add(path)
    return sorted(strays)


def _is_json(entry: Path) -> bool:
    try:
        parses(entry.read_bytes())
    except (OSError, ValueError):
        return False
    return True


def compare_tree(data_dir: Path, texts: Mapping[str, bytes], committed: Collection[str] | None = None) -> TreeChanges:
    """What writing `texts` would do to `data_dir`: files added, changed, and strays removed
    (`committed` is the last commit's paths under data/, None without a commit; see _strays).
    A file behind a symlink counts as changed: the link goes and the file is written."""
    files, links = _walk(data_dir)
    changes = TreeChanges(removed=_strays(data_dir, files, links, texts, committed))
    for path, text in sorted(texts.items()):
        if links and _under_link(path, links):
            changes.changed.append(path)
            continue
        try:
            current = (data_dir / path).read_bytes()
        except FileNotFoundError:
            changes.added.append(path)
            continue
        if current == text:
            changes.unchanged += 1
        else:
            changes.changed.append(path)
    return changes


def write_tree(data_dir: Path, texts: Mapping[str, bytes], committed: Collection[str] | None = None) -> TreeChanges:
    """Write the files whose bytes differ (each parsed back first, then replaced atomically, no
    fsync per file: the commit that follows is the durable copy, see export/files.py) and delete
    the strays (see compare_tree), so the tree holds only what the builders produce."""
    changes = compare_tree(data_dir, texts, committed)
    for path in changes.removed:
        (data_dir / path).unlink(missing_ok=True)
    for path in [*changes.added, *changes.changed]:
        parses(texts[path])
        write_bytes_atomic(data_dir / path, texts[path])
    return changes
