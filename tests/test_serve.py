"""`staktrakr serve` over real HTTP: the command itself, only data/ files, CORS and cache headers, health,
metrics, trigger."""

from __future__ import annotations

import os
import platform
import re
import shutil
import subprocess
import sys
import threading
import time
from datetime import timedelta

import httpx
import pytest
from filelock import Timeout
from prometheus_client.parser import text_string_to_metric_families

from staktrakr import __version__
from staktrakr.ops.jobs import job_lock
from staktrakr.ops.server import create_app
from staktrakr.store import Store
from tests.conftest import free_port
from tests.ops_fixtures import now_utc, raw_request, running_server, seed_feeds, seed_runs_and_failures

TOKEN = "trigger-token-for-tests-0123456789"
SECRET_MARKER = b"SECRET-MARKER"


@pytest.fixture
def export_dir(tmp_path):
    """A published tree plus everything serve must never hand out."""
    root = tmp_path / "export"
    (root / "data" / "api").mkdir(parents=True)
    (root / "data" / "api" / "latest.json").write_text('{"coin_count": 3}\n', encoding="utf-8")
    (root / ".git").mkdir()
    (root / ".git" / "config").write_bytes(b"[remote]\n url = https://" + SECRET_MARKER + b"@github.com/x\n")
    (root / "prices.db").write_bytes(SECRET_MARKER)
    (root / "data" / "prices.db").write_bytes(SECRET_MARKER)
    (root / "data" / "cache.SQLITE").write_bytes(SECRET_MARKER)
    (root / "data" / "backup.json").write_bytes(b"SQLite format 3\x00" + SECRET_MARKER)  # a database renamed
    (root / "data" / ".hidden").mkdir()
    (root / "data" / ".hidden" / "x.json").write_bytes(SECRET_MARKER)
    (root / "outside.json").write_bytes(SECRET_MARKER)
    (root / "data" / "escape.json").symlink_to(root / "outside.json")
    return root


@pytest.fixture
def settings(make_settings, export_dir):
    return make_settings(api_export_dir=export_dir, ops_trigger_token=TOKEN, poller_id="api")


@pytest.fixture
def base_url(settings):
    with running_server(create_app(settings)) as url:
        yield url


def test_serves_published_json_with_cors_and_cache_headers(base_url):
    response = httpx.get(f"{base_url}/data/api/latest.json")
    assert response.status_code == 200
    assert response.json() == {"coin_count": 3}
    assert response.headers["content-type"].startswith("application/json")
    assert response.headers["access-control-allow-origin"] == "*"
    assert "max-age=300" in response.headers["cache-control"]
    assert response.headers.get("etag")


def test_conditional_and_range_requests(base_url):
    """Starlette's StaticFiles behind our rules: a matching If-None-Match or If-Modified-Since is 304
    (headers kept, no body), a Range request 206 with the bytes asked for."""
    url = f"{base_url}/data/api/latest.json"
    first = httpx.get(url)
    etag, modified = first.headers["etag"], first.headers["last-modified"]
    cached = httpx.get(url, headers={"If-None-Match": etag})
    assert cached.status_code == 304 and cached.content == b""
    assert cached.headers["etag"] == etag and "max-age=300" in cached.headers["cache-control"]
    assert httpx.get(url, headers={"If-Modified-Since": modified}).status_code == 304
    assert httpx.get(url, headers={"If-None-Match": '"something-else"'}).status_code == 200

    part = httpx.get(url, headers={"Range": "bytes=1-13"})
    assert part.status_code == 206 and part.content == b'"coin_count":'
    assert part.headers["content-range"] == f"bytes 1-13/{len(first.content)}"
    assert httpx.get(url, headers={"Range": "bytes=500-600"}).status_code == 416
    hidden = httpx.get(f"{base_url}/data/.hidden/x.json", headers={"If-None-Match": etag, "Range": "bytes=0-1"})
    assert hidden.status_code == 404  # the blocking rules come before any of it


def test_head_and_options(base_url):
    head = httpx.head(f"{base_url}/data/api/latest.json")
    assert head.status_code == 200
    assert head.content == b""
    assert int(head.headers["content-length"]) == len('{"coin_count": 3}\n')

    options = httpx.options(f"{base_url}/data/api/latest.json")
    assert options.status_code == 204
    assert "GET" in options.headers["allow"]
    assert options.headers["access-control-allow-origin"] == "*"

    preflight = httpx.options(f"{base_url}/data/api/latest.json",
                              headers={"Origin": "https://www.staktrakr.com", "Access-Control-Request-Method": "GET"})
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == "*"

    cross_origin = httpx.get(f"{base_url}/data/api/latest.json", headers={"Origin": "https://www.staktrakr.com"})
    assert cross_origin.headers["access-control-allow-origin"] == "*"


@pytest.mark.parametrize("target", [
    "/.git/config",
    "/prices.db",
    "/data/prices.db",
    "/data/cache.SQLITE",
    "/data/.hidden/x.json",
    "/data/escape.json",                      # symlink out of data/
    "/data/../.git/config",
    "/data/../prices.db",
    "/data/api/../../.git/config",
    "/data/%2e%2e/.git/config",               # encoded dots
    "/data/%2E%2E/%2E%2E/etc/passwd",
    "/data/..%2f.git%2fconfig",               # encoded slash
    "/data/%252e%252e/.git/config",           # double-encoded
    "/data/%252e%252e%252f.git%252fconfig",
    "/data/.git/config",
    "/data//etc/passwd",
    "/data/%2fetc%2fpasswd",
    "/data/..\\.git\\config",
    "/data/api/latest.json%00.db",
    "/data/backup.json",
    "/data/",
    "/data/api",
])
def test_never_serves_outside_data_or_secrets(base_url, target):
    status, body = raw_request(base_url, target)
    assert status in (400, 404), (target, status)
    assert SECRET_MARKER not in body


@pytest.mark.parametrize("target", ["/data/%E0", "/data/%", "/data/%zz", "/data/%C0%AE%C0%AE/.git/config",
                                    "/%E0%A4%A", "/data/api/%FF%FE"])
def test_malformed_escapes_do_not_crash(base_url, target):
    status, body = raw_request(base_url, target)
    assert status in (400, 404)
    assert SECRET_MARKER not in body
    assert httpx.get(f"{base_url}/data/api/latest.json").status_code == 200  # still serving


def test_other_methods_refused(base_url):
    assert httpx.post(f"{base_url}/data/api/latest.json").status_code == 405
    assert httpx.delete(f"{base_url}/data/api/latest.json").status_code == 405


def test_serve_command_runs_uvicorn(tmp_path):
    export = tmp_path / "export"
    (export / "data" / "api").mkdir(parents=True)
    (export / "data" / "api" / "latest.json").write_text('{"ok": true}')
    port = free_port()
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "STAKTRAKR_VAR_DIR": str(tmp_path / "var"),
           "API_EXPORT_DIR": str(export), "STAKTRAKR_ENV_FILE": str(tmp_path / "none.env"),
           "STAKTRAKR_LOG_FORMAT": "json"}
    process = subprocess.Popen([sys.executable, "-m", "staktrakr", "serve", "--host", "127.0.0.1", "--port", str(port)],
                               env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/data/api/latest.json", timeout=2)
                break
            except httpx.TransportError:
                assert process.poll() is None, process.stdout.read().decode()
                assert time.monotonic() < deadline, "serve did not start"
                time.sleep(0.1)
        assert response.json() == {"ok": True}
        assert httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 503  # empty database
        # a second serve on the same port: one line naming host:port, exit 1 (3 is status's "stale")
        busy = subprocess.run([sys.executable, "-m", "staktrakr", "serve", "--host", "127.0.0.1", "--port", str(port)],
                              env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60)
        assert busy.returncode == 1, (busy.returncode, busy.stdout, busy.stderr)
        lines = [line for line in busy.stderr.splitlines() if line.strip()]
        assert len(lines) == 1 and f"cannot listen on 127.0.0.1:{port}" in lines[0], lines
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=30)
    assert b'"logger":"uvicorn.access"' in output  # access log through our JSON logging


# health ------------------------------------------------------------------------------------

def test_healthz_ok_when_every_feed_is_fresh(settings, export_dir, base_url):
    with Store.open(settings) as store:
        seed_feeds(store, export_dir, now_utc())
    response = httpx.get(f"{base_url}/healthz")
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["status"] == "ok"
    assert set(report["feeds"]) == {"retail", "spot", "goldback", "publish"}
    assert all(not feed["stale"] for feed in report["feeds"].values())
    assert response.headers["cache-control"] == "no-store"


@pytest.mark.parametrize("stale_feed", ["retail", "spot", "goldback", "publish"])
def test_healthz_503_when_a_feed_is_stale(settings, export_dir, base_url, stale_feed):
    now = now_utc()
    ages = {
        "retail_age": timedelta(hours=3) if stale_feed == "retail" else timedelta(0),
        "spot_age": timedelta(hours=2) if stale_feed == "spot" else timedelta(0),
        "goldback_date": (now - timedelta(days=6)).strftime("%Y-%m-%d") if stale_feed == "goldback" else None,
        "publish_age": timedelta(hours=1) if stale_feed == "publish" else timedelta(0),
    }
    with Store.open(settings) as store:
        seed_feeds(store, export_dir, now, **ages)
    response = httpx.get(f"{base_url}/healthz")
    assert response.status_code == 503
    report = response.json()
    assert report["status"] == "stale"
    assert [name for name, feed in report["feeds"].items() if feed["stale"]] == [stale_feed]


def test_healthz_503_on_empty_database(base_url):
    response = httpx.get(f"{base_url}/healthz")
    assert response.status_code == 503
    assert response.json()["database"]["reachable"] is True


def test_livez_stays_200_while_healthz_says_stale(base_url):
    """Fly routes on /livez: a stale feed must not take the API, the trigger and /metrics offline."""
    assert httpx.get(f"{base_url}/healthz").status_code == 503
    live = httpx.get(f"{base_url}/livez")
    assert live.status_code == 200 and live.json()["status"] == "alive"
    assert live.headers["cache-control"] == "no-store"


def test_database_down_reported_not_crashing(make_settings, export_dir):
    dead = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    settings = make_settings(api_export_dir=export_dir, turso_database_url=dead)
    with running_server(create_app(settings)) as url:
        health = httpx.get(f"{url}/healthz")
        assert health.status_code == 503
        assert health.json()["status"] == "degraded"
        assert health.json()["database"]["reachable"] is False
        metrics = httpx.get(f"{url}/metrics")
        assert metrics.status_code == 200
        samples = _samples(metrics.text)
        assert samples[("staktrakr_database_up", ())] == 0.0
        assert httpx.get(f"{url}/data/api/latest.json").status_code == 200


def test_healthz_follows_a_real_libsql_outage(libsql_server, make_settings, export_dir):
    settings = make_settings(api_export_dir=export_dir, turso_database_url=libsql_server.url)
    with Store.open(settings) as store:
        seed_feeds(store, export_dir, now_utc())
    with running_server(create_app(settings)) as url:
        assert httpx.get(f"{url}/healthz").status_code == 200
        libsql_server.stop()
        down = httpx.get(f"{url}/healthz", timeout=60)
        assert down.status_code == 503
        assert down.json()["database"]["reachable"] is False
        libsql_server.start()
        assert httpx.get(f"{url}/healthz", timeout=60).status_code == 200


# metrics -----------------------------------------------------------------------------------

def _samples(text: str) -> dict[tuple[str, tuple], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def test_metrics_parse_with_help_and_type(settings, export_dir, base_url):
    now = now_utc()
    with Store.open(settings) as store:
        seed_feeds(store, export_dir, now)
        seed_runs_and_failures(store, now)
    response = httpx.get(f"{base_url}/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    families = {family.name: family for family in text_string_to_metric_families(response.text)}
    for name in ("staktrakr_job_last_run_timestamp_seconds", "staktrakr_job_last_run_duration_seconds",
                 "staktrakr_job_last_run_captured", "staktrakr_job_last_run_failures",
                 "staktrakr_feed_age_seconds", "staktrakr_vendor_failures", "staktrakr_database_up",
                 "staktrakr_build_info"):
        assert families[name].type == "gauge"
        assert families[name].documentation
        assert f"# HELP {name} " in response.text and f"# TYPE {name} gauge" in response.text

    samples = _samples(response.text)
    scrape = (("job_name", "scrape"), ("poller", "api"))
    assert samples[("staktrakr_job_last_run_captured", scrape)] == 37
    assert samples[("staktrakr_job_last_run_targets", scrape)] == 40
    assert samples[("staktrakr_job_last_run_failures", scrape)] == 3
    assert samples[("staktrakr_job_last_run_duration_seconds", scrape)] == pytest.approx(95, abs=0.01)
    assert samples[("staktrakr_job_last_run_success", scrape)] == 1
    assert samples[("staktrakr_job_last_run_success", (("job_name", "spot"), ("poller", "api")))] == 0
    # both timestamp shapes counted, the boundary-day row inside 7 days in, the 7d+1h row out
    assert samples[("staktrakr_vendor_failures", (("vendor", "apmex"), ("window", "7d")))] == 3
    assert ("staktrakr_vendor_failures", (("vendor", "jmbullion"), ("window", "7d"))) not in samples
    assert not any(("job", value) in labels for (_, labels) in samples for value in ("scrape", "spot"))
    assert samples[("staktrakr_build_info", (("python", platform.python_version()), ("version", __version__)))] == 1
    assert samples[("staktrakr_feed_stale", (("feed", "spot"),))] == 0
    assert samples[("staktrakr_feed_age_seconds", (("feed", "retail"),))] < 15 * 60 + 60
    assert samples[("staktrakr_database_up", ())] == 1


def test_metric_names_follow_prometheus_conventions(settings, export_dir, base_url, tmp_path):
    """`promtool check metrics` when promtool is on PATH; always: snake_case names with the staktrakr_
    prefix, no window or unit-less counter suffix in a name, base units (seconds), HELP on every family."""
    now = now_utc()
    with Store.open(settings) as store:
        seed_feeds(store, export_dir, now)
        seed_runs_and_failures(store, now)
    text = httpx.get(f"{base_url}/metrics").text
    promtool = shutil.which("promtool")
    if promtool:
        checked = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True, text=True, check=False)
        assert checked.returncode == 0, checked.stdout + checked.stderr
    for family in text_string_to_metric_families(text):
        if family.name.startswith(("python_", "process_")):
            continue
        assert re.fullmatch(r"staktrakr_[a-z][a-z0-9_]*", family.name), family.name
        assert not re.search(r"_\d+[smhdw]\b|_\d+[smhdw]_", family.name), family.name  # no window in a name
        assert not re.search(r"_(ms|milliseconds|minutes|hours|days)$", family.name), family.name
        assert family.type != "counter" and not family.name.endswith("_total")  # gauges read from the database
        assert family.documentation, family.name
        for sample in family.samples:
            assert "job" not in sample.labels, sample  # Prometheus owns `job`


def test_metrics_reads_are_cached(settings, export_dir, base_url):
    """Prometheus scraping often must not mean a database read per scrape."""
    with Store.open(settings) as store:
        seed_feeds(store, export_dir, now_utc())
        first = _samples(httpx.get(f"{base_url}/metrics").text)
        seed_runs_and_failures(store, now_utc())
    second = _samples(httpx.get(f"{base_url}/metrics").text)
    assert not any(name == "staktrakr_vendor_failures" for name, _ in first)
    assert not any(name == "staktrakr_vendor_failures" for name, _ in second)  # same cached snapshot


# trigger -----------------------------------------------------------------------------------

@pytest.fixture
def sleep_job(monkeypatch, tmp_path):
    """Enable the test-only `sleep` job (STAKTRAKR_CRON_TEST_JOBS) for the trigger; it runs
    until the returned gate file exists (at most 60 s)."""
    gate = tmp_path / "gate"
    monkeypatch.setenv("STAKTRAKR_CRON_TEST_JOBS", "1")
    monkeypatch.setenv("STAKTRAKR_TEST_SLEEP_S", "60")
    monkeypatch.setenv("STAKTRAKR_TEST_GATE", str(gate))
    return gate


def _trigger(base_url, job, token=None, scheme="Bearer"):
    headers = {"Authorization": f"{scheme} {token}"} if token is not None else {}
    return httpx.post(f"{base_url}/api/ops/trigger/{job}", headers=headers, timeout=30)


def test_trigger_requires_the_token(base_url, sleep_job):
    missing = _trigger(base_url, "sleep")
    assert missing.status_code == 401
    assert missing.headers["www-authenticate"] == "Bearer"
    assert _trigger(base_url, "sleep", TOKEN, scheme="Basic").status_code == 401
    assert _trigger(base_url, "sleep", "wrong-token").status_code == 403
    assert _trigger(base_url, "sleep", TOKEN[:-1]).status_code == 403
    assert _trigger(base_url, "db", None).status_code == 401  # auth is checked before the job name
    assert _trigger(base_url, "db", TOKEN).status_code == 404  # not in the allowlist
    assert _trigger(base_url, "no-such-job", TOKEN).status_code == 404
    assert httpx.get(f"{base_url}/api/ops/trigger/sleep").status_code == 405


def test_trigger_disabled_without_configured_token(make_settings, export_dir, sleep_job):
    settings = make_settings(api_export_dir=export_dir)
    with running_server(create_app(settings)) as url:
        assert _trigger(url, "sleep", "anything").status_code == 403
        assert _trigger(url, "sleep").status_code == 401


def test_concurrent_triggers_one_runs_one_conflicts(settings, sleep_job):
    app = create_app(settings)
    with running_server(app) as url:
        barrier = threading.Barrier(2)
        statuses = []

        def fire():
            barrier.wait()
            statuses.append(_trigger(url, "sleep", TOKEN).status_code)

        threads = [threading.Thread(target=fire) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        assert sorted(statuses) == [202, 409]
        assert _trigger(url, "sleep", TOKEN).status_code == 409  # still running
        sleep_job.touch()
        app.state.ops.trigger.wait(30)
        again = _trigger(url, "sleep", TOKEN)  # the lock was released when the job ended
        assert again.status_code == 202
        assert again.json()["job"] == "sleep"
        app.state.ops.trigger.wait(30)


def test_trigger_shares_the_cron_lock(settings, sleep_job):
    """A job cron is running (lock held) cannot be triggered, and vice versa."""
    app = create_app(settings)
    with running_server(app) as url:
        cron_lock = job_lock(settings.lock_dir, "sleep")
        cron_lock.acquire()
        try:
            assert _trigger(url, "sleep", TOKEN).status_code == 409
        finally:
            cron_lock.release()
        assert _trigger(url, "sleep", TOKEN).status_code == 202
        held = job_lock(settings.lock_dir, "sleep")
        with pytest.raises(Timeout):
            held.acquire()  # the triggered run holds it now
        sleep_job.touch()
        app.state.ops.trigger.wait(30)
        held.acquire()
        held.release()
