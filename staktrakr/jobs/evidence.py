"""Pages of failed targets, kept for the operator under `var/evidence/` (gzip), bounded by age and size.

When a scrape or retry target fails (no price, a price refused by the band or the decision, a
bot-check page), the page that explains the failure is written as
`<run_id>--<coin>--<vendor>.<html|md>.gz` with a first line naming the URL, fetcher and reason,
so "why did apmex fail at 03:00" can be answered after the fact (`zless` it, or open it in a
browser after `gunzip`). Its path goes into the run's JSON and `provider_failures.error`.
After each cycle the folder is pruned: files older than EVIDENCE_MAX_AGE_DAYS go, then the
oldest until the total is at most EVIDENCE_MAX_MB. A dry run writes nothing unless asked.
"""

from __future__ import annotations

import gzip
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path

from staktrakr.jobs.scrape_target import TargetOutcome
from staktrakr.settings import Settings

SAFE_NAME = re.compile(r"[^A-Za-z0-9_.-]+")
# What `keep` writes (and its temporary file): prune touches nothing else in the folder (an operator's notes stay).
EVIDENCE_NAME = re.compile(r"^[A-Za-z0-9_.-]+--[A-Za-z0-9_.-]+--[A-Za-z0-9_.-]+\.[a-z]+\.(?:gz|tmp)$")


@dataclass(frozen=True)
class Pruned:
    removed_files: int
    removed_bytes: int
    kept_bytes: int


class EvidenceStore:
    """The evidence folder with its bounds: `max_age_s` seconds and `max_bytes` in total."""

    def __init__(self, folder: Path, max_age_s: float, max_bytes: int) -> None:
        self.folder = folder
        self.max_age_s = max_age_s
        self.max_bytes = max_bytes

    @classmethod
    def from_settings(cls, settings: Settings) -> EvidenceStore:
        return cls(settings.var_dir / "evidence", settings.evidence_max_age_days * 86400,
                   int(settings.evidence_max_mb * 1024 * 1024))

    def keep(self, run_id: str, outcome: TargetOutcome) -> str | None:
        """Write the failed target's page (gzip); its path, or None when the target has no page
        (nothing came back) or succeeded. Raises OSError when the folder cannot be written."""
        if outcome.ok or outcome.failed_page is None:
            return None
        kind, text = outcome.failed_page
        name = SAFE_NAME.sub("_", f"{run_id}--{outcome.coin_slug}--{outcome.vendor_id}") + f".{kind}.gz"
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / name
        header = f"staktrakr evidence: {outcome.url} via {outcome.fetcher}: {outcome.reason}".replace("--", "- -")
        first = f"<!-- {header} -->\n" if kind == "html" else f"<!-- {header} -->\n\n"
        temp = path.with_suffix(".tmp")
        with gzip.open(temp, "wt", encoding="utf-8") as handle:
            handle.write(first + text)
        os.replace(temp, path)
        return str(path)

    def prune(self, now: float | None = None) -> Pruned:
        """Remove evidence files (named as `keep` names them, EVIDENCE_NAME) past the age bound, then
        the oldest until their total fits the size bound; other files in the folder are left alone."""
        if not self.folder.is_dir():
            return Pruned(0, 0, 0)
        now = time.time() if now is None else now
        files = []
        for path in self.folder.iterdir():
            try:
                stat = path.stat()
            except FileNotFoundError:  # another run pruned it
                continue
            if path.is_file() and not path.is_symlink() and EVIDENCE_NAME.match(path.name):
                files.append((stat.st_mtime, stat.st_size, path))
        files.sort()
        removed = removed_bytes = 0
        total = sum(size for _, size, _ in files)
        for mtime, size, path in files:
            if now - mtime <= self.max_age_s and total <= self.max_bytes:
                break
            path.unlink(missing_ok=True)
            removed, removed_bytes, total = removed + 1, removed_bytes + size, total - size
        return Pruned(removed, removed_bytes, total)
