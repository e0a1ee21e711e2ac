"""Merge against a real bare remote holding three poller branches written by publish itself:
hand-checked merged numbers, a corrupt branch skipped, a missing branch reported, concurrent
merges, and no commit for unchanged inputs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from staktrakr.errors import JobFailed
from staktrakr.jobs.merge import MergeOptions, run_merge
from staktrakr.jobs.publish import PublishOptions, run_publish
from staktrakr.store import Store
from tests.conftest import REPO
from tests.publish_fixtures import REFERENCE, git

W = "2026-03-15T20:00:00Z"
SNAP = ("INSERT INTO price_snapshots (scraped_at, window_start, coin_slug, vendor, price, source, confidence, "
        "is_failed, in_stock, poller_id) VALUES (?,?,?,?,?,?,?,?,?,?)")
SPOT = ("INSERT INTO spot_prices (metal, spot, source, poller_id, timestamp, timestamp_floor, scraped_at) "
        "VALUES (?,?,'metalprice-api','t',?,?,?)")
GOLDBACK = "INSERT INTO goldback_rates (date, g1_usd, source, scraped_at, poller_id) VALUES (?,?,'goldback.com',?,'t')"

BRANCH_ROWS = {
    "api": [
        ("2026-03-15T20:01:00.000Z", W, "ase", "herobullion", 90.11, "http", 80, 0, 1, "api"),
        ("2026-03-15T20:01:30.000Z", W, "ase", "jmbullion", 95.30, "http", 50, 0, 1, "api"),
        ("2026-03-15T17:30:02.913Z", "2026-03-15T17:30:00Z", "ase", "apmex", 93.33, "http", 80, 0, 1, "api"),
    ],
    "home": [
        ("2026-03-15T19:31:00.000Z", "2026-03-15T19:30:00Z", "ase", "herobullion", 89.00, "http", 80, 0, 1, "home"),
        ("2026-03-15T20:10:00.000Z", W, "ase", "apmex", 93.50, "http", 80, 0, 1, "home"),
        ("2026-03-15T10:00:00.000Z", "2026-03-15T10:00:00Z", "ase", "sdbullion", 92.00, "http", 80, 0, 1, "home"),
        ("2026-03-15T20:10:00.000Z", W, "ase", "sdbullion", None, "http", None, 0, 0, "home"),
        ("2026-03-15T20:09:00.000Z", W, "age", "apmex", 5251.29, "http", 80, 0, 1, "home"),
    ],
    "edge": [
        ("2026-03-15T20:12:00.000Z", W, "ase", "summitmetals", 92.25, "http", 80, 0, 1, "edge"),
    ],
}
METALS = {"gold": 5000.0, "silver": 80.0, "platinum": 2000.0, "palladium": 1500.0}
SPOT_SLOTS = {"api": ["2026-03-15T20:00:00Z"], "home": ["2026-03-15T20:00:00Z", "2026-03-15T20:15:00Z"], "edge": []}
GOLDBACK_ROWS = {"api": [("2026-03-13", 10.26, "2026-03-13T17:01:00.000Z")],
                 "home": [("2026-03-15", 10.06, "2026-03-15T17:01:00.000Z")], "edge": []}


@pytest.fixture
def remote(make_settings, tmp_path: Path) -> Path:
    """A bare remote with branches api, home and edge, each pushed by a real publish."""
    bare = tmp_path / "remote.git"
    git("init", "--quiet", "--bare", str(bare))
    for name, rows in BRANCH_ROWS.items():
        settings = make_settings(turso_database_url=f"file:{tmp_path / name / 'db.sqlite'}", poller_id=name,
                                 api_export_dir=tmp_path / name / "export", api_data_repo=str(bare),
                                 STAKTRAKR_VAR_DIR=tmp_path / name / "var")
        with Store.open(settings) as store:
            store.migrate()
            statements = [(SNAP, row) for row in rows]
            statements += [(SPOT, (metal, base + 1, slot, slot, slot)) for slot in SPOT_SLOTS[name]
                           for metal, base in METALS.items()]
            statements += [(GOLDBACK, row) for row in GOLDBACK_ROWS[name]]
            store.db.batch(statements)
            assert run_publish(settings, store, PublishOptions()).pushed is True
    return bare


def merger(make_settings, tmp_path: Path, bare: Path, host: str = "m1"):
    return make_settings(api_data_repo=str(bare), STAKTRAKR_VAR_DIR=tmp_path / host, merge_branches="api,home,edge")


def main_file(bare: Path, path: str):
    return json.loads(git("show", f"main:data/{path}", cwd=bare))


def test_merged_main_hand_checked(remote: Path, make_settings, tmp_path: Path) -> None:
    result = run_merge(merger(make_settings, tmp_path, remote), MergeOptions())
    assert result.pushed and sorted(result.used) == ["api", "edge", "home"] and not result.skipped
    message = git("log", "-1", "--format=%B", "main", cwd=remote)
    for name, head in result.used.items():
        assert f"{name}@{head[:12]}" in message

    ase = main_file(remote, "api/ase/latest.json")
    # herobullion: api 20:00 beats home 19:30; apmex: home live beats api's carry-over;
    # live 90.11, 92.25, 93.50, 95.30 -> upper median 93.5
    assert {v: e["price"] for v, e in ase["vendors"].items()} == {
        "apmex": 93.5, "herobullion": 90.11, "jmbullion": 95.3, "summitmetals": 92.25}
    assert not any(e.get("stale") for e in ase["vendors"].values())
    assert (ase["median_price"], ase["lowest_price"]) == (93.5, 90.11)
    assert ase["availability_by_site"]["sdbullion"] is False and ase["last_known_price_by_site"] == {"sdbullion": 92}
    last = ase["windows_24h"][-1]
    assert last == {"window": "2026-03-15T20:00:00.000Z", "median": 93.5, "low": 90.11,
                    "vendors": {"apmex": 93.5, "herobullion": 90.11, "jmbullion": 95.3, "summitmetals": 92.25}}
    assert {"2026-03-15T19:30:00.000Z", "2026-03-15T17:30:00.000Z"} <= {w["window"] for w in ase["windows_24h"]}

    latest = main_file(remote, "api/latest.json")
    assert latest["generated_at"] == "2026-03-15T20:12:00.000Z" and sorted(latest["coins"]) == ["age", "ase"]
    assert latest["coins"]["ase"]["vendor_count"] == 4
    manifest = main_file(remote, "api/manifest.json")
    assert manifest["coins"] == ["age", "ase"] and list(manifest) == list(json.loads(
        (REFERENCE / "api/manifest.json").read_text()))

    hour = main_file(remote, "hourly/2026/03/15/20.json")
    assert [(e["metal"], e["timestamp"][11:16]) for e in hour][:2] == [("Gold", "20:00"), ("Gold", "20:15")]
    assert len(hour) == 8  # api's 20:00 and home's 20:00 + 20:15, one entry per metal and slot
    assert len(main_file(remote, "15min/2026/03/15/2015.json")) == 4  # only on home
    assert main_file(remote, "api/goldback-spot.json")["date"] == "2026-03-15"
    assert [d["date"] for d in main_file(remote, "goldback-2026.json")] == ["2026-03-15", "2026-03-13"]

    again = run_merge(merger(make_settings, tmp_path, remote), MergeOptions())
    assert again.nothing_to_do and again.commit is None
    assert git("rev-list", "--count", "main", cwd=remote) == "1"
    # merge runs are accounted for like every job (the old merge wrote no poller_runs row)
    with Store.open(merger(make_settings, tmp_path, remote)) as store:
        merges = store.db.query("SELECT run_id, status, total, captured FROM poller_runs WHERE job = 'merge' "
                                "ORDER BY started_at")
    assert [(m["status"], m["total"], m["captured"]) for m in merges] == [("ok", 3, 3), ("ok", 3, 3)]
    assert merges[-1]["run_id"] == again.run.run_id


def test_corrupt_and_missing_branches_are_skipped(remote: Path, make_settings, tmp_path: Path) -> None:
    work = tmp_path / "corrupt"
    git("clone", "--quiet", "--branch", "edge", str(remote), str(work))
    (work / "data/api/ase/latest.json").write_text("{not json")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "--quiet", "-am", "break", cwd=work)
    git("push", "--quiet", "origin", "edge", cwd=work)

    result = run_merge(merger(make_settings, tmp_path, remote), MergeOptions(branches=["api", "home", "edge", "gone"]))
    assert "api/ase/latest.json" in result.skipped["edge"] and "invalid" in result.skipped["edge"]
    assert result.skipped["gone"].startswith("missing")
    assert result.pushed and sorted(result.used) == ["api", "home"]
    ase = main_file(remote, "api/ase/latest.json")
    assert "summitmetals" not in ase["vendors"] and ase["vendors"]["apmex"]["price"] == 93.5

    with pytest.raises(JobFailed, match="no usable branch"):
        run_merge(merger(make_settings, tmp_path, remote), MergeOptions(branches=["edge", "gone"]))


def test_dry_run_pushes_nothing(remote: Path, make_settings, tmp_path: Path) -> None:
    result = run_merge(merger(make_settings, tmp_path, remote), MergeOptions(dry_run=True))
    assert "data/api/ase/latest.json" in result.added and result.commit is None
    assert subprocess.run(["git", "rev-parse", "--verify", "--quiet", "main"], cwd=remote).returncode != 0


def test_two_concurrent_merges(remote: Path, tmp_path: Path) -> None:
    env_base = {"API_DATA_REPO": str(remote), "MERGE_BRANCHES": "api,home,edge", "STAKTRAKR_ENV_FILE": "/nonexistent",
                "STAKTRAKR_LOG_FORMAT": "json", "PATH": "/usr/bin:/bin"}
    procs = [subprocess.Popen([sys.executable, "-m", "staktrakr", "merge", "--json"], cwd=REPO,
                              env={**env_base, "STAKTRAKR_VAR_DIR": str(tmp_path / f"host{i}")},
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for i in (1, 2)]
    outputs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    results = [json.loads(out) for out, _ in outputs]
    assert sum(1 for r in results if r["pushed"]) >= 1
    assert all(r["pushed"] or r["nothing_to_do"] for r in results)
    single = subprocess.run([sys.executable, "-m", "staktrakr", "merge", "--json"], cwd=REPO, capture_output=True,
                            text=True, env={**env_base, "STAKTRAKR_VAR_DIR": str(tmp_path / "host3")})
    assert single.returncode == 0 and json.loads(single.stdout)["nothing_to_do"] is True
    assert git("rev-list", "--count", "main", cwd=remote) == "1"


def test_rejected_push_retries_then_fails_with_one_redacted_line(remote: Path, make_settings, tmp_path: Path,
                                                                 caplog: pytest.LogCaptureFixture) -> None:
    """Every push refused (a hook that even echoes the token): bounded retries, each logged with
    git's reason redacted, then one JobFailed line; main is never created."""
    token = "ghp_TESTTOKEN_merge_0123456789abcdef"
    hook = remote / "hooks" / "pre-receive"
    hook.write_text(f"#!/bin/sh\necho 'denied for {token}' >&2\nexit 1\n")
    hook.chmod(0o755)
    settings = make_settings(api_data_repo=str(remote), STAKTRAKR_VAR_DIR=tmp_path / "m1",
                             merge_branches="api,home,edge", github_token=token)
    with caplog.at_level("WARNING", logger="staktrakr.jobs.merge"):
        with pytest.raises(JobFailed, match="push to main rejected 5 times"):
            run_merge(settings, MergeOptions())
    attempts = [record.getMessage() for record in caplog.records if "git push of branch main to origin rejected" in record.getMessage()]
    assert len(attempts) == 5 and all("denied for" in line for line in attempts)
    assert not any(token in line for line in caplog.messages)
    assert subprocess.run(["git", "rev-parse", "--verify", "--quiet", "main"], cwd=remote).returncode != 0
