"""Local fakes of third-party services, as real HTTP servers on 127.0.0.1 that tests own.

- FakeMetalPriceApi: MetalPriceAPI `/v1/latest` and `/v1/timeframe` with the documented shapes
  (`success`, `timestamp`, `base`, `rates` with bare `XAU` = oz per USD and `USDXAU` = USD per oz,
  `error: {statusCode, message}`), plus scripted replies (500, delays, bad bodies).
- FakeSite: static pages by path (the goldback.com exchange-rate page variants).
Every request is recorded (path, query, headers) so tests can assert what was asked.
`fast_client` is our real MetalPriceClient with short retry waits, for the jobs under test.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit

from staktrakr.settings import Settings
from staktrakr.sources.metalprice import MetalPriceClient

METAL_SYMBOLS = {"gold": "XAU", "silver": "XAG", "platinum": "XPT", "palladium": "XPD"}
TODAY_PRICES = {"gold": 5018.96, "silver": 80.12, "platinum": 2051.4, "palladium": 1523.75}
API_KEY = "test-metal-key-7f3a9c"


@dataclass
class Reply:
    status: int = 200
    body: Any = None                  # dict/list -> JSON, str -> as is
    content_type: str = "application/json"
    delay_s: float = 0.0


@dataclass
class Recorded:
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    method: str = "GET"
    body: str = ""


@dataclass
class ScriptedServer:
    """A ThreadingHTTPServer whose replies come from `handle(path, query, headers) -> Reply`."""

    handle: Callable[[str, dict[str, str], dict[str, str]], Reply]
    requests: list[Recorded] = field(default_factory=list)
    handle_request: Callable[[Recorded], Reply] | None = None   # instead of `handle`, when the body matters

    def start(self) -> ScriptedServer:
        server_ref = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
                headers = {key.lower(): value for key, value in self.headers.items()}
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode() if length else ""
                recorded = Recorded(parts.path, query, headers, self.command, body)
                server_ref.requests.append(recorded)
                reply = (server_ref.handle_request(recorded) if server_ref.handle_request is not None
                         else server_ref.handle(parts.path, query, headers))
                if reply.delay_s:
                    time.sleep(reply.delay_s)
                payload = reply.body if isinstance(reply.body, str) else json.dumps(reply.body)
                data = payload.encode()
                try:
                    self.send_response(reply.status)
                    self.send_header("Content-Type", reply.content_type)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            do_POST = do_GET

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def latest_body(prices: dict[str, float] | None = None, *, timestamp: int = 1773601200,
                bare: bool = True, prefixed: bool = True) -> dict[str, Any]:
    """A `/latest` success body as MetalPriceAPI sends it for base=USD."""
    rates: dict[str, Any] = {}
    for metal, usd in (TODAY_PRICES if prices is None else prices).items():
        symbol = METAL_SYMBOLS[metal]
        if bare:
            rates[symbol] = (1 / usd) if usd else 0
        if prefixed:
            rates[f"USD{symbol}"] = usd
    return {"success": True, "base": "USD", "timestamp": timestamp, "rates": rates}


def error_body(code: int, message: str) -> dict[str, Any]:
    return {"success": False, "error": {"statusCode": code, "message": message}}


class ScriptedFake:
    """A fake API or site served by its `server` (a ScriptedServer) for the length of a `with` block."""

    server: ScriptedServer

    def __enter__(self) -> Self:
        self.server.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.stop()

    @property
    def requests(self) -> list[Recorded]:
        return self.server.requests


class FakeMetalPriceApi(ScriptedFake):
    """`/v1/latest` answers from a queue of replies (then `default_latest`); `/v1/timeframe` from `daily`."""

    def __init__(self) -> None:
        self.latest_replies: list[Reply] = []
        self.default_latest = Reply(body=latest_body())
        self.daily: dict[str, dict[str, float]] = {}          # "YYYY-MM-DD" -> metal -> USD/oz
        self.server = ScriptedServer(self._handle)

    @property
    def base_url(self) -> str:
        return self.server.url + "/v1"

    def calls(self, path: str) -> list[Recorded]:
        return [r for r in self.server.requests if r.path == f"/v1/{path}"]

    def _handle(self, path: str, query: dict[str, str], headers: dict[str, str]) -> Reply:
        key = query.get("api_key") or headers.get("x-api-key")
        if key != API_KEY:
            return Reply(body=error_body(101, "Invalid API Key. Please check your API key."))
        if path == "/v1/latest":
            return self.latest_replies.pop(0) if self.latest_replies else self.default_latest
        if path == "/v1/timeframe":
            return self._timeframe(query)
        return Reply(status=404, body=error_body(103, "Invalid API endpoint."))

    def _timeframe(self, query: dict[str, str]) -> Reply:
        try:
            start, end = date.fromisoformat(query["start_date"]), date.fromisoformat(query["end_date"])
        except (KeyError, ValueError):
            return Reply(body=error_body(202, "Invalid start_date or end_date."))
        if (end - start).days + 1 > 365:
            return Reply(body=error_body(203, "Timeframe exceeds maximum of 365 days."))
        rates = {}
        day = start
        while day <= end:
            if day.isoformat() in self.daily:
                rates[day.isoformat()] = latest_body(self.daily[day.isoformat()])["rates"]
            day += timedelta(days=1)
        return Reply(body={"success": True, "base": "USD", "start_date": start.isoformat(),
                           "end_date": end.isoformat(), "rates": rates})


def fast_client(settings: Settings) -> MetalPriceClient:
    """The spot jobs' `client_factory`: the real client, retrying after 0.05 s instead of seconds."""
    return MetalPriceClient(settings, retry_wait_s=0.05)


class FakeSite(ScriptedFake):
    """Pages by path; unknown paths are 404. `pages[path]` = Reply, an HTML string, or a function of the
    request headers returning either (e.g. to block requests that did not come through a proxy)."""

    def __init__(self) -> None:
        self.pages: dict[str, Reply | str | Callable[[dict[str, str]], Reply | str]] = {}
        self.server = ScriptedServer(self._handle)

    def url(self, path: str) -> str:
        return self.server.url + path

    def _handle(self, path: str, query: dict[str, str], headers: dict[str, str]) -> Reply:
        page = self.pages.get(path)
        if callable(page):
            page = page(headers)
        if page is None:
            return Reply(status=404, body="<html><body>Not found</body></html>", content_type="text/html")
        if isinstance(page, str):
            return Reply(body=page, content_type="text/html; charset=utf-8")
        return page
