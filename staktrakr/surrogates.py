"""Lone UTF-16 surrogates: text Python can hold but UTF-8 cannot encode.

A dealer page's JSON (`"name": "Eagle \\ud800"`) decodes to a `str` with a lone surrogate;
writing it to the journal, the outbox or the database would raise UnicodeEncodeError and lose
the cycle. Every such code point is replaced with U+FFFD (the Unicode replacement character)
where page data enters (extract/) and again wherever rows are serialized (store/), so no page
can make a write fail.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

LONE_SURROGATE = re.compile("[\ud800-\udfff]")
REPLACEMENT = "\ufffd"


def scrub_surrogates(value: Any) -> Any:
    """`value` with every lone surrogate in its strings (dict keys included, at any depth)
    replaced by U+FFFD; other values are returned as they are (the same object when clean)."""
    if isinstance(value, str):
        return LONE_SURROGATE.sub(REPLACEMENT, value) if LONE_SURROGATE.search(value) else value
    if isinstance(value, dict):
        return {scrub_surrogates(key): scrub_surrogates(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(scrub_surrogates(item) for item in value)
    return value


def utf8_json_line(data: Any, dumps: Callable[[Any], str]) -> bytes:
    """`dumps(data)` (a JSON text) as UTF-8 bytes plus a newline; a lone surrogate anywhere is
    replaced instead of raising, so serializing rows can never fail on page text."""
    try:
        return (dumps(data) + "\n").encode("utf-8")
    except UnicodeEncodeError:
        return (dumps(scrub_surrogates(data)) + "\n").encode("utf-8")
