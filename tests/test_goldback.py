"""Goldback job against a local goldback.com (real HTTP server), the real fetchers (Chromium for the
script-rendered page) and a real database: good pages store one row, anything else stores nothing."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from staktrakr.catalog import load_catalog
from staktrakr.catalog.load import load_run_catalog
from staktrakr.cli import app
from staktrakr.errors import ConfigError, JobFailed
from staktrakr.jobs.goldback import run_goldback
from staktrakr.models import GoldbackRate, SpotPrice
from staktrakr.store import Store
from staktrakr.store.queries.catalog import catalog_to_db
from tests.cli_helpers import run_cli
from tests.conftest import REPO
from tests.fake_apis import FakeSite, Reply
from tests.farm import FakeFirecrawl

PATH = "/exchange-rates/"
MONDAY_NOON_MT = datetime(2026, 3, 16, 18, 0, tzinfo=UTC)     # 12:00 MDT -> effective 2026-03-16

needs_chromium = pytest.mark.skipif(not Path("/usr/bin/chromium").exists(), reason="needs /usr/bin/chromium")


def page(body: str) -> str:
    return (f"<!doctype html><html><head><title>Exchange Rates | Goldback</title></head><body>"
            f"<nav>Shop Goldbacks</nav><main><h1>Goldback Exchange Rate</h1>{body}</main></body></html>")


SCRIPT_RENDERED = page(
    "<div id='rate'>Loading...</div>"
    "<script>setTimeout(function () { var cents = 1006;"
    " document.getElementById('rate').textContent = 'One Goldback = $' + (cents / 100).toFixed(2); }, 400);"
    "</script>")


@pytest.fixture
def site():
    with FakeSite() as fake:
        yield fake


@pytest.fixture
def gb_settings(make_settings, site, tmp_path):
    def _make(db_url: str | None = None, **overrides):
        values = {"goldback_url": site.url(PATH), "fetch_timeout_s": 10, "poller_id": "api",
                      "turso_database_url": db_url or "file:" + str(tmp_path / "gb.db")}
        values.update(overrides)
        return make_settings(**values)
    return _make


def rates(store: Store) -> list[dict]:
    return store.db.query("SELECT date, g1_usd, source, poller_id, scraped_at FROM goldback_rates ORDER BY date")


def runs(store: Store) -> list[dict]:
    return store.db.query("SELECT status, captured, error FROM poller_runs WHERE job = 'goldback'")


def seed_gold(store: Store, gold: float = 5018.96) -> None:
    slot = "2026-03-16T17:45:00Z"
    store.write([SpotPrice(metal="gold", spot=gold, poller_id="api", timestamp=slot, timestamp_floor=slot,
                           scraped_at="2026-03-16T17:45:03.000Z")])


@pytest.mark.parametrize("body, expected", [
    ("<h2>1 Goldback = $10</h2>", 10.0),
    ("<h2>1 Goldback = $10.06</h2>", 10.06),
    ("<table><tr><th>Goldbacks</th><th>USD</th></tr><tr><td>1 Goldback</td><td>$10.06</td></tr>"
     "<tr><td>50 Goldbacks</td><td>$503.00</td></tr></table>", 10.06),
])
def test_static_pages_store_the_rate_under_the_effective_date(body, expected, gb_settings, site, libsql_server):
    site.pages[PATH] = page(body)
    settings = gb_settings(libsql_server.url)
    with Store.open(settings) as store:
        store.migrate()
        seed_gold(store)
        result = run_goldback(settings, store, now=MONDAY_NOON_MT)
        stored = rates(store)
        run_rows = runs(store)
    assert result.status == "stored" and result.fetcher == "http"
    assert [(r["date"], r["g1_usd"], r["source"], r["poller_id"]) for r in stored] == [
        ("2026-03-16", expected, "goldback.com", "api")]
    assert stored[0]["scraped_at"].endswith("Z")
    assert run_rows == [{"status": "ok", "captured": 1, "error": None}]
    assert "melt" in result.band_basis


@needs_chromium
def test_script_rendered_rate_needs_the_browser(gb_settings, site):
    site.pages[PATH] = SCRIPT_RENDERED
    settings = gb_settings()
    with Store.open(settings) as store:
        result = run_goldback(settings, store, now=MONDAY_NOON_MT)
        stored = rates(store)
    assert result.fetcher == "browser" and result.g1_usd == 10.06
    assert result.attempts == ["http: no '1 Goldback = $X' on the page"]
    assert [(r["date"], r["g1_usd"]) for r in stored] == [("2026-03-16", 10.06)]


@needs_chromium
def test_changed_page_fails_with_one_line_and_stores_nothing(gb_settings, site, libsql_server):
    site.pages[PATH] = page("<h2>Goldback prices</h2><p>Visit our store. Shipping from $10.06.</p>")
    settings = gb_settings(libsql_server.url)
    with Store.open(settings) as store:
        with pytest.raises(JobFailed) as failure:
            run_goldback(settings, store, now=MONDAY_NOON_MT)
        assert rates(store) == []
        assert [r["status"] for r in runs(store)] == ["error"]
    message = str(failure.value)
    assert "\n" not in message and "nothing stored" in message
    assert "http: no '1 Goldback = $X' on the page; browser: no '1 Goldback = $X' on the page" in message


@needs_chromium
def test_rate_outside_the_spot_band_is_refused(gb_settings, site):
    site.pages[PATH] = page("<h2>1 Goldback = $55.00</h2>")
    settings = gb_settings()
    with Store.open(settings) as store:
        store.migrate()
        seed_gold(store)
        with pytest.raises(JobFailed, match=r"rate \$55 \(phrase\) outside the band \$6.02-\$20.08"):
            run_goldback(settings, store, now=MONDAY_NOON_MT)
        assert rates(store) == []


def test_without_spot_the_fixed_band_applies(gb_settings, site):
    site.pages[PATH] = page("<h2>1 Goldback = $25.00</h2>")
    settings = gb_settings()
    with Store.open(settings) as store:
        result = run_goldback(settings, store, now=MONDAY_NOON_MT)
    assert result.g1_usd == 25.0 and result.band == [2.0, 50.0]


@needs_chromium
def test_missing_page_is_a_failure(gb_settings, site):
    settings = gb_settings()
    with Store.open(settings) as store, pytest.raises(JobFailed, match="http: not_found \\(HTTP 404\\)"):
        run_goldback(settings, store, now=MONDAY_NOON_MT)


def test_rerun_is_idempotent_and_does_not_fetch(gb_settings, site):
    site.pages[PATH] = page("<h2>1 Goldback = $10.06</h2>")
    settings = gb_settings()
    with Store.open(settings) as store:
        run_goldback(settings, store, now=MONDAY_NOON_MT)
        site.pages[PATH] = page("<h2>1 Goldback = $10.99</h2>")
        again = run_goldback(settings, store, now=MONDAY_NOON_MT.replace(hour=22))
        stored = rates(store)
    assert again.status == "already_stored" and again.g1_usd == 10.06
    assert len(site.requests) == 1 and [r["g1_usd"] for r in stored] == [10.06]
    with Store.open(settings) as store:   # both runs accounted for, the early return included
        assert sorted((r["status"], r["captured"]) for r in runs(store)) == [("ok", 0), ("ok", 1)]


def test_weekend_run_files_fridays_rate(gb_settings, site):
    site.pages[PATH] = page("<h2>1 Goldback = $10.27</h2>")
    settings = gb_settings()
    with Store.open(settings) as store:
        result = run_goldback(settings, store, now=datetime(2026, 3, 14, 15, 0, tzinfo=UTC))
        assert [(r["date"], r["g1_usd"]) for r in rates(store)] == [("2026-03-13", 10.27)]
    assert result.date == "2026-03-13"


def test_unchanged_rate_right_after_the_update_waits(gb_settings, site):
    """At 10:10 MT the page may still show Friday's rate: it is not filed under Monday."""
    site.pages[PATH] = page("<h2>1 Goldback = $10.06</h2>")
    settings = gb_settings()
    with Store.open(settings) as store:
        store.migrate()
        store.write([GoldbackRate(date="2026-03-13", g1_usd=10.06, scraped_at="2026-03-13T18:00:00.000Z")])
        early = run_goldback(settings, store, now=datetime(2026, 3, 16, 16, 10, tzinfo=UTC))
        assert early.status == "not_updated_yet" and [r["date"] for r in rates(store)] == ["2026-03-13"]
        assert runs(store) == [{"status": "ok", "captured": 0, "error": None}]     # recorded, nothing stored
        site.pages[PATH] = page("<h2>1 Goldback = $10.12</h2>")
        updated = run_goldback(settings, store, now=datetime(2026, 3, 16, 16, 20, tzinfo=UTC))
        assert updated.status == "stored"
        assert [(r["date"], r["g1_usd"]) for r in rates(store)] == [("2026-03-13", 10.06), ("2026-03-16", 10.12)]


@needs_chromium
def test_firecrawl_is_the_last_resort(gb_settings, site):
    site.pages[PATH] = Reply(status=403, body="<html>Forbidden</html>", content_type="text/html")
    firecrawl = FakeFirecrawl()
    try:
        firecrawl.scrape_page(site.url(PATH),
                              "# Exchange Rates\n\n| Goldbacks | USD |\n|---|---|\n| 1 Goldback | $10.06 |\n")
        settings = gb_settings(firecrawl_base_url=firecrawl.url(""))
        with Store.open(settings) as store:
            result = run_goldback(settings, store, now=MONDAY_NOON_MT)
        scrape_request = firecrawl.requests[0]
    finally:
        firecrawl.stop()
    assert result.fetcher == "firecrawl" and result.method == "table" and result.g1_usd == 10.06
    assert [a.split(":")[0] for a in result.attempts] == ["http", "browser"]
    assert scrape_request["url"] == site.url(PATH) and scrape_request["formats"] == ["markdown"]


def test_dry_run_stores_nothing(gb_settings, site):
    site.pages[PATH] = page("<h2>1 Goldback = $10.06</h2>")
    settings = gb_settings()
    with Store.open(settings) as store:
        result = run_goldback(settings, store, dry_run=True, now=MONDAY_NOON_MT)
        assert rates(store) == [] and runs(store) == []
    assert result.g1_usd == 10.06 and result.status == "dry_run"


def test_cli_json_and_exit_codes(make_settings, site, monkeypatch, tmp_path):
    make_settings()  # isolates the environment
    monkeypatch.setenv("GOLDBACK_URL", site.url(PATH))
    monkeypatch.setenv("PROVIDERS_FILE", str(REPO / "providers.json"))
    monkeypatch.setenv("SCRAPE_GAP_MAX_S", "0")      # goldback.com's lane: no gap between its fetchers here
    monkeypatch.setenv("SCRAPE_GAP_MIN_S", "0")
    monkeypatch.setenv("STAKTRAKR_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("STAKTRAKR_LOG_FORMAT", "json")
    site.pages[PATH] = page("<h2>One Goldback = $10.06</h2>")
    result = CliRunner().invoke(app, ["goldback", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["g1_usd"] == 10.06
    monkeypatch.setenv("CHROMIUM_PATH", str(tmp_path / "no-chromium"))      # keep the failing run quick
    monkeypatch.setenv("STAKTRAKR_VAR_DIR", str(tmp_path / "var2"))
    site.pages[PATH] = page("<p>We moved.</p>")
    result = CliRunner().invoke(app, ["goldback"])
    assert result.exit_code == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "no '1 Goldback = $X'" in errors[0]


def test_blocked_direct_fetch_goes_through_the_home_proxy(gb_settings, site):
    from tests.farm import ForwardProxy

    def only_via_proxy(headers: dict[str, str]) -> Reply | str:
        if "farm-proxy" not in headers.get("via", ""):
            return Reply(status=403, body="<html>Access denied</html>", content_type="text/html")
        return page("<h2>1 Goldback = $10.06</h2>")

    site.pages[PATH] = only_via_proxy
    proxy = ForwardProxy("proxy")
    try:
        settings = gb_settings(home_proxy_url=proxy.url(""))
        with Store.open(settings) as store:
            result = run_goldback(settings, store, now=MONDAY_NOON_MT)
            assert [r["g1_usd"] for r in rates(store)] == [10.06]
    finally:
        proxy.stop()
    assert result.fetcher == "http via proxy" and proxy.total_hits == 1
    assert result.attempts == ["http: blocked (HTTP 403), trying HOME_PROXY_URL"]


# goldback.com as a catalog entry (providers.json feeds.goldback) -----------------------------------

def catalog_with_feed(tmp_path: Path, **feed: object) -> Path:
    """A copy of the real catalog whose feeds.goldback is `feed` (left out when empty)."""
    data = json.loads((REPO / "providers.json").read_text())
    data.pop("feeds", None)
    if feed:
        data["feeds"] = {"goldback": feed}
    path = tmp_path / "providers.json"
    path.write_text(json.dumps(data))
    return path


def test_the_catalog_entry_gives_the_url_fetchers_and_wait(gb_settings, tmp_path):
    """Without GOLDBACK_URL the catalog's URL is read, with the entry's fetchers and wait."""
    catalog_url = "https://www.goldback.com/exchange-rates/"      # only the fake Firecrawl "fetches" it
    firecrawl = FakeFirecrawl()
    try:
        firecrawl.scrape_page(catalog_url, "# Exchange Rates\n\nOne Goldback = $10.06\n")
        settings = gb_settings(goldback_url=None, firecrawl_base_url=firecrawl.url(""),
                               providers_file=catalog_with_feed(tmp_path, url=catalog_url, fetchers=["firecrawl"],
                                                                wait_ms=1234))
        with Store.open(settings) as store:
            result = run_goldback(settings, store, now=MONDAY_NOON_MT)
            assert [r["g1_usd"] for r in rates(store)] == [10.06]
        scrape_requests = firecrawl.requests
    finally:
        firecrawl.stop()
    assert (result.url, result.fetcher, result.attempts) == (catalog_url, "firecrawl", [])
    assert [(r["url"], r["waitFor"]) for r in scrape_requests] == [(catalog_url, 1234)]


def test_a_catalog_without_the_entry_fails_before_the_run(gb_settings, site, tmp_path):
    settings = gb_settings(providers_file=catalog_with_feed(tmp_path))
    with Store.open(settings) as store:
        with pytest.raises(ConfigError) as failure:
            run_goldback(settings, store, now=MONDAY_NOON_MT)
        assert store.query_if_available("SELECT job FROM poller_runs") in (None, [])    # no run started
    assert str(failure.value) == f"{tmp_path / 'providers.json'}: feeds.goldback: not in the catalog (add its url and fetchers)"
    assert site.requests == []


def test_a_transient_failure_is_retried_like_a_dealer_page(gb_settings, site):
    answers = iter([Reply(status=503, body="<html>busy</html>", content_type="text/html"),
                    page("<h2>1 Goldback = $10.06</h2>")])
    site.pages[PATH] = lambda headers: next(answers)
    settings = gb_settings(scrape_backoff_s=0)
    with Store.open(settings) as store:
        result = run_goldback(settings, store, now=MONDAY_NOON_MT)
    assert (result.status, result.fetcher, result.g1_usd, result.attempts) == ("stored", "http", 10.06, [])
    assert len(site.requests) == 2


def test_providers_sync_from_db_keeps_the_entry(tmp_path):
    path = catalog_with_feed(tmp_path, url="https://www.goldback.com/exchange-rates/",
                             fetchers=["http", "browser"], wait_ms=8000, wait_selector="text=/goldback/i")
    env = {"TURSO_DATABASE_URL": "file:" + str(tmp_path / "db.sqlite"), "PROVIDERS_FILE": str(path)}
    before = load_catalog(path).feed_page("goldback")
    for direction in ("--to-db", "--from-db"):
        assert run_cli(["providers", "sync", direction], env=env, var_dir=tmp_path / "var").exit_code == 0
    assert load_catalog(path).feed_page("goldback") == before
    assert json.loads(path.read_text())["feeds"]["goldback"]["wait_selector"] == "text=/goldback/i"


def test_with_a_database_catalog_the_entry_still_comes_from_the_file(gb_settings, site):
    site.pages[PATH] = page("<h2>1 Goldback = $10.06</h2>")
    settings = gb_settings(catalog_source="db")
    file_entry = load_catalog(settings.providers_file).feed_page("goldback")
    with Store.open(settings) as store:
        store.migrate()
        catalog_to_db(store, load_catalog(settings.providers_file))
        assert load_run_catalog(settings, store).feed_page("goldback") == file_entry
        assert run_goldback(settings, store, now=MONDAY_NOON_MT).status == "stored"
