"""The Gemini vision client against a fake generateContent endpoint: the request it sends, the
documented answer shape (thought part skipped, tokens counted) and each failure, never raised."""

from __future__ import annotations

import asyncio
import base64

import pytest

from staktrakr.catalog import Target
from staktrakr.rules.bands import price_band
from staktrakr.sources.gemini import GeminiVision, VisionReading, retry_delay_s, vision_prompt
from tests.fake_gemini import GEMINI_KEY, MODEL, Answer, FakeGemini
from tests.farm import make_target

JPEG = b"\xff\xd8\xff\xe0 fake screenshot bytes"


@pytest.fixture
def gemini():
    with FakeGemini() as fake:
        yield fake


@pytest.fixture
def target() -> Target:
    return make_target("ase", "apmex", "http://127.0.0.1:9/ase", vision=True)


def read(settings, target: Target, **client: object) -> VisionReading:
    async def go() -> VisionReading:
        vision = GeminiVision(settings, **client)  # type: ignore[arg-type]
        try:
            return await vision.read(JPEG, vision_prompt(target, price_band(target.coin, 78.0)))
        finally:
            await vision.aclose()
    return asyncio.run(go())


def settings_for(make_settings, gemini: FakeGemini, **overrides: object):
    return make_settings(gemini_api_key=GEMINI_KEY, gemini_base_url=gemini.base_url, **overrides)


def test_reading_skips_the_thought_part_and_counts_tokens(make_settings, gemini, target):
    gemini.answers["Apmex"] = Answer(price=82.49, in_stock=True)
    reading = read(settings_for(make_settings, gemini), target)
    assert reading == VisionReading(price=82.49, in_stock=True, currency="USD",
                                    read_from="1-unit row, check/wire column", tokens=1440)
    [body] = gemini.calls
    assert gemini.requests[0].path.endswith(f"/models/{MODEL}:generateContent")
    assert body["generationConfig"]["temperature"] == 0
    assert body["generationConfig"]["responseMimeType"] == "application/json"
    assert set(body["generationConfig"]["responseSchema"]["properties"]) == {"price", "in_stock", "currency",
                                                                             "read_from"}
    image = next(part["inlineData"] for part in body["contents"][0]["parts"] if "inlineData" in part)
    sent = base64.urlsafe_b64decode(image["data"] + "=" * (-len(image["data"]) % 4))  # the SDK sends URL-safe base64
    assert (image.get("mimeType") or image.get("mime_type"), sent) == ("image/jpeg", JPEG)
    prompt = gemini.prompt_of(body)
    assert "American Silver Eagle" in prompt and "silver, 1 troy oz" in prompt
    assert "$70.20 and $234.00" in prompt and "check, wire" in prompt and "never the columns: card" in prompt


def test_429_waits_the_retry_info_delay_then_reads(make_settings, gemini, target):
    gemini.answers["Apmex"] = Answer(price=82.49, mode="429", fail_times=1)
    reading = read(settings_for(make_settings, gemini), target)
    assert (reading.price, reading.failure) == (82.49, None)
    assert len(gemini.calls) == 2


def test_500_is_retried_then_given_up_without_raising(make_settings, gemini, target):
    gemini.answers["Apmex"] = Answer(mode="500")
    reading = read(settings_for(make_settings, gemini), target, backoff_s=0.01)
    assert reading.price is None
    assert reading.failure == "gave up after 3 calls: HTTP 500 INTERNAL"
    assert len(gemini.calls) == 3


def test_blocked_prompt_is_a_failed_reading(make_settings, gemini, target):
    gemini.answers["Apmex"] = Answer(mode="blocked")
    reading = read(settings_for(make_settings, gemini), target)
    assert (reading.price, reading.failure, reading.tokens) == (None, "blocked: SAFETY", 1290)
    assert len(gemini.calls) == 1


def test_text_that_is_not_json_is_a_failed_reading(make_settings, gemini, target):
    gemini.answers["Apmex"] = Answer(price=34.99, mode="not_json")
    reading = read(settings_for(make_settings, gemini), target)
    assert reading.price is None
    assert reading.failure == "not_json: The price is $34.99 for one coin."


def test_a_price_in_another_currency_is_refused(make_settings, gemini, target):
    gemini.answers["Apmex"] = Answer(price=76.10, currency="EUR")
    reading = read(settings_for(make_settings, gemini), target)
    assert (reading.price, reading.failure) == (None, "wrong_currency: EUR")


def test_a_wrong_key_is_one_failed_reading_and_no_retry(make_settings, gemini, target):
    settings = make_settings(gemini_api_key="not-the-key", gemini_base_url=gemini.base_url)
    reading = read(settings, target)
    assert reading.failure == "HTTP 400 INVALID_ARGUMENT"
    assert len(gemini.requests) == 1


def test_gemini_unreachable_is_a_failed_reading(make_settings, target):
    settings = make_settings(gemini_api_key=GEMINI_KEY, gemini_base_url="http://127.0.0.1:9", vision_timeout_s=2)
    reading = read(settings, target, backoff_s=0.01)
    assert reading.failure is not None and reading.failure.startswith("gave up after 3 calls: no answer")


@pytest.mark.parametrize(("details", "expected"), [
    ({"error": {"details": [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "1.5s"}]}}, 1.5),
    ({"error": {"details": [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "3600s"}]}}, None),
    ({"error": {"details": []}}, None),
    (None, None),
])
def test_retry_delay_from_the_error_details(details, expected):
    assert retry_delay_s(details) == expected
