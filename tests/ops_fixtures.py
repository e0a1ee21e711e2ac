"""Helpers for the ops tests: uvicorn in a thread on a free port, raw HTTP, seeded feed rows, env files."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path

import uvicorn

from staktrakr.models import GoldbackRate, PollerRun, PriceObservation, ProviderFailure, SpotPrice
from staktrakr.store import Store
from staktrakr.timeutil import iso_z, utcnow, window_start
from tests.conftest import free_port


@contextmanager
def running_server(app) -> Iterator[str]:
    """Serve `app` with a real uvicorn on 127.0.0.1 (thread); yields the base URL."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(15)


def raw_request(base_url: str, target: str, method: str = "GET") -> tuple[int, bytes]:
    """Send `target` byte-for-byte (no client-side normalisation of `..` or escapes)."""
    host, port = base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(f"{method} {target} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode("latin-1"))
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    response = b"".join(chunks)
    status = int(response.split(b" ", 2)[1])
    return status, response.partition(b"\r\n\r\n")[2]


def env_file(tmp_path: Path, content: bytes, mode: int = 0o600) -> Path:
    """`content` as the host's env file (tmp_path/staktrakr.env) with `mode` (the runner wants 0600)."""
    path = tmp_path / "staktrakr.env"
    path.write_bytes(content)
    path.chmod(mode)
    return path


def seed_feeds(store: Store, export_dir: Path, now: datetime, retail_age: timedelta = timedelta(0),
               spot_age: timedelta = timedelta(0), goldback_date: str | None = None,
               publish_age: timedelta = timedelta(0), poller: str = "api") -> None:
    """One row per feed at the given ages, and a manifest as publish writes it."""
    store.migrate()
    retail_at = now - retail_age
    slot = window_start(now - spot_age)
    store.write([
        PriceObservation(scraped_at=iso_z(retail_at), window_start=window_start(retail_at), coin_slug="ase",
                         vendor="apmex", price=39.5, source="http", poller_id=poller, run_id="r1"),
        SpotPrice(metal="silver", spot=31.2, poller_id=poller, timestamp=slot, timestamp_floor=slot,
                  scraped_at=iso_z(now - spot_age)),
        GoldbackRate(date=goldback_date or now.strftime("%Y-%m-%d"), g1_usd=10.1, scraped_at=iso_z(now), poller_id=poller),
    ])
    manifest = export_dir / "data" / "api" / "manifest.json"
    manifest.parent.mkdir(parents=True, exist_ok=True)
    manifest.write_text(json.dumps({"generated_at": iso_z(now - publish_age)}), encoding="utf-8")


def seed_runs_and_failures(store: Store, now: datetime) -> None:
    """A finished scrape run, a running one, and failures in both timestamp shapes, one too old."""
    started = now - timedelta(minutes=10)
    store.write([
        PollerRun(run_id="api-scrape-1", poller_id="api", job="scrape", started_at=iso_z(started),
                  finished_at=iso_z(started + timedelta(seconds=95)), status="ok", total=40, captured=37, failures=3),
        PollerRun(run_id="api-spot-1", poller_id="api", job="spot", started_at=iso_z(started),
                  finished_at=iso_z(started + timedelta(seconds=2)), status="error", total=4, captured=0, failures=4,
                  error="MetalPriceAPI: 500"),
        ProviderFailure(coin_slug="ase", vendor_id="apmex", url="https://x.test/a", error="timeout",
                        failed_at=iso_z(now - timedelta(days=1)), run_id="f1", poller_id="api"),
        ProviderFailure(coin_slug="ase", vendor_id="apmex", url="https://x.test/a", error="blocked 403",
                        failed_at=(now - timedelta(hours=2)).strftime("%Y-%m-%d %H:%M:%S"), run_id="f2"),
        ProviderFailure(coin_slug="age", vendor_id="apmex", url="https://x.test/b", error="no price",
                        failed_at=(now - timedelta(days=6, hours=23)).strftime("%Y-%m-%d %H:%M:%S"), run_id="f3"),
        ProviderFailure(coin_slug="ase", vendor_id="jmbullion", url="https://x.test/c", error="old",
                        failed_at=(now - timedelta(days=7, hours=1)).strftime("%Y-%m-%d %H:%M:%S"), run_id="f4"),
    ])
    # The in-progress run must not hide the finished one from "last run" metrics.
    store.start_run(PollerRun(run_id="api-scrape-2", poller_id="api", job="scrape", started_at=iso_z(now)))


def now_utc() -> datetime:
    return utcnow()
