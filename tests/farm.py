"""A local dealer-site farm: real HTTP servers on 127.0.0.1, one host (port) per vendor style.

Tests own every page (tests/farm_pages/ or inline), count the requests each path receives, and
can inject latency, errors, sleeps past the timeout and huge bodies. `FakeFirecrawl` answers
POST /v1/scrape with Firecrawl's documented response shape, from markdown the test registers.
Nothing here imitates our own code: fetchers talk real HTTP to these servers.
"""

from __future__ import annotations

import json
import ssl
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from staktrakr.catalog import Coin, Target, VendorRules
from tests.extract_fixtures import AGE, ASE

PAGES_DIR = Path(__file__).resolve().parent / "farm_pages"


def page_text(name: str) -> str:
    return (PAGES_DIR / name).read_text(encoding="utf-8")


@dataclass
class Page:
    """One response: body, status, content type and an optional delay before answering."""

    body: bytes | str = b""
    status: int = 200
    content_type: str = "text/html; charset=utf-8"
    delay_s: float = 0.0
    block_direct: bool = False      # 403 unless the request came through the farm's proxy (Via header)
    headers: dict[str, str] = field(default_factory=dict)

    def payload(self) -> bytes:
        return self.body.encode("utf-8") if isinstance(self.body, str) else self.body


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True


class Host:
    """One dealer host: a ThreadingHTTPServer on its own port serving registered pages."""

    def __init__(self, name: str, pages: dict[str, Page] | None = None, latency_s: float = 0.0,
                 tls: ssl.SSLContext | None = None) -> None:
        self.name = name
        self.pages: dict[str, Page] = dict(pages or {})
        self.latency_s = latency_s
        self.hits: Counter[str] = Counter()
        self.in_flight = 0
        self.max_in_flight = 0
        self._lock = threading.Lock()
        self._server = _Server(("127.0.0.1", 0), self._handler_class())
        self.scheme = "https" if tls is not None else "http"
        if tls is not None:  # https://127.0.0.1:PORT passes the catalog's https-only rule (tests/faults.py)
            self._server.socket = tls.wrap_socket(self._server.socket, server_side=True)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), name=f"farm-{name}", daemon=True)
        self._thread.start()

    def url(self, path: str) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}{path}"

    def add(self, path: str, page: Page | str) -> str:
        self.pages[path] = page if isinstance(page, Page) else Page(page)
        return self.url(path)

    @property
    def total_hits(self) -> int:
        return sum(self.hits.values())

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _enter(self, path: str) -> None:
        with self._lock:
            self.hits[path] += 1
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)

    def _leave(self) -> None:
        with self._lock:
            self.in_flight -= 1

    def respond(self, handler: BaseHTTPRequestHandler) -> None:
        path = handler.path.split("?")[0]
        self._enter(path)
        try:
            page = self.pages.get(path) or Page("<html><body><h1>Not Found</h1></body></html>", status=404)
            if self.latency_s or page.delay_s:
                time.sleep(self.latency_s + page.delay_s)
            body, status = page.payload(), page.status
            if page.block_direct and "farm-proxy" not in (handler.headers.get("Via") or ""):
                body, status = b"<html><body>Access denied</body></html>", 403
            handler.send_response(status)
            handler.send_header("Content-Type", page.content_type)
            handler.send_header("Content-Length", str(len(body)))
            for name, value in page.headers.items():
                handler.send_header(name, value)
            handler.end_headers()
            handler.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError):  # the client went away (a killed scrape)
            pass
        finally:
            self._leave()

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        host = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                host.respond(self)

            def do_POST(self) -> None:
                host.respond(self)

            def log_message(self, *args: Any) -> None:
                pass

            def log_error(self, *args: Any) -> None:
                pass

        return Handler


class FakeFirecrawl(Host):
    """Firecrawl's POST /v1/scrape: {"success": true, "data": {"markdown", "metadata": {statusCode, sourceURL}}}.

    `pages` maps a dealer URL to (markdown, statusCode); unknown URLs answer success with
    statusCode 404 and an empty body, as Firecrawl does for a missing page."""

    def __init__(self, name: str = "firecrawl") -> None:
        self.scrapes: dict[str, tuple[str, int]] = {}
        self.requests: list[dict[str, Any]] = []
        self.auth_headers: list[str | None] = []
        self.forced_answer: tuple[int, Any] | None = None   # (HTTP status, JSON body) for every request
        super().__init__(name)

    def scrape_page(self, dealer_url: str, markdown: str, status_code: int = 200) -> None:
        self.scrapes[dealer_url] = (markdown, status_code)

    def respond(self, handler: BaseHTTPRequestHandler) -> None:
        self._enter(handler.path)
        try:
            length = int(handler.headers.get("Content-Length") or 0)
            request = json.loads(handler.rfile.read(length) or b"{}")
            self.requests.append(request)
            self.auth_headers.append(handler.headers.get("Authorization"))
            if self.forced_answer is not None:
                status, answer = self.forced_answer
            elif handler.path != "/v1/scrape" or handler.command != "POST":
                status, answer = 404, {"success": False, "error": "Not Found"}
            else:
                markdown, site_status = self.scrapes.get(request.get("url"), ("", 404))
                status, answer = 200, {"success": True, "data": {
                    "markdown": markdown,
                    "metadata": {"title": "", "sourceURL": request.get("url"), "url": request.get("url"),
                                 "statusCode": site_status},
                }}
            body = json.dumps(answer).encode()
            handler.send_response(status)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", str(len(body)))
            handler.end_headers()
            handler.wfile.write(body)
        finally:
            self._leave()


class ForwardProxy(Host):
    """A plain HTTP forward proxy (absolute-URI GETs), standing in for HOME_PROXY_URL."""

    def respond(self, handler: BaseHTTPRequestHandler) -> None:
        import httpx

        self._enter(handler.path)
        try:
            upstream = httpx.get(handler.path, headers={"Via": "1.1 farm-proxy",
                                                        "User-Agent": handler.headers.get("User-Agent", "")},
                                 timeout=10)
            body = upstream.content
            handler.send_response(upstream.status_code)
            handler.send_header("Content-Type", upstream.headers.get("content-type", "text/html"))
            handler.send_header("Content-Length", str(len(body)))
            handler.end_headers()
            handler.wfile.write(body)
        finally:
            self._leave()


@dataclass
class Farm:
    """All hosts of a test; stop() closes every server."""

    hosts: dict[str, Host] = field(default_factory=dict)
    tls: ssl.SSLContext | None = None       # every dealer host serves https (tests/faults.py makes the context)

    def host(self, name: str, latency_s: float = 0.0) -> Host:
        if name not in self.hosts:
            self.hosts[name] = Host(name, latency_s=latency_s, tls=self.tls)
        return self.hosts[name]

    def firecrawl(self) -> FakeFirecrawl:
        if "firecrawl" not in self.hosts:
            self.hosts["firecrawl"] = FakeFirecrawl()
        return self.hosts["firecrawl"]  # type: ignore[return-value]

    def proxy(self) -> ForwardProxy:
        if "proxy" not in self.hosts:
            self.hosts["proxy"] = ForwardProxy("proxy")
        return self.hosts["proxy"]  # type: ignore[return-value]

    def stop(self) -> None:
        for host in self.hosts.values():
            host.stop()

    def __iter__(self) -> Iterator[Host]:
        return iter(self.hosts.values())


COINS = {
    "ase": ASE,
    "age": AGE,
    "maple-silver": Coin(slug="maple-silver", name="Canadian Silver Maple Leaf 1 oz", metal="silver",
                         weight_oz=1, providers=[]),
}

# Test defaults: one fetcher unless a test says otherwise, short timeouts, the catalog's cut rules.
TEST_RULES = VendorRules(
    fetchers=["http"],
    timeout_s=5,
    proxy="never",
    cut_after=["Similar Products You May Like", "Customers Also Purchased", "Related Products"],
    cut_selectors=["header", "nav", "footer", "[class*=spot-ticker]", "[class*=spot-price]"],
)


def make_target(coin: str, vendor_id: str, *urls: str, **rules: Any) -> Target:
    """A Target pointing at farm URLs (the catalog file insists on https, so tests build targets)."""
    merged = TEST_RULES.model_copy(update=rules)
    return Target(coin=COINS[coin], vendor_id=vendor_id, vendor_name=vendor_id.title(), urls=tuple(urls),
                  rules=VendorRules.model_validate(merged.model_dump()))
