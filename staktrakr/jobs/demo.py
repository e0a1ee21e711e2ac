"""`staktrakr demo`: the real scrape job against bundled sample dealer pages, with no network.

A small threaded HTTP server on 127.0.0.1 (a free port) serves `staktrakr/demo_pages/`; the demo
catalog (`demo_pages/catalog.json`, real coin slugs) is pointed at it, and `run_scrape` runs
unchanged: fetchers, extraction, scoring, one batch into the demo's own database (`var/demo.db`).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path
from typing import Any

from staktrakr.catalog import Target, parse_catalog
from staktrakr.errors import ConfigError
from staktrakr.jobs.scrape import ProgressCallback, ScrapeOptions, ScrapeResult, run_scrape
from staktrakr.models import DEMO_POLLER_ID
from staktrakr.settings import Settings
from staktrakr.store import Store

DEMO_HOST = "https://demo.staktrakr.invalid"
DEMO_DATABASE = "demo.db"  # under STAKTRAKR_VAR_DIR


def demo_pages_dir() -> Path:
    return Path(str(resources.files("staktrakr") / "demo_pages"))


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass


@contextmanager
def demo_site(pages_dir: Path | None = None) -> Iterator[str]:
    """Serve the sample pages on 127.0.0.1:<free port>; yields the base URL."""
    handler = partial(_QuietHandler, directory=str(pages_dir or demo_pages_dir()))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), name="staktrakr-demo", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def demo_targets(base_url: str, browser_available: bool) -> list[Target]:
    """The demo catalog's targets with URLs on the local server (browser-only vendors dropped
    when Chromium is missing, so the demo succeeds on any machine)."""
    data = json.loads((demo_pages_dir() / "catalog.json").read_text(encoding="utf-8"))
    catalog = parse_catalog(data, source="staktrakr/demo_pages/catalog.json")
    targets = []
    for target in catalog.targets():
        if not browser_available and target.rules.fetchers == ["http", "browser"]:
            continue
        urls = tuple(url.replace(DEMO_HOST, base_url) for url in target.urls)
        targets.append(target.model_copy(update={"urls": urls}))
    return targets


def demo_database_url(settings: Settings) -> str:
    """Where the demo writes: its own embedded file `var/demo.db`, or TURSO_DATABASE_URL when that
    names a local file (the operator told it so). Never the real embedded `var/staktrakr.db` by default."""
    if settings.turso_database_url:
        return settings.turso_database_url
    return "file:" + str((settings.var_dir / DEMO_DATABASE).resolve())


def demo_settings(settings: Settings) -> Settings:
    """The operator's settings with short politeness gaps, no cloud fetchers, poller id `demo`, and
    its own database file. Refuses a shared database: the demo's sample prices belong in a local file."""
    if settings.turso_database_url and not settings.turso_database_url.startswith("file:"):
        raise ConfigError("demo: TURSO_DATABASE_URL points at a shared database; the demo writes sample prices, "
                          "so run it with TURSO_DATABASE_URL unset (it writes ./var/demo.db)")
    return settings.model_copy(update={
        "turso_database_url": demo_database_url(settings), "poller_id": DEMO_POLLER_ID,
        "scrape_gap_min_s": 0.05, "scrape_gap_max_s": 0.2, "scrape_backoff_s": 0.2,
        "firecrawl_base_url": None, "home_proxy_url": None,
    })


def run_demo(settings: Settings, progress: ProgressCallback | None = None) -> ScrapeResult:
    """Serve the sample pages and run the real scrape job against them into the database."""
    settings = demo_settings(settings)
    with demo_site() as base_url:
        targets = demo_targets(base_url, browser_available=settings.chromium_path.exists())
        with Store.open(settings) as store:
            return run_scrape(settings, store, targets, ScrapeOptions(job="scrape", progress=progress))
