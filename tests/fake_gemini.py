"""A fake of Gemini's `models/{model}:generateContent` REST endpoint on 127.0.0.1.

Answers with the documented `GenerateContentResponse` shape (ai.google.dev/api/generate-content):
`candidates[0].content.parts` holding a thought part (`"thought": true`) and then the JSON answer
as text, `finishReason`, `usageMetadata` (prompt, candidates, thoughts and total token counts),
`modelVersion`; and its failures: 429 RESOURCE_EXHAUSTED with a `google.rpc.RetryInfo` detail,
500 INTERNAL, a blocked prompt (`promptFeedback.blockReason`, no candidates), text that is not
JSON, a price in another currency. The answer for a request is the first of `answers` whose key
the prompt contains (a vendor name, a coin name), else `default`, so one fake serves a whole
cycle. Every request is recorded with its parsed JSON body.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from typing import Any

from tests.fake_apis import Recorded, Reply, ScriptedFake, ScriptedServer

GEMINI_KEY = "test-gemini-key-4b1e"
MODEL = "gemini-2.5-flash"
USAGE = {"promptTokenCount": 1290, "candidatesTokenCount": 38, "thoughtsTokenCount": 112, "totalTokenCount": 1440}


@dataclass
class Answer:
    """What the model says for one vendor: a price reading, or a failure mode."""

    price: float | None = None
    in_stock: bool | None = True
    currency: str = "USD"
    read_from: str = "1-unit row, check/wire column"
    mode: str = "ok"            # ok | 429 | 500 | blocked | not_json
    fail_times: int = 0         # for 429/500: fail this many calls, then answer (0: always fail)


def ok_body(answer: Answer) -> dict[str, Any]:
    text = json.dumps({"price": answer.price, "in_stock": answer.in_stock, "currency": answer.currency,
                       "read_from": answer.read_from})
    return {
        "candidates": [{
            "content": {"role": "model", "parts": [
                {"text": "The pricing table's first row is 1-24 units; the check/wire column reads the price.",
                 "thought": True},
                {"text": text},
            ]},
            "finishReason": "STOP",
            "index": 0,
        }],
        "usageMetadata": USAGE,
        "modelVersion": MODEL,
        "responseId": "fake-response-1",
    }


def error_reply(code: int, status: str, message: str, retry_delay: str | None = None) -> Reply:
    details: list[dict[str, Any]] = []
    if retry_delay is not None:
        details.append({"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": retry_delay})
    return Reply(status=code, body={"error": {"code": code, "message": message, "status": status, "details": details}})


@dataclass
class FakeGemini(ScriptedFake):
    """The fake endpoint; `base_url` goes into GEMINI_BASE_URL."""

    answers: dict[str, Answer] = field(default_factory=dict)
    default: Answer = field(default_factory=lambda: Answer(price=None))
    latency_s: float = 0.0
    calls: list[dict[str, Any]] = field(default_factory=list)   # parsed request bodies, in order
    _failed: dict[str, int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.server = ScriptedServer(lambda path, query, headers: Reply(status=500),
                                     handle_request=self._handle)

    @property
    def base_url(self) -> str:
        return self.server.url

    def prompt_of(self, body: dict[str, Any]) -> str:
        parts = body["contents"][0]["parts"]
        return "".join(part.get("text", "") for part in parts)

    def _handle(self, request: Recorded) -> Reply:
        if request.headers.get("x-goog-api-key") != GEMINI_KEY:
            return error_reply(400, "INVALID_ARGUMENT", "API key not valid. Please pass a valid API key.")
        if not request.path.endswith(f"/models/{MODEL}:generateContent"):
            return error_reply(404, "NOT_FOUND", f"{request.path} is not found")
        body = json.loads(request.body)
        with self._lock:
            self.calls.append(body)
        prompt = self.prompt_of(body)
        vendor = next((key for key in self.answers if key in prompt), None)
        answer = self.answers[vendor] if vendor is not None else self.default
        reply = self._reply(vendor or "", answer)
        reply.delay_s = self.latency_s
        return reply

    def _reply(self, vendor: str, answer: Answer) -> Reply:
        if answer.mode in ("429", "500"):
            with self._lock:
                failed = self._failed.get(vendor, 0)
                self._failed[vendor] = failed + 1
            if not answer.fail_times or failed < answer.fail_times:
                if answer.mode == "429":
                    return error_reply(429, "RESOURCE_EXHAUSTED", "Resource has been exhausted (e.g. check quota).",
                                       retry_delay="0.2s")
                return error_reply(500, "INTERNAL", "An internal error has occurred.")
        if answer.mode == "blocked":
            return Reply(body={"promptFeedback": {"blockReason": "SAFETY", "safetyRatings": []},
                               "usageMetadata": {"promptTokenCount": 1290, "totalTokenCount": 1290},
                               "modelVersion": MODEL})
        if answer.mode == "not_json":
            body = ok_body(answer)
            body["candidates"][0]["content"]["parts"][1]["text"] = "The price is $34.99 for one coin."
            return Reply(body=body)
        return Reply(body=ok_body(answer))
