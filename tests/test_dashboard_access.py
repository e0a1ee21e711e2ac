"""Who may open the dashboard: off (403) without DASHBOARD_TOKEN; login form -> signed HttpOnly
SameSite=Strict cookie; bearer token for scripts; wrong or tampered credentials 401; logout; CSP
on the pages; hashed static assets with ETag and 304."""

from __future__ import annotations

import re

import httpx
import pytest

from staktrakr.ops.dashboard.access import SESSION_COOKIE
from staktrakr.ops.server import create_app
from tests.ops_fixtures import raw_request, running_server

TOKEN = "dashboard-token-for-tests-0123456789"


@pytest.fixture
def base_url(make_settings, tmp_path):
    settings = make_settings(api_export_dir=tmp_path / "export", dashboard_token=TOKEN, poller_id="api")
    with running_server(create_app(settings)) as url:
        yield url


def _login(client: httpx.Client, token: str) -> httpx.Response:
    return client.post("/dashboard/login", data={"token": token})


def test_disabled_without_token(make_settings, tmp_path):
    settings = make_settings(api_export_dir=tmp_path / "export")
    with running_server(create_app(settings)) as url:
        api = httpx.get(f"{url}/api/dashboard", headers={"Authorization": "Bearer anything"})
        page = httpx.get(f"{url}/dashboard")
        login = httpx.post(f"{url}/dashboard/login", data={"token": ""})
    assert api.status_code == 403
    assert "DASHBOARD_TOKEN is not set" in api.json()["error"]
    assert page.status_code == 403 and "DASHBOARD_TOKEN is not set" in page.text
    assert login.status_code == 403 and SESSION_COOKIE not in login.headers.get("set-cookie", "")
    assert 'name="token"' not in page.text  # no login form when there is nothing to log in with


def test_logged_out_requests_are_refused(base_url):
    api = httpx.get(f"{base_url}/api/dashboard")
    assert api.status_code == 401 and api.headers["www-authenticate"] == "Bearer"
    assert "/dashboard/login" in api.json()["error"]
    page = httpx.get(f"{base_url}/dashboard")
    assert page.status_code == 401
    assert 'action="/dashboard/login"' in page.text and "dashboard.js" not in page.text


def test_bearer_token(base_url):
    right = httpx.get(f"{base_url}/api/dashboard", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30)
    assert right.status_code == 200 and right.json()["poller"] == "api"
    for wrong in (TOKEN[:-1], TOKEN + "x", "x" * len(TOKEN), "-"):
        refused = httpx.get(f"{base_url}/api/dashboard", headers={"Authorization": f"Bearer {wrong}"})
        assert refused.status_code == 401, wrong
        assert TOKEN not in refused.text


def test_login_cookie_and_logout(base_url):
    with httpx.Client(base_url=base_url, timeout=30) as client:
        wrong = _login(client, "not-the-token")
        assert wrong.status_code == 401 and "Wrong token" in wrong.text
        assert SESSION_COOKIE not in client.cookies

        login = _login(client, TOKEN)
        assert login.status_code == 303 and login.headers["location"] == "/dashboard"
        cookie = login.headers["set-cookie"]
        assert cookie.startswith(f"{SESSION_COOKIE}=")
        assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/" in cookie
        assert TOKEN not in cookie  # signed session value, never the token itself
        assert "Secure" not in cookie  # plain http on 127.0.0.1; behind https it is set

        page = client.get("/dashboard")
        assert page.status_code == 200 and "dashboard.js" in page.text
        assert client.get("/api/dashboard").status_code == 200

        logout = client.post("/dashboard/logout")
        assert logout.status_code == 303 and logout.headers["location"] == "/dashboard/login"
        assert f'{SESSION_COOKIE}=""' in logout.headers["set-cookie"] or "Max-Age=0" in logout.headers["set-cookie"]
        assert SESSION_COOKIE not in client.cookies
        assert client.get("/api/dashboard").status_code == 401


def test_logout_revokes_the_cookie_and_get_offers_the_button(base_url):
    with httpx.Client(base_url=base_url, timeout=30) as client:
        value = _login(client, TOKEN).cookies[SESSION_COOKIE]
        other = httpx.post(f"{base_url}/dashboard/login", data={"token": TOKEN}).cookies[SESSION_COOKIE]
        assert value != other  # each login its own id
        form = client.get("/dashboard/logout")
        assert form.status_code == 200 and 'action="/dashboard/logout"' in form.text
        assert client.get("/api/dashboard").status_code == 200  # a GET does not log out
        client.post("/dashboard/logout")
    # the old cookie, copied before logging out, is refused; another browser's login is not
    assert httpx.get(f"{base_url}/api/dashboard", cookies={SESSION_COOKIE: value}).status_code == 401
    assert httpx.get(f"{base_url}/api/dashboard", cookies={SESSION_COOKIE: other}, timeout=30).status_code == 200


def test_failed_logins_are_limited_per_client(base_url):
    with httpx.Client(base_url=base_url, timeout=30) as client:
        for _ in range(10):
            assert _login(client, "wrong-guess").status_code == 401
        limited = _login(client, TOKEN)  # even the right token waits: guessing stays hopeless
        assert limited.status_code == 429 and 0 < int(limited.headers["retry-after"]) <= 60
        assert "too many failed logins" in limited.text
        bearer = client.get("/api/dashboard", headers={"Authorization": f"Bearer {TOKEN}"})
        assert bearer.status_code == 429 and "retry-after" in bearer.headers


def test_tampered_or_foreign_cookie(base_url, make_settings, tmp_path):
    with httpx.Client(base_url=base_url, timeout=30) as client:
        value = _login(client, TOKEN).cookies[SESSION_COOKIE]
    tampered = value.replace("operator", "operatos")
    assert httpx.get(f"{base_url}/api/dashboard", cookies={SESSION_COOKIE: tampered}).status_code == 401
    assert httpx.get(f"{base_url}/api/dashboard", cookies={SESSION_COOKIE: value}, timeout=30).status_code == 200
    # a cookie signed under another token (the token was rotated) is refused
    other = make_settings(api_export_dir=tmp_path / "export2", dashboard_token="another-token-0123456789")
    with running_server(create_app(other)) as other_url:
        assert httpx.get(f"{other_url}/api/dashboard", cookies={SESSION_COOKIE: value}).status_code == 401


def test_content_security_policy(base_url):
    page = httpx.get(f"{base_url}/dashboard", headers={"Authorization": f"Bearer {TOKEN}"})
    assert page.status_code == 200
    policy = page.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "script-src 'self'" in policy and "connect-src 'self'" in policy
    assert "unsafe-inline" not in policy and "http" not in policy
    assert page.headers["cache-control"] == "no-store"
    assert not re.search(r"<script>|<script(?![^>]*\bsrc=)|<style|\sstyle=|\son[a-z]+=", page.text)
    assert not re.search(r"(src|href)=\"(https?:)?//", page.text)
    login = httpx.get(f"{base_url}/dashboard/login")
    assert login.headers["content-security-policy"] == policy


def test_static_assets_hashed_with_etag(base_url):
    page = httpx.get(f"{base_url}/dashboard", headers={"Authorization": f"Bearer {TOKEN}"}).text
    links = re.findall(r'(?:src|href)="(/dashboard/static/[^"]+\?v=[0-9a-f]{16})"', page)
    assert {link.split("?")[0].rsplit("/", 1)[1] for link in links} == {
        "uPlot.min.css", "dashboard.css", "uPlot.iife.min.js", "dashboard.js", "favicon.svg"}
    script = next(link for link in links if "dashboard.js" in link)
    first = httpx.get(f"{base_url}{script}")
    assert first.status_code == 200 and "immutable" in first.headers["cache-control"]
    assert first.headers["content-type"].startswith(("text/javascript", "application/javascript"))
    etag = first.headers["etag"]
    again = httpx.get(f"{base_url}{script}", headers={"If-None-Match": etag})
    assert again.status_code == 304
    stale_link = httpx.get(f"{base_url}{script.split('?')[0]}?v=0000000000000000")
    assert stale_link.status_code == 200 and stale_link.headers["cache-control"] == "no-cache"
    assert httpx.get(f"{base_url}/dashboard/static/uPlot.LICENSE.txt").text.startswith("The MIT License")
    for target in ("/dashboard/static/../routes.py", "/dashboard/static/%2e%2e/routes.py"):
        assert raw_request(base_url, target)[0] == 404, target
