"""The dashboard page in real Chromium: log in, see the fleet (two pollers), coverage, a failing
vendor and the charts on a seeded database; no page error, no CSP violation, no request leaving
127.0.0.1; the page refreshes itself without reloading; readable at phone width. Screenshots are
saved under the test's tmp dir and copied to var/test-artifacts/ (the path is printed)."""

from __future__ import annotations

import os
import shutil
from datetime import timedelta
from pathlib import Path

import pytest

from staktrakr.models import PollerRun
from staktrakr.ops.server import create_app
from staktrakr.store import Store
from staktrakr.timeutil import iso_z, utcnow
from tests.conftest import REPO
from tests.dashboard_fixtures import seed_fleet, write_catalog
from tests.ops_fixtures import running_server

TOKEN = "dashboard-token-for-tests-0123456789"
CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
ARTIFACTS = Path(os.environ.get("STAKTRAKR_TEST_ARTIFACTS", REPO / "var" / "test-artifacts"))


def _keep(shot: Path) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    kept = ARTIFACTS / shot.name
    shutil.copyfile(shot, kept)
    print(f"screenshot: {kept}")
    return kept


@pytest.fixture
def served(libsql_server, make_settings, tmp_path):
    settings = make_settings(turso_database_url=libsql_server.url, providers_file=write_catalog(tmp_path),
                             api_export_dir=tmp_path / "export", poller_id="api", dashboard_token=TOKEN)
    store = Store.open(settings)
    seed_fleet(store, settings.export_dir, utcnow())
    with running_server(create_app(settings)) as url:
        yield url, store
    store.close()


def test_dashboard_in_chromium(served, tmp_path):
    from playwright.sync_api import sync_playwright

    base_url, store = served
    page_errors: list[str] = []
    console_errors: list[str] = []
    requests: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                             args=["--no-sandbox", "--disable-gpu"])
        context = browser.new_context(viewport={"width": 1366, "height": 900})
        page = context.new_page()
        page.on("pageerror", lambda error: page_errors.append(str(error)))
        page.on("console", lambda message: console_errors.append(message.text) if message.type == "error" else None)
        page.on("request", lambda request: requests.append(request.url))
        page.clock.install()  # the 60 s refresh is driven by the test, not waited for

        first = page.goto(f"{base_url}/dashboard")
        assert first is not None and first.status == 401
        assert "default-src 'none'" in first.headers["content-security-policy"]
        page.fill("#token", "wrong-token")
        page.click("button[type=submit]")
        assert "Wrong token" in page.inner_text("#login-message")
        page.fill("#token", TOKEN)
        page.click("button[type=submit]")
        page.wait_for_selector("body[data-generated-at]")

        assert page.locator("#pollers [data-poller]").evaluate_all("nodes => nodes.map(n => n.dataset.poller)") == [
            "api", "home"]
        assert "home-scrape-9" not in page.inner_text("#stuck")  # shown by poller and job, not run id
        assert "scrape" in page.inner_text("#stuck") and "orphaned" in page.inner_text("#stuck")
        figures = page.inner_text("#coverage-figures")
        assert "75.0 %" in figures and "retail this hour (3/4)" in figures
        assert page.locator("#spot-grid [data-metal=gold] .cell.p0").count() == 2  # api's two slots
        assert page.locator("#spot-grid [data-metal=gold] .cell.p1").count() == 1  # home's one
        chronic = page.inner_text("#chronic")
        assert "jmbullion" in chronic and "blocked: HTTP 403" in chronic and "https://www.jmbullion.com/ase" in chronic
        assert "ase/jmbullion" in page.inner_text("#missing")
        for chart in ("coverage-chart", "failures-chart", "daily-chart", "windows-chart"):
            assert page.locator(f"#{chart} .uplot canvas").count() == 1, chart
        assert "$2600.00" in page.inner_text("#vendors")  # the first coin with prices: age
        page.select_option("#coin", "ase")
        vendors = page.inner_text("#vendors")
        assert "$40.00" in vendors and "out of stock" in vendors and "no price in 24 h" in vendors

        shot = tmp_path / "dashboard-laptop.png"
        page.screenshot(path=str(shot), full_page=True)
        _keep(shot)

        # a third poller starts writing: the next refresh shows it without a reload
        page.evaluate("window.__sameDocument = true")
        store.write([PollerRun(run_id="nas-spot-1", poller_id="nas", job="spot", started_at=iso_z(utcnow()),
                               finished_at=iso_z(utcnow() + timedelta(seconds=1)), status="ok", total=4, captured=4)])
        page.clock.fast_forward(61_000)
        page.wait_for_selector("#pollers [data-poller=nas]")
        assert page.evaluate("window.__sameDocument") is True

        page.set_viewport_size({"width": 390, "height": 844})
        page.wait_for_timeout(400)  # the resize handler redraws the charts after 250 ms
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
        shot = tmp_path / "dashboard-phone.png"
        page.screenshot(path=str(shot), full_page=True)
        _keep(shot)

        page.click("form.logout button")
        page.wait_for_selector("#token")
        assert page.context.cookies() == []
        browser.close()

    assert page_errors == []
    assert [text for text in console_errors if "401" not in text] == []  # the logged-out page itself is 401
    assert requests and all(url.startswith(base_url + "/") for url in requests), [
        url for url in requests if not url.startswith(base_url + "/")]


def test_dashboard_with_database_down_says_unknown(make_settings, tmp_path):
    """Nothing the database holds reads as zero, never or none while it cannot be read."""
    from playwright.sync_api import sync_playwright

    settings = make_settings(turso_database_url="http://127.0.0.1:9", providers_file=write_catalog(tmp_path),
                             api_export_dir=tmp_path / "export", dashboard_token=TOKEN, db_connect_timeout_s=2)
    page_errors: list[str] = []
    with running_server(create_app(settings)) as base_url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                             args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page()
        page.on("pageerror", lambda error: page_errors.append(str(error)))
        page.set_extra_http_headers({"Authorization": f"Bearer {TOKEN}"})
        page.goto(f"{base_url}/dashboard")
        page.wait_for_selector("body[data-generated-at]")
        chips = page.inner_text("#freshness").splitlines()
        assert chips[:3] == ["retail: unknown", "spot: unknown", "goldback: unknown"]  # publish: a local file
        for panel in ("#pollers", "#chronic", "#missing", "#vendors", "#spot-grid", "#failures-chart"):
            text = page.inner_text(panel)
            assert "unknown" in text and "none" not in text and "no runs" not in text, (panel, text)
        figures = page.inner_text("#coverage-figures")
        assert figures.splitlines()[:4] == ["unknown", "retail this hour", "unknown", "retail 24 h average"], figures
        assert "unknown\nlast merge" in figures and "%" not in figures
        browser.close()
    assert page_errors == []
