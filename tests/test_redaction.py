"""Secrets are redacted before any text is cut (one helper, `log.shorten`), and JSON log lines keep
tracebacks and the record's own time."""

from __future__ import annotations

import io
import json
import logging
from datetime import UTC, datetime

import pytest

from staktrakr.log import JsonFormatter, RedactSecrets, configure_logging, register_secrets, shorten
from staktrakr.store import Store
from tests.cli_helpers import run_cli
from tests.fake_apis import API_KEY, FakeMetalPriceApi, Reply, error_body


def fragments(secret: str, size: int = 6) -> list[str]:
    return [secret[i:i + size] for i in range(len(secret) - size + 1)]


def assert_no_fragment(text: str, secret: str) -> None:
    leaked = [part for part in fragments(secret) if part in text]
    assert not leaked, f"secret fragments {leaked} in {text!r}"


@pytest.mark.parametrize("offset", [150, 190, 195, 290, 296])
def test_shorten_never_leaves_part_of_a_secret_at_the_cut(offset):
    secret = "sk-live-0123456789abcdef"
    text = "x" * offset + secret + " and more text after it " * 20
    for limit in (200, 300):
        assert_no_fragment(shorten(text, limit, [secret]), secret)
    # the old order (cut, then redact) leaked the start of the key at these offsets
    cut_then_redacted = RedactSecrets([secret]).redact(text[:200])
    if offset in (190, 195):
        assert secret[:5] in cut_then_redacted


@pytest.mark.parametrize("offset", [186, 195, 286, 294])
def test_api_error_echoing_the_key_never_reaches_output_logs_or_the_database(offset, tmp_path):
    """MetalPriceAPI answers an error that quotes the key near the cut: stdout, stderr and
    poller_runs.error (the shared database) hold no piece of it."""
    with FakeMetalPriceApi() as api:
        api.latest_replies = [Reply(status=400, body=error_body(400, "p" * offset + f"bad request for {API_KEY} "
                                                                      + "details " * 40))]
        env = {"METAL_PRICE_API_KEY": API_KEY, "METAL_PRICE_API_BASE_URL": api.base_url}
        result = run_cli(["spot"], env=env, var_dir=tmp_path / "var")
    assert result.exit_code == 1 and "error: spot: MetalPriceAPI /latest: HTTP 400" in result.stderr
    assert_no_fragment(result.stdout + result.stderr, API_KEY)
    from staktrakr.settings import load_settings

    with Store.open(load_settings(STAKTRAKR_VAR_DIR=tmp_path / "var")) as store:
        errors = [row["error"] for row in store.db.query("SELECT error FROM poller_runs WHERE job = 'spot'")]
    assert errors and errors[0].startswith("spot: MetalPriceAPI /latest: HTTP 400")
    assert_no_fragment(errors[0], API_KEY)


def test_registered_secrets_are_redacted_everywhere_text_is_shortened():
    register_secrets(["tok-registered-98765"])
    assert shorten("auth failed for tok-registered-98765 at host") == "auth failed for *** at host"
    assert "***" in shorten("GET https://user:pass@host/x?api_key=abc123&x=1")
    assert "abc123" not in shorten("GET https://host/x?api_key=abc123&x=1")


def test_json_log_lines_keep_the_traceback_and_the_records_time():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RedactSecrets(["hunter2-secret"]))
    logger = logging.getLogger("staktrakr.test.json")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        try:
            raise ValueError("token hunter2-secret refused")
        except ValueError:
            logger.exception("write failed")
        record = logging.LogRecord("staktrakr.test.json", logging.INFO, __file__, 1, "old news", (), None)
        record.created = datetime(2026, 3, 15, 20, 0, 1, 250000, tzinfo=UTC).timestamp()
        logger.handle(record)
    finally:
        logger.removeHandler(handler)
    first, second = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert first["msg"] == "write failed" and first["level"] == "error"
    assert "Traceback (most recent call last)" in first["exc"] and "ValueError: token *** refused" in first["exc"]
    assert "hunter2" not in stream.getvalue()
    assert second["ts"] == "2026-03-15T20:00:01.250Z"      # when it happened, not when it was written


def test_configure_logging_registers_the_settings_secrets():
    configure_logging("json", ["settings-secret-abcdef"])
    try:
        assert shorten("echo settings-secret-abcdef") == "echo ***"
    finally:
        configure_logging("json", [])
