"""The watermark of a published tree: everything the tree is a function of, in a few bytes.

The tree is built from the database, the catalog, the builder code, two settings and the
previous tree (export/build.py). Publish records a watermark of the first four beside the
commit that holds the tree (`.git/staktrakr-publish.json` in the export clone, never pushed);
when the next publish finds the same watermark, the same commit checked out and the working
files equal to it (`git status`), the tree it would build is the one on disk, so it stops before
aggregating anything. Any other case (a new row, another catalog or code, a file edited or
damaged on disk, a missing or unreadable record) is a build. A build reuses what the last one
read from price_snapshots (`.git/staktrakr-reads.json`: the per-date aggregates and the last
day's newest rows, store/queries/prices.py) when it comes from the same database and builder
code, so a new cycle aggregates its own date and reads its own rows only.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from staktrakr.export.files import write_bytes_atomic, write_json_atomic
from staktrakr.settings import Settings
from staktrakr.store.queries.prices import PriceReads, RowsRead
from staktrakr.store.queries.watermark import price_row, rows_added, rows_kept

if TYPE_CHECKING:
    from staktrakr.catalog import Catalog
    from staktrakr.store import Store

log = logging.getLogger(__name__)
RECORD_NAME = "staktrakr-publish.json"
READS_NAME = "staktrakr-reads.json"
OLD_READS_NAMES = ("staktrakr-days.json",)  # written by earlier versions: removed when READS_NAME is written
PACKAGE = Path(__file__).resolve().parent.parent
# The modules whose code decides the published bytes (their source is hashed: no version to bump).
BUILDER_MODULES = (
    "export/build.py", "export/files.py", "export/goldback.py", "export/history.py", "export/model.py",
    "export/retail.py", "export/spot.py", "export/stats.py", "export/tree.py", "rules/bands.py",
    "rules/scoring.py", "store/queries/goldback.py", "store/queries/prices.py", "store/queries/spot.py",
    "store/queries/timestamps.py", "store/schema.py", "timeutil.py",
)


def builder_digest() -> str:
    """sha256 of the builder modules' source and the JSON encoder's version."""
    digest = hashlib.sha256(orjson.__version__.encode())
    for name in BUILDER_MODULES:
        digest.update(name.encode() + b"\0" + (PACKAGE / name).read_bytes())
    return digest.hexdigest()


def catalog_digest(catalog: Catalog | None, settings: Settings) -> str:
    """sha256 of the catalog: of `catalog` when given (the caller loads it when the database is
    its source), else of the catalog file's bytes (the file is the whole input: no need to load it
    to know it is the same)."""
    if catalog is None:
        try:
            return "file:" + hashlib.sha256(settings.providers_file.read_bytes()).hexdigest()
        except OSError:  # never the recorded value: the build loads the file and says what is wrong
            return "file: unreadable"
    return hashlib.sha256(orjson.dumps(catalog.to_json_data(), option=orjson.OPT_SORT_KEYS)).hexdigest()


def watermark(marks: dict[str, Any], catalog: Catalog | None, settings: Settings, database: str) -> dict[str, Any]:
    """The watermark: the database (its display URL) and its tables' marks
    (store/queries/watermark.py), catalog and builder digests, and the settings that shape the
    tree (spot bands, PUBLISH_SPOT_HOURS)."""
    return {
        "database": database,
        "tables": marks,
        "catalog": catalog_digest(catalog, settings),
        "builder": builder_digest(),
        "spot_bands": {metal: [band.low, band.high] for metal, band in sorted(settings.spot_bands.items())},
        "spot_hours": settings.publish_spot_hours,
    }


@dataclass
class PublishRecord:
    """What the last publish that built the tree left beside it."""

    watermark: dict[str, Any]
    commit: str
    files: int
    generated_at: str | None = None
    latest_window: str | None = None
    medians: dict[str, Any] = field(default_factory=dict)


def record_path(git_dir: Path) -> Path:
    return git_dir / RECORD_NAME


def read_record(git_dir: Path) -> PublishRecord | None:
    """The recorded watermark, or None when absent or unreadable (then publish builds in full)."""
    try:
        data = json.loads(record_path(git_dir).read_text(encoding="utf-8"))
        return PublishRecord(**data)
    except FileNotFoundError:
        return None
    except (OSError, ValueError, TypeError) as exc:
        log.warning("%s: unreadable (%s); publishing in full", record_path(git_dir), exc)
        return None


def write_record(git_dir: Path, record: PublishRecord) -> None:
    """Record the watermark (temp file + rename; a lost record only costs one full build)."""
    write_json_atomic(record_path(git_dir), asdict(record))


def read_reads(git_dir: Path, mark: dict[str, Any], store: Store) -> PriceReads | None:
    """What the last build read from price_snapshots, when read from the same database by the same
    builder code (`mark` is the current watermark) and none of the rows they counted was deleted
    since (the rows of the counted dates up to the id counted at are as many as then); None
    otherwise or when unreadable."""
    path = git_dir / READS_NAME
    try:
        data = orjson.loads(path.read_bytes())
        if data["database"] != mark["database"] or data["builder"] != mark["builder"]:
            return None
        reads = PriceReads(*(RowsRead(int(data[part]["price_id"]), str(data[part]["since"]), list(data[part]["rows"]))
                             for part in ("days", "recent")))
        if not _rows_all_kept(store, mark["tables"], data):
            log.info("%s: rows were deleted or replaced since; reading every row again", path)
            return None
        return reads
    except FileNotFoundError:
        return None
    except (OSError, ValueError, TypeError, KeyError) as exc:
        log.warning("%s: unreadable (%s); reading every row again", path, exc)
        return None


def _rows_all_kept(store: Store, tables: dict[str, Any], kept: dict[str, Any]) -> bool:
    """Whether every price_snapshots row `kept` counted is still there: the newest row then is
    still that row (not an id reused after a backup was restored), and the count now (`tables`,
    the watermark) is the count then plus the rows added after it, when both count from the same
    date (one short primary-key range); else the rows up to the id counted at are counted again."""
    counted, since, upto = kept.get("price_rows"), kept.get("price_rows_since"), kept.get("price_rows_id")
    if counted is None or price_row(store, upto) != kept.get("price_rows_newest"):  # ids reused: a restored backup
        return False
    if tables.get("price_rows_since") == since and tables.get("price_rows") is not None:
        return int(tables["price_rows"]) == int(counted) + rows_added(store, since, upto)
    return rows_kept(store, since, upto) == int(counted)


def write_reads(git_dir: Path, mark: dict[str, Any], reads: PriceReads) -> None:
    """Keep `reads` for the next build (temp file + rename), with the watermark's row count of the
    table, the date it counts from and the newest id then (one statement: the same view of the table)."""
    write_bytes_atomic(git_dir / READS_NAME, orjson.dumps({
        "database": mark["database"], "builder": mark["builder"],
        "price_rows": mark["tables"].get("price_rows"), "price_rows_since": mark["tables"].get("price_rows_since"),
        "price_rows_id": mark["tables"].get("price_id"), "price_rows_newest": mark["tables"].get("price_newest"),
        **{part: {"price_id": read.price_id, "since": read.since, "rows": read.rows}
           for part, read in (("days", reads.days), ("recent", reads.recent))}}))
    for name in OLD_READS_NAMES:
        (git_dir / name).unlink(missing_ok=True)


def forget_record(git_dir: Path) -> None:
    """Remove the record (before the tree changes: a crash then leaves no stale watermark)."""
    record_path(git_dir).unlink(missing_ok=True)
