"""Whitespace layouts of a generated page: minified (nothing between tags) or pretty-printed
(indented, text on its own lines), both rendering the same text a reader sees.

Pretty-printing only adds whitespace a browser does not show or shows as one harmless space:
inside and between block elements, and around the whole text of an inline element that holds
words or a complete amount. It never touches the pieces of an amount split over elements
("$", "5,163", "42"), so "$5,163.42" still reads as one amount.
"""

from __future__ import annotations

import re

import lxml.html

BLOCK_TAGS = frozenset(
    "address article aside blockquote body button dd details div dl dt fieldset figure footer form h1 h2 h3 h4 h5 "
    "h6 head header html label legend li main nav ol option p section select summary table tbody td tfoot th "
    "thead tr ul".split()
)
INLINE_TAGS = frozenset("a abbr b bdi data del em i ins s small span strike strong sub sup time u".split())
WHOLE_TEXT = re.compile(r"[A-Za-z]|[$€£]\s?\d")
INDENT = "  "


def minify(html: str) -> str:
    """No whitespace between tags (themes that strip it)."""
    return re.sub(r">\s+<", "><", html)


def pretty_print(html: str) -> str:
    """Indented HTML that reads the same (see the module docstring)."""
    root = lxml.html.document_fromstring(html)
    _indent(root, 0)
    return lxml.html.tostring(root, doctype="<!doctype html>", encoding="unicode", method="html") + "\n"


def _indent(element: lxml.html.HtmlElement, depth: int) -> None:
    if not isinstance(element.tag, str) or element.tag in ("script", "style", "title"):
        return
    inner, outer = "\n" + INDENT * (depth + 1), "\n" + INDENT * depth
    children = list(element)
    if element.tag in BLOCK_TAGS:
        if not children:
            if element.text and element.text.strip():
                element.text = inner + element.text.strip() + outer
            return
        element.text = inner + (element.text or "").lstrip()
        for index, child in enumerate(children):
            if isinstance(child.tag, str) and child.tag in BLOCK_TAGS:
                child.tail = inner + (child.tail or "").lstrip()
                if index:
                    children[index - 1].tail = (children[index - 1].tail or "").rstrip() + inner
        last = children[-1]
        last.tail = (last.tail or "").rstrip() + outer
    elif element.tag in INLINE_TAGS and not children and element.text and WHOLE_TEXT.search(element.text):
        element.text = inner + element.text.strip() + outer
    for child in children:
        _indent(child, depth + 1)
