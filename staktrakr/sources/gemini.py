"""Gemini vision client: one product-page screenshot in, the model's reading of the 1-unit price out.

Google's `google-genai` SDK calls `models/{GEMINI_MODEL}:generateContent` (GEMINI_BASE_URL overrides
the endpoint: a proxy, or the tests' fake) with temperature 0 and a JSON response schema (price
number or null, in_stock, currency, where it was read). The prompt names the coin, its metal and
weight, the plausible band and the vendor's table rules. Timeouts, 429 (waiting the RetryInfo
delay when the answer gives one) and 5xx are retried with backoff (tenacity); every other trouble
(a blocked prompt, text that is not JSON, a price in another currency) is a failed reading, never an
exception: the scrape cycle must not fail because Gemini does. What the model says about agreement
is never asked for nor used: scoring.py decides numerically.

Response shape (REST `GenerateContentResponse`, ai.google.dev/api/generate-content): `candidates[]
.content.parts[]` (text parts; parts with `thought: true` are the model's thinking and are skipped),
`promptFeedback.blockReason` when the prompt was blocked, `usageMetadata.totalTokenCount`. Errors:
`{"error": {"code", "message", "status", "details": [{"@type": ".../google.rpc.RetryInfo",
"retryDelay": "2s"}]}}`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt

from staktrakr.log import shorten
from staktrakr.settings import Settings

if TYPE_CHECKING:
    from staktrakr.catalog import Target
    from staktrakr.rules.bands import Band

log = logging.getLogger(__name__)

VISION_ATTEMPTS = 3               # one call and two retries for timeouts, 429 and 5xx
VISION_BACKOFF_S = 0.5            # first wait without RetryInfo; doubles per retry
VISION_MAX_WAIT_S = 20.0          # a RetryInfo delay longer than this is not waited for (the call fails)
RETRYABLE_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
EXPECTED_CURRENCY = "USD"


@dataclass(frozen=True)
class VisionReading:
    """What the model read on one screenshot: USD price of one unit by check/wire (None: none
    seen), the stock state, the currency and the row/column it read; or why there is no reading.
    `tokens` is the call's usageMetadata.totalTokenCount (0 when no answer came back)."""

    price: float | None = None
    in_stock: bool | None = None
    currency: str | None = None
    read_from: str | None = None
    tokens: int = 0
    failure: str | None = None     # one line: "blocked: SAFETY", "not_json: ...", "wrong_currency: EUR", ...

    @property
    def ok(self) -> bool:
        return self.failure is None


class _Retryable(Exception):
    """A timeout, 429 or 5xx: worth another call after `wait_s` (None: the backoff decides)."""

    def __init__(self, message: str, wait_s: float | None = None) -> None:
        super().__init__(message)
        self.wait_s = wait_s


def vision_prompt(target: Target, band: Band) -> str:
    """The instruction sent with the screenshot: the coin, the plausible band, the vendor's table rules."""
    rules = target.rules
    coin = target.coin
    return "\n".join([
        "You read a screenshot of a bullion dealer's product page.",
        f"Product: {coin.name} ({coin.metal}, {coin.weight_oz:g} troy oz per unit) at {target.vendor_name}.",
        "Report the price in US dollars of buying ONE unit paid by check or wire "
        f"(prefer the columns: {', '.join(rules.price_columns)}; never the columns: {', '.join(rules.avoid_columns)}).",
        f"Ignore bulk prices ({', '.join(rules.bulk_labels)}, larger quantity tiers), spot prices, "
        "shipping, savings and prices of other products.",
        f"A plausible price is between ${band.low:,.2f} and ${band.high:,.2f}; if no such price is shown, answer null.",
        "in_stock: false when the page says sold out, out of stock or unavailable; true when it can be bought now.",
        "currency: the ISO 4217 code of the price shown; read_from: the row and column (or label) you read.",
    ])


def response_schema() -> Any:
    """The JSON shape the model must answer in (Gemini's OpenAPI subset)."""
    from google.genai import types

    return types.Schema(
        type=types.Type.OBJECT,
        properties={
            "price": types.Schema(type=types.Type.NUMBER, nullable=True),
            "in_stock": types.Schema(type=types.Type.BOOLEAN, nullable=True),
            "currency": types.Schema(type=types.Type.STRING, nullable=True),
            "read_from": types.Schema(type=types.Type.STRING, nullable=True),
        },
        required=["price", "in_stock", "currency", "read_from"],
    )


class GeminiVision:
    """The run's Gemini client (one SDK client, async). `read()` never raises for Gemini trouble."""

    def __init__(self, settings: Settings, attempts: int = VISION_ATTEMPTS,
                 backoff_s: float = VISION_BACKOFF_S) -> None:
        from google import genai
        from google.genai import types

        if settings.gemini_api_key is None:
            raise ValueError("GeminiVision needs GEMINI_API_KEY")
        self.model = settings.gemini_model
        self._attempts = attempts
        self._backoff_s = backoff_s
        self._timeout_s = settings.vision_timeout_s
        options = types.HttpOptions(timeout=int(settings.vision_timeout_s * 1000))
        sdk_retry = getattr(types, "HttpRetryOptions", None)  # SDKs since 1.2x retry on their own: once here
        if sdk_retry is not None:
            options.retry_options = sdk_retry(attempts=1)  # tenacity retries, here
        if settings.gemini_base_url:
            options.base_url = settings.gemini_base_url
        self._client = genai.Client(api_key=settings.gemini_api_key.get_secret_value(), http_options=options)
        self._stopped = False
        self._secrets = [settings.gemini_api_key.get_secret_value()]

    def stop(self) -> None:
        """No new call and no retry from now on (the cycle has stopped waiting for answers)."""
        self._stopped = True

    async def read(self, image: bytes, prompt: str, mime_type: str = "image/jpeg") -> VisionReading:
        """Ask the model for the price on `image` (a screenshot, `mime_type`); a failed reading after
        the retries."""
        try:
            retrying = AsyncRetrying(stop=stop_after_attempt(self._attempts), wait=self._wait,
                                     retry=retry_if_exception(lambda exc: isinstance(exc, _Retryable)
                                                              and not self._stopped),
                                     reraise=True)
            reading: VisionReading = await retrying(self._call_once, image, prompt, mime_type)
            return reading
        except _Retryable as exc:
            return VisionReading(failure=f"gave up after {self._attempts} calls: {exc}")
        except Exception as exc:  # the SDK's own errors, a bad answer shape: one line, never the cycle
            log.info("vision call failed: %s", shorten(exc, 200, self._secrets))
            return VisionReading(failure=f"error: {type(exc).__name__}: {shorten(exc, 160, self._secrets)}")

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome is not None else None
        if isinstance(exc, _Retryable) and exc.wait_s is not None:
            return float(exc.wait_s)
        return float(self._backoff_s * 2 ** (state.attempt_number - 1))

    async def _call_once(self, image: bytes, prompt: str, mime_type: str) -> VisionReading:
        from google.genai import errors, types

        if self._stopped:
            raise _Retryable("stopped before the call")
        config = types.GenerateContentConfig(
            temperature=0, response_mime_type="application/json", response_schema=response_schema(),
            automatic_function_calling=types.AutomaticFunctionCallingConfig(disable=True))  # no tools here
        contents = [types.Part.from_bytes(data=image, mime_type=mime_type), prompt]
        try:
            response = await asyncio.wait_for(
                self._client.aio.models.generate_content(model=self.model, contents=contents, config=config),
                timeout=self._timeout_s + 5)
        except errors.APIError as exc:
            code = int(exc.code or 0)
            line = f"HTTP {code} {exc.status or ''}".strip()
            if code in RETRYABLE_STATUSES:
                raise _Retryable(line, retry_delay_s(exc.details)) from None
            return VisionReading(failure=line)
        except Exception as exc:
            if _transport_trouble(exc):
                raise _Retryable(f"no answer: {type(exc).__name__}") from None
            raise
        return reading_from_response(response)

    async def aclose(self) -> None:
        try:
            await self._client.aio.aclose()
        except Exception:
            pass


def _transport_trouble(exc: Exception) -> bool:
    """A timeout or connection failure on the way to Gemini (the SDK talks through httpx or aiohttp)."""
    return isinstance(exc, TimeoutError | OSError | httpx.TransportError) or type(exc).__module__.startswith("aiohttp")


def retry_delay_s(details: Any) -> float | None:
    """The RetryInfo `retryDelay` ("1.5s") of an error answer, capped; None when there is none or
    it is longer than VISION_MAX_WAIT_S (then backing off briefly and giving up is better)."""
    error = details.get("error", details) if isinstance(details, dict) else None
    entries = error.get("details") if isinstance(error, dict) else None
    for entry in entries if isinstance(entries, list) else []:
        if isinstance(entry, dict) and str(entry.get("@type", "")).endswith("google.rpc.RetryInfo"):
            match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)s\s*", str(entry.get("retryDelay", "")))
            if match and float(match.group(1)) <= VISION_MAX_WAIT_S:
                return float(match.group(1))
    return None


def reading_from_response(response: Any) -> VisionReading:
    """A VisionReading from the SDK's GenerateContentResponse: the non-thought text parts as JSON."""
    usage = getattr(response, "usage_metadata", None)
    tokens = int(getattr(usage, "total_token_count", 0) or 0)
    feedback = getattr(response, "prompt_feedback", None)
    blocked = getattr(feedback, "block_reason", None)
    if blocked:
        return VisionReading(tokens=tokens, failure=f"blocked: {getattr(blocked, 'value', blocked)}")
    candidates = getattr(response, "candidates", None) or []
    parts = (candidates[0].content.parts or []) if candidates and candidates[0].content else []
    text = "".join(part.text for part in parts if part.text and not part.thought)
    if not text.strip():
        reason = getattr(candidates[0], "finish_reason", None) if candidates else None
        return VisionReading(tokens=tokens, failure=f"no answer text (finish {getattr(reason, 'value', reason)})")
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        return VisionReading(tokens=tokens, failure=f"not_json: {shorten(text, 80)}")
    if not isinstance(data, dict):
        return VisionReading(tokens=tokens, failure=f"not_json: expected an object, got {type(data).__name__}")
    return _reading_from_answer(data, tokens)


def _reading_from_answer(data: dict[str, Any], tokens: int) -> VisionReading:
    price = data.get("price")
    in_stock = data.get("in_stock")
    currency = data.get("currency")
    read_from = data.get("read_from")
    currency_code = str(currency).strip().upper() if currency else None
    if (price is not None and not isinstance(price, int | float)) or isinstance(price, bool):
        return VisionReading(tokens=tokens, failure=f"bad price: {shorten(repr(price), 60)}")
    if price is not None and currency_code not in (None, EXPECTED_CURRENCY):
        return VisionReading(in_stock=in_stock if isinstance(in_stock, bool) else None, currency=currency_code,
                             tokens=tokens, failure=f"wrong_currency: {shorten(currency_code, 12)}")
    usable = float(price) if price is not None and float(price) > 0 else None
    return VisionReading(price=usable, in_stock=in_stock if isinstance(in_stock, bool) else None,
                         currency=currency_code or (EXPECTED_CURRENCY if usable is not None else None),
                         read_from=shorten(str(read_from), 120) if read_from else None, tokens=tokens)
