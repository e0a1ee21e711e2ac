"""A page read as lines of visible text: the HTML view (from the tree regions.py prepared) and
the markdown view (from Firecrawl). Lines carry where the product title is, which lines are
section headings and which belong to controls (variant lists, reviews), and where the
product's own area ends.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import lxml.html

from staktrakr.catalog import VendorRules
from staktrakr.extract.text import collapse, resolve

TITLE_MARK = "\ue000"  # private-use character: never in real page text
CONTROL_MARK = "\ue002"  # private-use character: starts text that belongs to a control
HEADING_MARK = "\ue003"  # private-use character: starts a section heading (h2-h6)
# A short line that is a purchase control: a buy button or what stands in its place.
PURCHASE_LINE = re.compile(
    r"^(?=.{1,40}$).*\b(?:add to (?:cart|bag|basket)|buy (?:it )?now)\b"
    r"|^(?:sold out|out of stock|unavailable|notify me\b.{0,30}|pre-?order(?: now)?|back-?order(?: now)?)$",
    re.IGNORECASE,
)
# A cut_after marker must be a heading-like text, not a sentence that happens to mention it.
MARKER_MAX_EXTRA_CHARS = 40


def first_h1(root: lxml.html.HtmlElement) -> lxml.html.HtmlElement | None:
    """The product title: the first non-empty H1, passing over a site logo's H1 in the page's
    header, navigation or footer when the page has another."""
    headings = [heading for heading in root.iter("h1") if resolve(heading.text_content()).strip()]
    own = next((heading for heading in headings if not _in_site_furniture(heading)), None)
    return own if own is not None else (headings[0] if headings else None)


def _in_site_furniture(element: lxml.html.HtmlElement) -> bool:
    """Inside the page-level header, navigation or footer (not an article's own <header>)."""
    for ancestor in element.iterancestors():
        if ancestor.tag in ("article", "main", "section"):
            return False
        if ancestor.tag in ("header", "nav", "footer") or (ancestor.get("role") or "") in ("banner", "navigation"):
            return True
    return False


@dataclass
class TextView:
    """A page read as lines of visible text (one source: "html" or "markdown").

    `main_start` is the index of the product title line (first H1) or 0: price labels,
    prose and stock words are read from there on, so breadcrumbs and leftovers of the
    header above the title cannot be mistaken for the product's price.
    """

    source: str
    lines: list[str]
    title: str | None = None
    main_start: int = 0
    cut_markers: list[str] = field(default_factory=list)
    control_lines: frozenset[int] = frozenset()
    heading_lines: frozenset[int] = frozenset()

    @property
    def main_lines(self) -> list[str]:
        return self.lines[self.main_start :]

    @property
    def area_end(self) -> int:
        """Where the product's own area ends: at the first section heading after its purchase
        control ("Add to cart", "Sold out", ...). What follows ("Customers also bought", "Shop
        more silver", another product's tiles) is not this product's price or stock. A page with
        no purchase control has no known end."""
        purchase = next((index for index in range(self.main_start, len(self.lines))
                         if index not in self.control_lines and PURCHASE_LINE.search(self.lines[index])), None)
        if purchase is None:
            return len(self.lines)
        return min((index for index in self.heading_lines if index > purchase), default=len(self.lines))

    @property
    def price_lines(self) -> list[str]:
        """All lines with the lines of controls (variant lists, reviews, questions) and those past the
        product's area blanked: "Bought at $30.78 last year" in a review, or a tile under "Shop more
        silver", is no price of this product."""
        end = self.area_end
        if not self.control_lines and end >= len(self.lines):
            return self.lines
        return ["" if index in self.control_lines or index >= end else line for index, line in enumerate(self.lines)]

    @property
    def after_area(self) -> list[str]:
        return self.lines[self.area_end :]


def html_view(root: lxml.html.HtmlElement, rules: VendorRules, title: lxml.html.HtmlElement | None) -> TextView:
    """Visible text as lines (the tree is already marked: a line break at every block element);
    the title line and the lines of controls (variants, reviews) are noted."""
    if title is not None and title.getparent() is None and title is not root:
        title = first_h1(root)
    title_text = collapse(resolve(title.text_content())) if title is not None else None
    if title is not None:
        title.text = TITLE_MARK + (title.text or "")
    headings = [heading for heading in root.iter("h2", "h3", "h4", "h5", "h6") if heading is not title]
    for heading in headings:  # the mark goes after the block's own line break, onto the heading's line
        text = heading.text or ""
        heading.text = "\n" + HEADING_MARK + text[1:] if text.startswith("\n") else HEADING_MARK + text
    body = root.find("body")
    text = resolve((body if body is not None else root).text_content())
    lines: list[str] = []
    main_start, controls, heading_lines = 0, set(), set()
    for raw_line in text.split("\n"):
        line = collapse(raw_line)
        if HEADING_MARK in line:
            line = collapse(line.replace(HEADING_MARK, ""))
            if line:
                heading_lines.add(len(lines))
        if CONTROL_MARK in line:
            line = collapse(line.replace(CONTROL_MARK, ""))
            if line:
                controls.add(len(lines))
        if not line or line == TITLE_MARK:
            if line == TITLE_MARK:
                main_start = len(lines)
            continue
        if line.startswith(TITLE_MARK):
            main_start = len(lines)
            line = line[1:].strip()
        lines.append(line.replace(TITLE_MARK, ""))
    # Undo the marks so later readers of the tree see the real texts.
    if title is not None and title.text is not None:
        title.text = title.text.replace(TITLE_MARK, "", 1)
    for heading in headings:
        heading.text = (heading.text or "").replace(HEADING_MARK, "", 1)
    lines, main_start, (controls, heading_lines) = _drop_pattern_lines(lines, main_start, rules.cut_patterns,
                                                                        controls, heading_lines)
    return TextView(source="html", lines=lines, title=title_text, main_start=main_start,
                    control_lines=frozenset(controls), heading_lines=frozenset(heading_lines))


MD_IMAGE = re.compile(r"!\[[^\]\n]*\]\([^)\n]*\)")
MD_IMAGE_ALT = re.compile(r"!\[([^\]\n]*)\]\([^)\n]*\)")
MD_LINK = re.compile(r"\[([^\]\n]*)\]\([^)\n]*\)")
MD_EMPHASIS = re.compile(r"(\*\*|__|\*|`)")
MD_HEADING = re.compile(r"^(#{1,6})\s+(.*)$")


def markdown_view(markdown: str, rules: VendorRules) -> TextView | None:
    """Markdown (e.g. from Firecrawl) as lines: links to text, images dropped, title = first '# '.

    Lines before the first H1 are the site header (tickers, menus) and are not part of the
    main region; cut_after truncates at the first short marker line after the title.
    """
    if not markdown or not markdown.strip():
        return None
    lines: list[str] = []
    title, main_start, heading_lines = None, 0, set()
    for raw_line in markdown.splitlines():
        # Images keep their alt text inside table rows (an icon heading a payment column).
        line = MD_IMAGE_ALT.sub(r"\1", raw_line) if raw_line.lstrip().startswith("|") else MD_IMAGE.sub("", raw_line)
        line = MD_LINK.sub(r"\1", line)
        line = collapse(MD_EMPHASIS.sub("", line))
        if not line or set(line) <= set("-=*_ "):
            continue
        heading = MD_HEADING.match(line)
        if heading:
            line = heading.group(2).strip()
            if len(heading.group(1)) == 1 and title is None and line:
                title, main_start = line, len(lines)
            elif line:
                heading_lines.add(len(lines))
        if line:
            lines.append(line)
    lines, main_start, (_, heading_lines) = _drop_pattern_lines(lines, main_start, rules.cut_patterns, set(),
                                                                 heading_lines)
    lines, markers = _cut_after_lines(lines, main_start, rules.cut_after)
    return TextView(source="markdown", lines=lines, title=title, main_start=main_start, cut_markers=markers,
                    heading_lines=frozenset(index for index in heading_lines if index < len(lines)))


def _drop_pattern_lines(lines: list[str], main_start: int, patterns: list[str], *marked: set[int]
                        ) -> tuple[list[str], int, tuple[set[int], ...]]:
    """Drop lines matching any cut pattern, keeping the title index and the marked line sets
    (controls, headings) in step."""
    if not patterns:
        return lines, main_start, marked
    compiled = [re.compile(pattern, re.IGNORECASE) for pattern in patterns]
    kept: list[str] = []
    new_start = 0
    kept_marks: tuple[set[int], ...] = tuple(set() for _ in marked)
    for index, line in enumerate(lines):
        if index == main_start:
            new_start = len(kept)
        if any(pattern.search(line) for pattern in compiled):
            continue
        for source, target in zip(marked, kept_marks, strict=True):
            if index in source:
                target.add(len(kept))
        kept.append(line)
    return kept, min(new_start, max(len(kept) - 1, 0)), kept_marks


def _cut_after_lines(lines: list[str], main_start: int, markers: list[str]) -> tuple[list[str], list[str]]:
    lowered = [marker.lower() for marker in markers]
    for index in range(main_start + 1, len(lines)):
        line = lines[index].lower()
        for marker, original in zip(lowered, markers, strict=True):
            if marker in line and len(line) <= len(marker) + MARKER_MAX_EXTRA_CHARS:
                return lines[:index], [original]
    return lines, []


