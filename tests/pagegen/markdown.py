"""A generated page as Firecrawl returns it with onlyMainContent: site furniture removed (header,
footer, nav, aside and Firecrawl's class list: sidebar, breadcrumbs, menu, modal, popup...),
the rest as markdown: "#" headings, GFM pipe tables, "- " list items, "~~struck~~" for
<s>/<del>/<strike>, "**bold**", "[text](href)" links; buttons keep their text, form inputs
and scripts are gone, and CSS (hidden text, strikethrough classes, disabled states) means
nothing. The text a reader sees is the same words in the same order.
"""

from __future__ import annotations

import re

import lxml.html

EXCLUDED_TAGS = frozenset({"script", "style", "noscript", "template", "head", "svg", "iframe", "header", "footer",
                           "nav", "aside", "input", "meta", "link"})
# Firecrawl's non-main-content class selectors (whole class tokens).
EXCLUDED_CLASSES = frozenset({"header", "top", "navbar", "footer", "bottom", "sidebar", "side", "aside", "modal",
                              "popup", "overlay", "ad", "ads", "advert", "lang-selector", "language", "social",
                              "social-media", "social-links", "menu", "navigation", "breadcrumbs", "search", "share",
                              "pagination", "widget", "related", "cookie"})
BLOCK_TAGS = frozenset("address article blockquote body div dl dt dd fieldset figure form legend main p section "
                       "details summary".split())
BLOCK = "\n\n"


def to_markdown(html: str) -> str:
    """The page's main content as markdown (see the module docstring)."""
    root = lxml.html.document_fromstring(html)
    body = root.find("body")
    text = _children(body if body is not None else root)
    lines = [" ".join(line.split()) if not line.startswith("|") else line.strip() for line in text.split("\n")]
    kept: list[str] = []
    for line in lines:
        if line or (kept and kept[-1]):
            kept.append(line)
    return "\n".join(kept).strip() + "\n"


def _excluded(element: lxml.html.HtmlElement) -> bool:
    if element.tag in EXCLUDED_TAGS:
        return True
    return bool(EXCLUDED_CLASSES & set((element.get("class") or "").split()))


def _children(element: lxml.html.HtmlElement) -> str:
    parts = [_inline_text(element.text)]
    for child in element:
        if isinstance(child.tag, str) and not _excluded(child):
            parts.append(_node(child))
        parts.append(_inline_text(child.tail))
    return "".join(parts)


def _inline_text(text: str | None) -> str:
    return re.sub(r"\s+", " ", text) if text else ""


def _node(element: lxml.html.HtmlElement) -> str:
    tag = element.tag
    if tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
        return f"{BLOCK}{'#' * int(tag[1])} {_flat(element)}{BLOCK}"
    if tag == "br":
        return "\n"
    if tag in ("ul", "ol"):
        items = [_flat(item) for item in element if item.tag == "li" and not _excluded(item)]
        return BLOCK + "\n".join(f"- {item}" for item in items if item) + BLOCK
    if tag == "table":
        return BLOCK + _table(element) + BLOCK
    if tag == "select":
        return " ".join(_flat(option) for option in element.iter("option"))
    inner = _children(element)
    if tag in ("s", "del", "strike"):
        return f"~~{inner.strip()}~~" if inner.strip() else ""
    if tag in ("b", "strong"):
        return f"**{inner.strip()}**" if inner.strip() else ""
    if tag == "a":
        return f"[{inner.strip()}]({element.get('href') or ''})" if inner.strip() else ""
    if tag == "img":
        return f"![{element.get('alt') or ''}]({element.get('src') or ''})"
    if tag in BLOCK_TAGS or tag in ("li", "tr", "td", "th", "label", "button"):
        return BLOCK + inner + BLOCK if tag in BLOCK_TAGS else inner
    return inner


def _flat(element: lxml.html.HtmlElement) -> str:
    """An element's markdown on one line (list items, headings, table cells)."""
    return " ".join(_children(element).split())


def _table(table: lxml.html.HtmlElement) -> str:
    rows = [[_flat(cell).replace("|", "\\|") for cell in row if cell.tag in ("td", "th")]
            for row in table.iter("tr")]
    rows = [row for row in rows if row]
    if not rows:
        return ""
    width = max(len(row) for row in rows)
    rows = [row + [""] * (width - len(row)) for row in rows]
    lines = ["| " + " | ".join(rows[0]) + " |", "| " + " | ".join("---" for _ in range(width)) + " |"]
    return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in rows[1:]])
