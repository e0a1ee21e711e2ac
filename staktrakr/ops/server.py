"""`staktrakr serve`: the published files, health, metrics and the authorized job trigger.

Replaces serve.js, which served the whole checkout (`.git/`, `prices.db`) and could be crashed
by a malformed URL. `/livez` says only "the process answers" (Fly's routing check); `/healthz`
is the freshness verdict for monitoring (503 when a feed is stale or the database is down).
Only regular files under `API_EXPORT_DIR/data/` are served (Starlette's StaticFiles, subclassed
in `DataFiles`: ETag/304, Range); dot-files, database files, traversal and symlinks out of the
tree are 404. The database is read through
one Store behind a lock; a database that is down shows in /healthz and /metrics, never as a
crashed server.
"""

from __future__ import annotations

import hmac
import os
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from prometheus_client import generate_latest
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import PathLike, StaticFiles
from starlette.types import Scope

from staktrakr.ops.dashboard.routes import dashboard_routes
from staktrakr.ops.health import read_freshness
from staktrakr.ops.metrics import build_registry, snapshot_reader
from staktrakr.ops.trigger import AlreadyRunning, JobTrigger, ShuttingDown, UnknownJob
from staktrakr.settings import Settings
from staktrakr.store import Store
from staktrakr.timeutil import utcnow

DATA_CACHE_CONTROL = "public, max-age=300"  # publish runs every 15 min; 5 min keeps clients close
NO_STORE = "no-store"
DENIED_SUFFIXES = (".db", ".sqlite", ".sqlite3", ".db-wal", ".db-shm", ".db-journal", ".lock", ".tmp")
DATA_METHODS = "GET, HEAD, OPTIONS"
# After a database timeout, /healthz and /metrics answer "down" at once for this long instead of
# each waiting out another timeout; short, so a database that is back shows within seconds.
DATABASE_RETRY_AFTER_TIMEOUT_S = 5.0


SQLITE_MAGIC = b"SQLite format 3\x00"  # the first 16 bytes of every SQLite database (sqlite.org/fileformat.html)


def resolve_data_file(root: Path, url_path: str) -> Path | None:
    """The file under `root` that `url_path` names, or None when it is missing or not servable.

    Refuses empty, `.` and `..` segments, dot-files (`.git`), database and temp files (by name,
    and a SQLite database under any name, by its 16-byte header), backslashes and NULs, and
    anything that resolves (through symlinks) outside `root`.
    """
    parts = url_path.split("/")
    if any(_bad_segment(part) for part in parts):
        return None
    try:
        real_root = root.resolve(strict=True)
        resolved = real_root.joinpath(*parts).resolve(strict=True)
    except (OSError, ValueError, RuntimeError):
        return None
    if not resolved.is_relative_to(real_root) or not resolved.is_file():
        return None
    if any(_bad_segment(part) for part in resolved.relative_to(real_root).parts):
        return None
    try:
        with resolved.open("rb") as handle:
            if handle.read(len(SQLITE_MAGIC)) == SQLITE_MAGIC:  # a database saved under another name
                return None
    except OSError:
        return None
    return resolved


def _bad_segment(part: str) -> bool:
    return (
        part in ("", ".", "..")
        or part.startswith(".")
        or "\\" in part
        or "\x00" in part
        or part.lower().endswith(DENIED_SUFFIXES)
    )


class DataFiles(StaticFiles):
    """Starlette's StaticFiles (ETag and Last-Modified with 304, Range requests, HEAD) over
    `API_EXPORT_DIR/data/`, with our rules: only what `resolve_data_file` allows, CORS for every
    origin, `Cache-Control` on each file, OPTIONS answered, 404 as one plain line."""

    def __init__(self, root: Path) -> None:
        super().__init__(directory=root, check_dir=False)
        self.root = root

    async def check_config(self) -> None:
        return None  # data/ appears with the first publish; until then every path is a 404

    def get_path(self, scope: Scope) -> str:
        # the raw path below /data/: the parent normalises `..` away, and resolve_data_file refuses it
        # Starlette keeps the full path in `path` and the mount point in `root_path`
        path, mount = str(scope["path"]), str(scope.get("root_path", ""))
        return (path[len(mount):] if mount and path.startswith(mount) else path).removeprefix("/")

    def lookup_path(self, path: str) -> tuple[str, os.stat_result | None]:
        resolved = resolve_data_file(self.root, path)
        return ("", None) if resolved is None else (str(resolved), resolved.stat())

    async def get_response(self, path: str, scope: Scope) -> Response:
        cors = {"Access-Control-Allow-Origin": "*"}
        if scope["method"] == "OPTIONS":
            return Response(status_code=204, headers={**cors, "Allow": DATA_METHODS,
                                                      "Access-Control-Allow-Methods": DATA_METHODS})
        try:
            return await super().get_response(path, scope)
        except HTTPException as exc:
            if exc.status_code == 405:
                return PlainTextResponse("method not allowed\n", status_code=405,
                                         headers={**cors, "Allow": DATA_METHODS})
            if exc.status_code in (401, 404):
                return PlainTextResponse("not found\n", status_code=404, headers=cors)
            raise

    def file_response(self, full_path: PathLike, stat_result: os.stat_result, scope: Scope,
                      status_code: int = 200) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        response.headers["Access-Control-Allow-Origin"] = "*"
        response.headers["Cache-Control"] = DATA_CACHE_CONTROL
        return response


class OpsServer:
    """The routes' state: settings, the shared Store (behind a lock), the trigger, the registry."""

    def __init__(self, settings: Settings, store: Store | None = None) -> None:
        self.settings = settings
        self.store = store or Store.open(settings, retry_after_timeout_s=DATABASE_RETRY_AFTER_TIMEOUT_S)
        self.db_lock = threading.Lock()
        self.trigger = JobTrigger(settings.lock_dir, settings.poller_id, settings.var_dir / "run")
        self.registry = build_registry(snapshot_reader(self.store, settings, self.db_lock))
        self.data_root = settings.export_dir / "data"

    async def livez(self, request: Request) -> Response:
        """The process is up and serving (Fly's routing check): no database, no feed ages, so a
        stale feed never takes the API, the trigger and /metrics off the network."""
        return JSONResponse({"status": "alive", "poller": self.settings.poller_id}, headers={"Cache-Control": NO_STORE})

    async def healthz(self, request: Request) -> Response:
        def _read() -> dict[str, Any]:
            with self.db_lock:
                return read_freshness(self.store, self.settings, utcnow()).as_dict()

        report = await run_in_threadpool(_read)
        report["poller"] = self.settings.poller_id
        status_code = 200 if report["status"] == "ok" else 503
        return JSONResponse(report, status_code=status_code, headers={"Cache-Control": NO_STORE})

    async def metrics(self, request: Request) -> Response:
        body = await run_in_threadpool(generate_latest, self.registry)
        return Response(body, media_type=CONTENT_TYPE_PLAIN_0_0_4, headers={"Cache-Control": NO_STORE})

    async def trigger_job(self, request: Request) -> Response:
        refusal = self._check_token(request.headers.get("authorization"))
        if refusal is not None:
            return refusal
        job = request.path_params["job"]
        try:
            started = self.trigger.start(job)
        except UnknownJob:
            return _error(404, f"unknown job {job!r}")
        except AlreadyRunning:
            return _error(409, f"{job} is already running on {self.settings.poller_id}")
        except ShuttingDown:
            return _error(503, f"serve on {self.settings.poller_id} is stopping: no job starts now")
        return JSONResponse({"job": started.job, "status": "started", "started_at": started.started_at,
                             "poller": self.settings.poller_id}, status_code=202)

    def _check_token(self, header: str | None) -> Response | None:
        """401 without a bearer token, 403 with a wrong one (or when no token is configured)."""
        if not header or not header.lower().startswith("bearer "):
            return _error(401, "missing bearer token", {"WWW-Authenticate": "Bearer"})
        expected = self.settings.ops_trigger_token
        if expected is None or not expected.get_secret_value():
            return _error(403, "trigger disabled: OPS_TRIGGER_TOKEN is not set on this host")
        given = header[len("bearer "):].strip()
        if not hmac.compare_digest(given.encode("utf-8"), expected.get_secret_value().encode("utf-8")):
            return _error(403, "wrong token")
        return None

    async def index(self, request: Request) -> Response:
        return JSONResponse({"service": "staktrakr", "poller": self.settings.poller_id,
                             "data": "/data/", "live": "/livez", "health": "/healthz", "metrics": "/metrics"})


def _error(status_code: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status_code, headers=headers)


def create_app(settings: Settings, store: Store | None = None) -> Starlette:
    """The ASGI app; `store` defaults to `Store.open(settings)` (connects lazily, never at start)."""
    server = OpsServer(settings, store)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        await run_in_threadpool(server.trigger.stop_all)  # triggered jobs stop with serve
        server.store.close()

    routes = [
        Route("/", server.index, methods=["GET"]),
        Mount("/data", app=DataFiles(server.data_root)),
        Route("/livez", server.livez, methods=["GET"]),
        Route("/healthz", server.healthz, methods=["GET"]),
        Route("/metrics", server.metrics, methods=["GET"]),
        Route("/api/ops/trigger/{job}", server.trigger_job, methods=["POST"]),
        *dashboard_routes(settings, server.store, server.db_lock),
    ]
    middleware = [Middleware(CORSMiddleware, allow_origins=["*"], allow_methods=["GET", "HEAD", "OPTIONS"])]
    app = Starlette(routes=routes, middleware=middleware, lifespan=lifespan)
    app.state.ops = server
    return app
