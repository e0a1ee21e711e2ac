"""The dashboard's routes: the page, its login and logout, `GET /api/dashboard` and the static assets.

The page is a fixed HTML shell plus the package's own script (static/dashboard.js), which builds
every panel from /api/dashboard and fetches it again every 60 s. Assets are linked with their
content hash (`?v=`), so they are cached for a year and revalidated by ETag otherwise.
"""

from __future__ import annotations

import hashlib
import html
import re
import threading
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from staktrakr.ops.dashboard.access import PAGE_HEADERS, SESSION_COOKIE, SESSION_MAX_AGE_S, DashboardAccess
from staktrakr.ops.dashboard.cache import DashboardCache
from staktrakr.ops.dashboard.data import build_dashboard
from staktrakr.ops.dashboard.fleet_health import FleetHealth
from staktrakr.settings import Settings
from staktrakr.store import Store
from staktrakr.timeutil import utcnow

PACKAGE_DIR = Path(__file__).parent
STATIC_DIR = PACKAGE_DIR / "static"
TEMPLATE_DIR = PACKAGE_DIR / "templates"
STATIC_PREFIX = "/dashboard/static"
IMMUTABLE = "public, max-age=31536000, immutable"
MAX_FORM_BYTES = 4096


def asset_hashes(folder: Path = STATIC_DIR) -> dict[str, str]:
    """file name -> first 16 hex digits of its SHA-256, for cache-busting links."""
    return {path.name: hashlib.sha256(path.read_bytes()).hexdigest()[:16]
            for path in sorted(folder.iterdir()) if path.is_file()}


class HashedStaticFiles(StaticFiles):
    """Starlette's StaticFiles (ETag, Last-Modified, 304, HEAD) plus Cache-Control: immutable for a
    link carrying the file's current hash, revalidation otherwise."""

    def __init__(self, directory: Path, hashes: dict[str, str]) -> None:
        super().__init__(directory=directory)
        self.hashes = hashes

    def file_response(self, full_path: Any, stat_result: Any, scope: Scope, status_code: int = 200) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        version = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("v", [""])[0]
        current = self.hashes.get(Path(str(full_path)).name)
        response.headers["Cache-Control"] = IMMUTABLE if current and version == current else "no-cache"
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response


SMALL_PAGE = re.compile(r"\{\{page: ([^}]+)\}\}\n")


def render_template(name: str, hashes: dict[str, str], **values: str) -> str:
    """templates/`name` with `{{asset:FILE}}` replaced by the hashed static link and `{{key}}` by
    the HTML-escaped value; a template starting with `{{page: TITLE}}` is the body of
    small_page.html (the login, logout and "off" pages)."""
    text = (TEMPLATE_DIR / name).read_text(encoding="utf-8")
    page = SMALL_PAGE.match(text)
    if page is not None:  # "{{page: TITLE}}" then the body: the small pages share small_page.html's frame
        frame = (TEMPLATE_DIR / "small_page.html").read_text(encoding="utf-8")
        body = text[page.end():].rstrip("\n")
        text = frame.replace("{{title}}", html.escape(page.group(1))).replace("{{body}}", body)
    for file_name, digest in hashes.items():
        text = text.replace("{{asset:" + file_name + "}}", f"{STATIC_PREFIX}/{file_name}?v={digest}")
    for key, value in values.items():
        text = text.replace("{{" + key + "}}", html.escape(value))
    return text


class Dashboard:
    """Handlers sharing the server's settings, Store and database lock."""

    def __init__(self, settings: Settings, store: Store, db_lock: threading.Lock) -> None:
        self.settings = settings
        self.store = store
        self.db_lock = db_lock
        self.access = DashboardAccess(settings)
        self.fleet_health = FleetHealth(settings.fleet_health_urls)
        self.cache = DashboardCache()
        self.hashes = asset_hashes()
        self.page_html = render_template("dashboard.html", self.hashes, poller=settings.poller_id)

    def _login_page(self, message: str, status_code: int, retry_after_s: int = 0) -> HTMLResponse:
        template = "disabled.html" if status_code == 403 else "login.html"  # no form when there is no token
        body = render_template(template, self.hashes, message=message, poller=self.settings.poller_id)
        headers = {**PAGE_HEADERS, **({"Retry-After": str(retry_after_s)} if retry_after_s else {})}
        return HTMLResponse(body, status_code=status_code, headers=headers)

    async def page(self, request: Request) -> Response:
        verdict = self.access.verdict(request)
        if verdict.allowed:
            return HTMLResponse(self.page_html, headers=PAGE_HEADERS)
        if verdict.status_code in (403, 429):
            return self._login_page(verdict.reason, verdict.status_code, verdict.retry_after_s)
        return self._login_page("Enter the dashboard token (DASHBOARD_TOKEN) of this host.", 401)

    async def login_form(self, request: Request) -> Response:
        if not self.access.enabled:
            return self._login_page(self.access.verdict(request).reason, 403)
        return self._login_page("Enter the dashboard token (DASHBOARD_TOKEN) of this host.", 200)

    async def login(self, request: Request) -> Response:
        if not self.access.enabled:
            return self._login_page(self.access.verdict(request).reason, 403)
        refused = self.access.too_many_failures(request)
        if refused is not None:
            return self._login_page(refused.reason, 429, refused.retry_after_s)
        body = b""
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_FORM_BYTES:
                return self._login_page("The form is too large.", 413)
        token = parse_qs(body.decode("utf-8", "replace")).get("token", [""])[0]
        if not self.access.try_token(request, token).allowed:
            return self._login_page("Wrong token.", 401)
        response = RedirectResponse("/dashboard", status_code=303)
        response.set_cookie(SESSION_COOKIE, self.access.session_cookie(), max_age=SESSION_MAX_AGE_S, path="/",
                            httponly=True, samesite="strict", secure=request.url.scheme == "https")
        return response

    async def logout_form(self, request: Request) -> Response:
        """GET /dashboard/logout: a page with the logout button (logging out is a POST, which a
        SameSite=Strict cookie keeps from other sites)."""
        body = render_template("logout.html", self.hashes, poller=self.settings.poller_id)
        return HTMLResponse(body, headers=PAGE_HEADERS)

    async def logout(self, request: Request) -> Response:
        self.access.revoke(request.cookies.get(SESSION_COOKIE))
        response = RedirectResponse("/dashboard/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict",
                               secure=request.url.scheme == "https")
        return response

    async def api(self, request: Request) -> Response:
        verdict = self.access.verdict(request)
        if not verdict.allowed:
            headers = {"WWW-Authenticate": "Bearer"} if verdict.status_code == 401 else {}
            if verdict.retry_after_s:
                headers["Retry-After"] = str(verdict.retry_after_s)
            return JSONResponse({"error": verdict.reason}, status_code=verdict.status_code,
                                headers={**headers, "Cache-Control": "no-store"})

        def _build() -> dict[str, Any]:
            with self.db_lock:
                return build_dashboard(self.settings, self.store, utcnow(), self.cache)

        data = await run_in_threadpool(_build)
        data["fleet"]["health"] = await self.fleet_health.current()
        return JSONResponse(data, headers={"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"})


def dashboard_routes(settings: Settings, store: Store, db_lock: threading.Lock) -> list[BaseRoute]:
    """The routes `staktrakr serve` mounts: /dashboard, /dashboard/login, /dashboard/logout,
    /dashboard/static/*, /api/dashboard."""
    dashboard = Dashboard(settings, store, db_lock)
    return [
        Route("/dashboard", dashboard.page, methods=["GET"]),
        Route("/dashboard/login", dashboard.login_form, methods=["GET"]),
        Route("/dashboard/login", dashboard.login, methods=["POST"]),
        Route("/dashboard/logout", dashboard.logout_form, methods=["GET"]),
        Route("/dashboard/logout", dashboard.logout, methods=["POST"]),
        Route("/api/dashboard", dashboard.api, methods=["GET"]),
        Mount(STATIC_PREFIX, app=HashedStaticFiles(STATIC_DIR, dashboard.hashes)),
    ]
