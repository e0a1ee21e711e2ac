"""`staktrakr retry` against the dealer farm: only the window's failed targets are fetched (counted on
the farm), fallback fetchers first, rows stored once (a repeated failure adds nothing)."""

from __future__ import annotations

import json

import pytest

from staktrakr.errors import ConfigError
from staktrakr.jobs.retry import rotated_order, run_retry
from staktrakr.store import Store
from tests.cli_helpers import assert_one_line_error, run_cli
from tests.conftest import REPO
from tests.farm import Page, make_target, page_text
from tests.scrape_fixtures import rows, scrape

WINDOW = "2026-03-15T17:30:00Z"


def retry(settings, targets, **options):
    with Store.open(settings) as store:
        return run_retry(settings, store, targets, **options)


def setup_window(farm, settings):
    """A scrape of four targets in WINDOW: one success, three failures."""
    hosts = {name: farm.host(name) for name in ("ok", "fixed", "gone", "jsapp")}
    targets = [
        make_target("ase", "ok", hosts["ok"].add("/ase", page_text("jsonld_instock.html"))),
        make_target("ase", "fixed", hosts["fixed"].add("/ase", Page("<html>denied</html>", status=403))),
        make_target("ase", "gone", hosts["gone"].add("/ase", Page("<html>gone</html>", status=404))),
        make_target("ase", "jsapp", hosts["jsapp"].add("/ase", page_text("js_rendered.html")),
                    fetchers=["http", "firecrawl"]),
    ]
    first = scrape(settings, targets, window=WINDOW)
    assert [o.ok for o in first.outcomes] == [True, False, False, False]
    return hosts, targets


def test_retry_fetches_only_failed_targets_and_stores_once(farm, farm_settings, any_db_url):
    settings = farm_settings(turso_database_url=any_db_url)
    hosts, targets = setup_window(farm, settings)
    firecrawl = farm.firecrawl()
    assert [h.total_hits for h in hosts.values()] == [1, 1, 1, 1]
    assert len(firecrawl.requests) == 1                        # jsapp: http gave no price, firecrawl had no page

    hosts["fixed"].add("/ase", page_text("html_table.html"))  # the dealer stopped blocking us
    firecrawl.scrape_page(targets[3].urls[0], page_text("tier_grid.md"))

    result = retry(settings, targets, window=WINDOW)
    assert result.failed_found == [("ase", "fixed"), ("ase", "gone"), ("ase", "jsapp")]
    by_vendor = {o.vendor_id: o for o in result.scrape.outcomes}
    assert (by_vendor["fixed"].price, by_vendor["fixed"].source) == (76.25, "http")
    assert by_vendor["gone"].reason == "not_found: HTTP 404"
    assert (by_vendor["jsapp"].price, by_vendor["jsapp"].source) == (78.49, "firecrawl")
    # only the failed targets were fetched; jsapp's failed fetcher (http) went last and was not needed
    assert [h.total_hits for h in hosts.values()] == [1, 2, 2, 1]
    assert len(firecrawl.requests) == 2
    assert result.scrape.write_round_trips == 1

    stored = rows(settings, "SELECT vendor, price, source, is_failed FROM price_snapshots ORDER BY vendor, is_failed")
    assert [(r["vendor"], r["price"], r["source"], r["is_failed"]) for r in stored] == [
        ("fixed", 76.25, "http", 0), ("fixed", None, "http", 1),
        ("gone", None, "http", 1),                                   # the repeated failure added no row
        ("jsapp", 78.49, "firecrawl", 0), ("jsapp", None, "http", 1),
        ("ok", 79.10, "http", 0),
    ]
    assert rows(settings, "SELECT job, status, total, captured FROM poller_runs ORDER BY started_at") == [
        {"job": "scrape", "status": "ok", "total": 4, "captured": 1},
        {"job": "retry", "status": "ok", "total": 3, "captured": 2},
    ]

    again = retry(settings, targets, window=WINDOW)               # now only "gone" is still failing
    assert again.failed_found == [("ase", "gone")]
    assert [h.total_hits for h in hosts.values()] == [1, 2, 3, 1]
    assert len(rows(settings, "SELECT id FROM price_snapshots")) == 6


def test_retry_dry_run_fetches_but_writes_nothing(farm, farm_settings):
    settings = farm_settings()
    _hosts, targets = setup_window(farm, settings)
    before = rows(settings, "SELECT COUNT(*) AS n FROM price_snapshots")
    result = retry(settings, targets, window=WINDOW, dry_run=True)
    assert result.scrape.total == 3 and result.scrape.stored_rows == 0
    assert rows(settings, "SELECT COUNT(*) AS n FROM price_snapshots") == before
    assert len(rows(settings, "SELECT id FROM poller_runs")) == 1


def test_nothing_to_retry_in_another_window(farm, farm_settings):
    settings = farm_settings()
    hosts, targets = setup_window(farm, settings)
    result = retry(settings, targets, window="2026-03-15T17:45:00Z")
    assert result.failed_found == [] and result.scrape is None
    assert [h.total_hits for h in hosts.values()] == [1, 1, 1, 1]


def test_other_pollers_failures_are_not_ours(farm, farm_settings):
    settings = farm_settings()
    _hosts, targets = setup_window(farm, settings)
    other = farm_settings(poller_id="home")
    assert retry(other, targets, window=WINDOW).failed_found == []


def test_rotated_order_puts_the_failed_fetcher_last():
    assert rotated_order(["browser", "firecrawl", "http"], "playwright") == ["firecrawl", "http", "browser"]
    assert rotated_order(["http", "browser"], "http") == ["browser", "http"]
    assert rotated_order(["http"], "http") == ["http"]
    assert rotated_order(["http", "browser"], "jsonld") == ["http", "browser"]


def test_bad_window_is_a_config_error(farm_settings):
    with pytest.raises(ConfigError, match="--window 2026-03-15 17:31: expected a 15-minute window"):
        retry(farm_settings(), [], window="2026-03-15 17:31")


def test_retry_refuses_a_window_that_is_not_a_date(tmp_path):
    env = {"PROVIDERS_FILE": str(REPO / "providers.json")}
    for window in ("2026-13-45T00:00:00Z", "2026-02-30T10:00:00Z", "2026-03-15T25:00:00Z"):
        result = run_cli(["retry", "--window", window, "--dry-run"], env=env, var_dir=tmp_path / "var")
        assert result.exit_code == 2, (window, result.stdout)
        assert_one_line_error(result, "--window")


def test_retry_command_with_nothing_failed(tmp_path):
    result = run_cli(["retry", "--window", WINDOW, "--json"], var_dir=tmp_path / "var",
                     env={"PROVIDERS_FILE": "providers.json"})
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"window_start": WINDOW, "failed_found": [], "not_in_catalog": [],
                                         "retried": None}
    bad = run_cli(["retry", "--window", "yesterday"], var_dir=tmp_path / "var")
    assert bad.exit_code == 2
