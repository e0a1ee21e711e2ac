"""How the terminal output reads: ages, yes/no, "unknown", and tables that fit 80 columns.

Rules every command's human output follows (issue 14): no Python reprs (`None`, `False`), ages as
"4 min ago", identifiers (coin slugs, vendor ids, fetcher names, URLs) never cut or ellipsized:
free text (reasons, errors) is what wraps when the terminal is narrow.
"""

from __future__ import annotations

import os
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table

UNKNOWN = "unknown"
PIPED_WIDTH = 200  # piped output (cron logs, CI) has no terminal width: keep one row per line


def out_console(console: Console) -> Console:
    """The console to render tables on: the terminal's (or COLUMNS when set), else a wide one for pipes."""
    if console.is_terminal or os.environ.get("COLUMNS"):
        return console
    return Console(width=PIPED_WIDTH, file=console.file, soft_wrap=False)


def span(seconds: float | None) -> str:
    """A duration for people: "45 s", "4 min", "2.5 h", "3.0 d"; "-" when there is none."""
    if seconds is None:
        return "-"
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 2 * 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} d"


def ago(seconds: float | None, missing: str = "never") -> str:
    """How long ago: "just now", "4 min ago", "2.5 h ago"; `missing` when there is no time."""
    if seconds is None:
        return missing
    if seconds < 5:
        return "just now"
    return f"{span(seconds)} ago"


def yes_no(value: bool | None) -> str:
    """A flag for people: yes / no / unknown (never True/False/None)."""
    return UNKNOWN if value is None else "yes" if value else "no"


def shown(value: Any, missing: str = UNKNOWN) -> str:
    """A value that may be absent, as text: `missing` instead of None."""
    return missing if value is None else str(value)


def table(*, title: str | None = None) -> Table:
    """A table for the terminal: a light frame (fewer columns of borders at 80 columns), header kept."""
    return Table(title=title, box=box.SIMPLE_HEAD, pad_edge=False, title_justify="left")


def id_column(grid: Table, header: str, values: list[str], justify: str = "left") -> None:
    """A column of identifiers: wide enough for the longest one, never wrapped, never cut."""
    width = max([len(header), *(len(value) for value in values)])
    grid.add_column(header, no_wrap=True, min_width=width, justify=justify)  # type: ignore[arg-type]


def text_column(grid: Table, header: str, ratio: int = 1) -> None:
    """A column of free text (reasons, errors): it takes the remaining width and wraps at words."""
    grid.add_column(header, overflow="fold", ratio=ratio)
