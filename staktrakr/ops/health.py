"""Feed freshness: how old the newest retail window, spot slot, Goldback rate and publish are.

`GET /healthz`, `/metrics` and `staktrakr status` all read it here, against the same named
thresholds, so the Fly check, the dashboards and the operator's terminal agree on "stale".
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from staktrakr.errors import StatementRejected, StoreUnavailable
from staktrakr.settings import Settings
from staktrakr.store import Store
from staktrakr.store.queries.goldback import newest_goldback_date
from staktrakr.store.queries.prices import newest_retail_window
from staktrakr.store.queries.spot import newest_spot_slot
from staktrakr.timeutil import as_utc, parse_time

# A feed is stale when its newest item is older than this. Retail: a scrape every 15 min across
# the hosts (30 min per host), plus a slow cycle; 2 h is also publish's "latest" window. Spot:
# a slot every 15 min; 75 min = the old README check. Goldback: business days at 17:00 UTC, so
# Friday's rate is newest until Monday 17:00 (72 h) plus a margin for a Monday holiday. Publish:
# every 15 min per host.
RETAIL_MAX_AGE = timedelta(hours=2)
SPOT_MAX_AGE = timedelta(minutes=75)
GOLDBACK_MAX_AGE = timedelta(hours=100)
PUBLISH_MAX_AGE = timedelta(minutes=45)
GOLDBACK_PUBLISH_HOUR_UTC = 17  # Goldback posts the day's rate at 10:00 MST

FEED_MAX_AGE: dict[str, timedelta] = {
    "retail": RETAIL_MAX_AGE,
    "spot": SPOT_MAX_AGE,
    "goldback": GOLDBACK_MAX_AGE,
    "publish": PUBLISH_MAX_AGE,
}


@dataclass(frozen=True)
class FeedAge:
    feed: str
    newest: str | None  # as stored (or the manifest/commit time for publish)
    age_s: float | None  # None when the feed has no data (or could not be read)
    max_age_s: float
    unknown: bool = False  # the database could not be read, so the feed's age is not known

    @property
    def stale(self) -> bool:
        """Not known to be fresh: unread, never written, or older than its limit (health and metrics)."""
        return self.unknown or self.age_s is None or self.age_s > self.max_age_s

    @property
    def state(self) -> str:
        """What the operator reads: `unknown` (not read), `never` (no data), `stale` or `ok`."""
        if self.unknown:
            return "unknown"
        if self.age_s is None:
            return "never"
        return "stale" if self.age_s > self.max_age_s else "ok"

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "stale": self.stale, "state": self.state}


@dataclass(frozen=True)
class Freshness:
    feeds: list[FeedAge]
    database_error: str | None  # set when the database could not be read

    @property
    def healthy(self) -> bool:
        return self.database_error is None and not any(feed.stale for feed in self.feeds)

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": "ok" if self.healthy else "stale" if self.database_error is None else "degraded",
            "database": {"reachable": self.database_error is None, "error": self.database_error},
            "feeds": {feed.feed: feed.as_dict() for feed in self.feeds},
        }


def _age(feed: str, newest: str | None, moment: datetime | None, now: datetime, unknown: bool = False) -> FeedAge:
    age = None if moment is None else max(0.0, (now - as_utc(moment)).total_seconds())
    return FeedAge(feed, newest, None if age is None else round(age, 1), FEED_MAX_AGE[feed].total_seconds(),
                   unknown)


def _parse(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        return parse_time(str(text))
    except ValueError:
        return None


def goldback_effective_time(date_text: str | None) -> datetime | None:
    """A rate dated D counts from D 17:00 UTC, when Goldback publishes it."""
    moment = _parse(date_text[:10] if date_text else None)
    return None if moment is None else moment.replace(hour=GOLDBACK_PUBLISH_HOUR_UTC)


def last_publish_time(export_dir: Path) -> datetime | None:
    """The newer of the manifest's generated_at and the export repo's HEAD commit time."""
    moments = []
    try:
        manifest = json.loads((export_dir / "data" / "api" / "manifest.json").read_text(encoding="utf-8"))
        generated = _parse(manifest.get("generated_at")) if isinstance(manifest, dict) else None
        if generated:
            moments.append(generated)
    except (OSError, ValueError):
        pass
    if (export_dir / ".git").exists():
        try:
            import git

            moments.append(as_utc(git.Repo(export_dir).head.commit.committed_datetime))
        except Exception:  # no commit yet, detached or broken repo: no publish time from git
            pass
    return max(moments) if moments else None


def read_freshness(store: Store, settings: Settings, now: datetime) -> Freshness:
    """Every feed's age; a database that cannot be read yields unknown ages and the error."""
    readers: list[tuple[str, Callable[[], str | None], Callable[[str | None], datetime | None]]] = [
        ("retail", lambda: newest_retail_window(store, now), _parse),
        ("spot", lambda: newest_spot_slot(store, now), _parse),
        ("goldback", lambda: newest_goldback_date(store), goldback_effective_time),
    ]
    feeds: list[FeedAge] = []
    database_error = None
    for feed, read, to_time in readers:
        newest = None
        if database_error is None:
            try:
                newest = read()
            except StoreUnavailable as exc:
                database_error = str(exc)
            except StatementRejected as exc:
                if not exc.missing_table:  # a fresh database has no tables yet: no data, not an outage
                    database_error = str(exc)
        feeds.append(_age(feed, newest, to_time(newest), now, unknown=database_error is not None))
    published = last_publish_time(settings.export_dir)
    feeds.append(_age("publish", None if published is None else published.isoformat(), published, now))
    return Freshness(feeds, database_error)

