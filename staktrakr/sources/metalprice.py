"""MetalPriceAPI client: `/latest` and `/timeframe`, turned into USD per troy ounce per metal.

With `base=USD` the bare keys (`XAU`) are ounces per USD and must be inverted; the `USDXAU`
keys are already USD per ounce. The old pipeline read one kind and inverted the other and
published $0 gold: here both are read when present and must agree. The API key never
appears in a message: URLs are shown without their query and any leftover key is masked.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import httpx
from tenacity import Retrying, retry_if_result, stop_after_attempt, wait_fixed

from staktrakr.errors import ConfigError
from staktrakr.log import shorten
from staktrakr.settings import Settings
from staktrakr.timeutil import iso_z

SYMBOL_TO_METAL = {"XAU": "gold", "XAG": "silver", "XPT": "platinum", "XPD": "palladium"}
CURRENCIES = ",".join(SYMBOL_TO_METAL)
MAX_TIMEFRAME_DAYS = 365          # the API's limit per /timeframe call
CROSS_CHECK_TOLERANCE = 0.005     # inverted bare key and USDXAU key must agree within 0.5%
API_ATTEMPTS = 2                  # one retry for timeouts, connection errors and 5xx
API_RETRY_WAIT_S = 2.0


class SpotApiError(Exception):
    """The API gave no usable answer; `str()` is one line without secrets."""


@dataclass(frozen=True)
class SpotQuote:
    """One `/latest` answer: USD per troy ounce per metal, the provider's time, our fetch time."""

    usd_per_oz: dict[str, float]
    provider_timestamp: str | None
    fetched_at: datetime


def usd_per_oz_from_rates(rates: dict[str, Any], where: str) -> dict[str, float]:
    """Convert one `rates` object to USD/oz for the four metals; any missing or unusable rate is an error."""
    return {metal: usd_per_oz(rates, symbol, where) for symbol, metal in SYMBOL_TO_METAL.items()}


def usd_per_oz(rates: dict[str, Any], symbol: str, where: str) -> float:
    """One metal's USD/oz (2 decimals, like the published series) from the bare and/or USD-prefixed key."""
    metal = SYMBOL_TO_METAL[symbol]
    bare = _number(rates.get(symbol))
    direct = _number(rates.get(f"USD{symbol}"))
    if bare is None and direct is None:
        raise SpotApiError(f"{where}: no rate for {symbol} ({metal}) in the answer")
    if bare is not None and bare <= 0:
        raise SpotApiError(f"{where}: {symbol} rate is {bare:g} (cannot invert)")
    inverted = 1.0 / bare if bare is not None else None
    if inverted is not None and direct is not None and (
            direct <= 0 or abs(inverted - direct) / direct > CROSS_CHECK_TOLERANCE):
            raise SpotApiError(
                f"{where}: {symbol} disagrees with USD{symbol} (1/{bare:g} = {inverted:.2f} vs {direct:g})")
    value = inverted if inverted is not None else direct
    if value is None or not math.isfinite(value) or value <= 0:
        raise SpotApiError(f"{where}: {symbol} gives an unusable price {value!r}")
    return round(value, 2)


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _provider_time(body: dict[str, Any]) -> str | None:
    stamp = body.get("timestamp")
    if isinstance(stamp, bool) or not isinstance(stamp, (int, float)) or stamp <= 0:
        return None
    return iso_z(datetime.fromtimestamp(float(stamp), UTC))


class MetalPriceClient:
    """Synchronous client (one job, a couple of calls); key sent as `api_key` or `X-API-KEY` header."""

    def __init__(self, settings: Settings, *, retry_wait_s: float = API_RETRY_WAIT_S) -> None:
        if settings.metal_price_api_key is None or not settings.metal_price_api_key.get_secret_value():
            raise ConfigError("METAL_PRICE_API_KEY is not set: put the MetalPriceAPI key in the environment or .env")
        self._key = settings.metal_price_api_key.get_secret_value()
        self._in_header = settings.metal_price_api_auth == "header"
        self.base_url = settings.metal_price_api_base_url.rstrip("/")
        self._retry_wait_s = retry_wait_s
        self._http = httpx.Client(timeout=settings.fetch_timeout_s, headers={"Accept": "application/json"})
        self.calls = 0

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> MetalPriceClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def latest(self) -> SpotQuote:
        body = self._get("/latest", {"base": "USD", "currencies": CURRENCIES})
        fetched_at = datetime.now(UTC)
        rates = body.get("rates")
        if not isinstance(rates, dict):
            raise SpotApiError("MetalPriceAPI /latest: answer has no 'rates' object")
        return SpotQuote(usd_per_oz_from_rates(rates, "MetalPriceAPI /latest"), _provider_time(body), fetched_at)

    def timeframe(self, start: date, end: date) -> dict[str, dict[str, Any]]:
        """Raw daily `rates` keyed by `YYYY-MM-DD` (at most 365 days: the caller chunks)."""
        if (end - start).days + 1 > MAX_TIMEFRAME_DAYS:
            raise ValueError(f"timeframe {start}..{end} exceeds {MAX_TIMEFRAME_DAYS} days")
        body = self._get("/timeframe", {"start_date": start.isoformat(), "end_date": end.isoformat(),
                                        "base": "USD", "currencies": CURRENCIES})
        rates = body.get("rates")
        if not isinstance(rates, dict):
            raise SpotApiError("MetalPriceAPI /timeframe: answer has no 'rates' object")
        return {day: day_rates for day, day_rates in rates.items() if isinstance(day_rates, dict)}

    # transport ------------------------------------------------------------------------------

    def _get(self, path: str, params: dict[str, str]) -> dict[str, Any]:
        """The answer's JSON object; a transient failure (timeout, connection, 5xx) is tried again
        (tenacity: API_ATTEMPTS tries, a fixed wait), any other raises SpotApiError at once."""
        where = f"MetalPriceAPI {path}"
        retrying = Retrying(
            stop=stop_after_attempt(API_ATTEMPTS), wait=wait_fixed(self._retry_wait_s),
            retry=retry_if_result(lambda got: got[0] and not isinstance(got[1], dict)),
            retry_error_callback=lambda state: state.outcome.result() if state.outcome else (False, where),
        )
        _, outcome = retrying(self._get_once, path, params, where)
        if isinstance(outcome, dict):
            return outcome
        raise SpotApiError(shorten(outcome, 300, [self._key]))  # redacted first, then cut

    def _get_once(self, path: str, params: dict[str, str], where: str) -> tuple[bool, dict[str, Any] | str]:
        """(transient, body) on success, (transient, reason) on failure."""
        headers = {"X-API-KEY": self._key} if self._in_header else {}
        query = params if self._in_header else {"api_key": self._key, **params}
        self.calls += 1
        try:
            response = self._http.get(self.base_url + path, params=query, headers=headers)
        except httpx.TimeoutException:
            return True, f"{where}: timed out after {self._http.timeout.read}s"
        except httpx.HTTPError as exc:
            return True, f"{where}: {type(exc).__name__}: {exc}"
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.status_code >= 400:
            detail = _error_text(body) if isinstance(body, dict) else response.text
            return response.status_code >= 500, f"{where}: HTTP {response.status_code}: {detail or 'no body'}"
        if not isinstance(body, dict):
            return False, f"{where}: answer is not a JSON object: {response.text!r}"
        if body.get("success") is not True:
            return False, f"{where}: success=false: {_error_text(body) or 'no error given'}"
        return False, body


def _error_text(body: dict[str, Any]) -> str:
    """The API's error as one line: `error.statusCode`, then `error.info` or `error.message` (uncut:
    the caller redacts the key first, then shortens)."""
    error = body.get("error")
    if isinstance(error, dict):
        code = error.get("statusCode") or error.get("code")
        text = error.get("info") or error.get("message") or error.get("type") or ""
        return " ".join(f"{code or ''} {text}".split())
    if isinstance(error, str):
        return " ".join(error.split())
    return " ".join(str(body.get("message", "")).split())
