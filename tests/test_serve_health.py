"""Feed freshness rules behind /healthz, /metrics and status: time order across timestamp
shapes, publish time from git, Goldback's effective time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import git

from staktrakr.models import SpotPrice
from staktrakr.ops.health import GOLDBACK_MAX_AGE, goldback_effective_time, last_publish_time, read_freshness
from staktrakr.store import Store
from tests.ops_fixtures import now_utc, seed_feeds


def _feeds(settings, store, now):
    return {feed.feed: feed for feed in read_freshness(store, settings, now).feeds}


def test_newest_spot_slot_by_time_not_text(make_settings):
    """An old-format slot (`YYYY-MM-DD HH:MM:SS`) an hour newer than an ISO one wins, although
    it sorts lower as text (' ' < 'T')."""
    settings = make_settings()
    now = now_utc().replace(minute=50, second=0, microsecond=0)
    iso_slot = (now - timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:00Z")
    old_shape_slot = (now - timedelta(minutes=20)).strftime("%Y-%m-%d %H:%M:%S")
    with Store.open(settings) as store:
        store.migrate()
        store.write([
            SpotPrice(metal="gold", spot=2900.0, poller_id="api", timestamp=iso_slot, timestamp_floor=iso_slot,
                      scraped_at=iso_slot),
            SpotPrice(metal="gold", spot=2901.0, poller_id="home-spot", timestamp=old_shape_slot,
                      timestamp_floor=old_shape_slot, scraped_at=old_shape_slot),
        ])
        spot = _feeds(settings, store, now)["spot"]
    assert spot.newest == old_shape_slot
    assert spot.age_s == 20 * 60
    assert not spot.stale


def test_publish_time_from_the_export_repos_head_commit(tmp_path):
    export = tmp_path / "export"
    repo = git.Repo.init(export)
    (export / "data").mkdir()
    (export / "data" / "x.json").write_text("{}")
    repo.index.add(["data/x.json"])
    two_hours_ago = datetime.now(UTC) - timedelta(hours=2)
    stamp = f"{int(two_hours_ago.timestamp())} +0000"
    repo.index.commit("publish", author_date=stamp, commit_date=stamp)
    assert abs((last_publish_time(export) - two_hours_ago).total_seconds()) < 2

    (export / "data" / "api").mkdir()
    (export / "data" / "api" / "manifest.json").write_text('{{"generated_at": "{}"}}'.format((two_hours_ago + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")))
    assert abs((last_publish_time(export) - (two_hours_ago + timedelta(hours=1))).total_seconds()) < 2  # newer wins
    assert last_publish_time(tmp_path / "nothing-here") is None


def test_goldback_friday_rate_is_fresh_until_after_the_weekend():
    friday = "2026-03-13"
    effective = goldback_effective_time(friday)
    assert effective == datetime(2026, 3, 13, 17, 0, tzinfo=UTC)
    monday_evening = datetime(2026, 3, 16, 18, 0, tzinfo=UTC)
    assert monday_evening - effective < GOLDBACK_MAX_AGE
    wednesday = datetime(2026, 3, 18, 0, 0, tzinfo=UTC)
    assert wednesday - effective > GOLDBACK_MAX_AGE


def test_retail_freshness_ignores_failure_rows(make_settings, tmp_path):
    from staktrakr.models import PriceObservation
    from staktrakr.timeutil import iso_z, window_start

    settings = make_settings(api_export_dir=tmp_path / "export")
    now = now_utc()
    with Store.open(settings) as store:
        seed_feeds(store, tmp_path / "export", now, retail_age=timedelta(hours=3))
        store.write([PriceObservation(scraped_at=iso_z(now), window_start=window_start(now), coin_slug="ase",
                                      vendor="apmex", price=None, source="http", is_failed=True, poller_id="api")])
        retail = _feeds(settings, store, now)["retail"]
    assert retail.stale  # a window full of failures is not fresh data
