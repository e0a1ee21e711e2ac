"""What a command imports: a publish on a `file:` URL never runs aiohttp (libsql-client's server
clients), a `--json` run from cron never rich, and a deferred module still works the moment it is
used (staktrakr/deferred.py).

Each check runs in a fresh interpreter: the test process has long imported everything."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from staktrakr.jobs.publish import PublishOptions, run_publish
from staktrakr.store import Store
from tests.conftest import REPO
from tests.publish_fixtures import seed


def run_python(code: str, env: dict[str, str] | None = None) -> str:
    """stdout of `python -c code` in a fresh interpreter; fails the test with its stderr."""
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                          cwd=REPO, env=env, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def executed_modules(importtime_log: str) -> set[str]:
    """Names of the modules whose code ran, from `python -X importtime` output."""
    return {line.rsplit("|", 1)[1].strip() for line in importtime_log.splitlines()
            if line.startswith("import time:") and "|" in line}


def test_publish_on_a_file_url_runs_neither_aiohttp_nor_rich_nor_gitpython(make_settings, tmp_path: Path) -> None:
    settings = make_settings(turso_database_url=f"file:{tmp_path / 'db' / 'staktrakr.db'}",
                             api_export_dir=tmp_path / "export", poller_id="api")
    with Store.open(settings) as store:
        seed(store)
        assert run_publish(settings, store, PublishOptions(push=False)).commit  # the full build is done
    env = {**os.environ, "TURSO_DATABASE_URL": settings.database_url, "API_EXPORT_DIR": str(tmp_path / "export"),
           "STAKTRAKR_VAR_DIR": str(tmp_path / "var"), "PROVIDERS_FILE": str(REPO / "providers.json"),
           "STAKTRAKR_ENV_FILE": str(tmp_path / "no.env"), "POLLER_ID": "api", "STAKTRAKR_LOG_FORMAT": "json"}
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "staktrakr", "publish", "--no-push", "--json"],
                          capture_output=True, text=True, cwd=REPO, env=env, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    assert json.loads(done.stdout)["commit"] is None  # the unchanged path: watermark, git status, exit
    executed = executed_modules(done.stderr)
    assert "staktrakr.store.database" in executed and "libsql_client" in executed
    assert not {name for name in executed if name.split(".")[0] in ("aiohttp", "yarl", "multidict", "rich", "git")}


def test_store_on_a_file_url_leaves_aiohttp_deferred(tmp_path: Path) -> None:
    out = run_python(f"""
        import sys
        import staktrakr.jobs.publish
        from staktrakr.deferred import is_deferred
        from staktrakr.store import Database
        with Database("file:{tmp_path / 'staktrakr.db'}") as db:
            assert db.query("SELECT 1 AS one") == [{{"one": 1}}]
        print(is_deferred("aiohttp"), sorted(name for name in sys.modules if name.startswith("aiohttp")))
    """)
    assert out.split() == ["True", "['aiohttp']"]


def test_deferred_aiohttp_serves_a_server_url(libsql_server) -> None:
    """The first server call runs aiohttp's code, then talks to a real sqld over HTTP."""
    out = run_python(f"""
        import sys
        from staktrakr.deferred import is_deferred
        from staktrakr.store import Database
        assert is_deferred("aiohttp") and "aiohttp.client" not in sys.modules
        with Database("{libsql_server.url}") as db:
            db.execute("CREATE TABLE t (x INTEGER)")
            db.batch([("INSERT INTO t VALUES (?)", [1]), ("INSERT INTO t VALUES (?)", [2])])
            print(db.query("SELECT sum(x) AS total FROM t")[0]["total"])
        print(is_deferred("aiohttp"), "aiohttp.client" in sys.modules)
    """)
    assert out.split() == ["3", "False", "True"]


def test_deferred_module_runs_once_for_threads_submodules_and_from_imports() -> None:
    out = run_python("""
        import sys, threading
        from staktrakr.deferred import defer, is_deferred
        defer("aiohttp")
        import aiohttp
        assert is_deferred("aiohttp") and aiohttp.__name__ == "aiohttp" and is_deferred("aiohttp")
        seen = []
        threads = [threading.Thread(target=lambda: seen.append(aiohttp.ClientSession)) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        from aiohttp import ClientSession
        import aiohttp.web
        print(len(seen), all(found is ClientSession for found in seen), is_deferred("aiohttp"),
              sys.modules["aiohttp"] is aiohttp, aiohttp.web.Application.__module__)
        defer("json")  # already imported: left alone
        print(is_deferred("json"))
    """)
    assert out.split() == ["8", "True", "False", "True", "aiohttp.web_app", "False"]


def test_a_submodule_import_first_runs_the_package() -> None:
    out = run_python("""
        from staktrakr.deferred import defer, is_deferred
        defer("aiohttp")
        import aiohttp.web
        print(is_deferred("aiohttp"), aiohttp.ClientSession.__module__, aiohttp.web.Application.__module__)
    """)
    assert out.split() == ["False", "aiohttp.client", "aiohttp.web_app"]


def test_catalog_leaves_httpx_deferred_and_a_fetch_runs_it(tmp_path: Path) -> None:
    """Publish and status load the catalog (fetcher names only); a scrape's first fetch runs httpx."""
    (tmp_path / "page.html").write_text("<html><body><h1>American Silver Eagle</h1><p>$31.20</p></body></html>")
    env = {**os.environ, "STAKTRAKR_ENV_FILE": str(tmp_path / "no.env"), "STAKTRAKR_VAR_DIR": str(tmp_path / "var"),
           "PROVIDERS_FILE": str(REPO / "providers.json")}
    out = run_python(f"""
        import asyncio, functools, http.server, threading
        from staktrakr.catalog import load_catalog
        from staktrakr.deferred import is_deferred
        from staktrakr.fetch import HttpFetcher
        from staktrakr.settings import load_settings
        settings = load_settings()
        load_catalog(settings.providers_file)
        print(is_deferred("httpx"))
        handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory="{tmp_path}")
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        fetcher = HttpFetcher(settings)

        async def fetch():
            try:
                return await fetcher.fetch(f"http://127.0.0.1:{{server.server_port}}/page.html")
            finally:
                await fetcher.aclose()

        result = asyncio.run(fetch())
        print(result.ok, "$31.20" in (result.html or ""), is_deferred("httpx"))
    """, env)
    assert out.split() == ["True", "True", "True", "False"]
