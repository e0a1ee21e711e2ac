"""Root-level CLI pieces that load nothing heavy (the root command imports them before any
command's module): how --help renders options, and what --verbose / --quiet asked for."""

from __future__ import annotations

from typing import Any

import typer
from typer.core import TyperCommand, TyperGroup


class Verbosity:
    """What the top-level `--verbose` / `--quiet` asked for (set once per invocation by the root callback)."""

    verbose = False
    quiet = False


def _untyped_flags(params: list[Any]) -> list[Any]:
    """Help shows what an option takes, not a Python type: nothing for a flag (not `<bool>`), the
    option's name in capitals for a value (`--coin COIN`, not `<list[str]>`); an argument shows
    its name only (`SLUG`, not `SLUG <str>`)."""
    for param in params:
        if param.metavar is not None:
            continue
        if param.param_type_name == "argument":
            # the name column already says SLUG; typer would add the Python type (`<str>`) beside it
            param.metavar = str(param.name).upper()
            param.display_type_rich = _no_type
        elif param.param_type_name == "option":
            param.metavar = "" if getattr(param, "is_flag", False) else str(param.name).upper()
    return params


def _no_type(ctx: Any) -> None:
    return None


class Command(TyperCommand):
    """A command whose --help shows flags bare and values by name (`--dry-run`, `--coin COIN`)."""

    def get_params(self, ctx: Any) -> list[Any]:
        return _untyped_flags(list(super().get_params(ctx)))


class Group(TyperGroup):
    """A command group whose --help shows flags bare and values by name."""

    def get_params(self, ctx: Any) -> list[Any]:
        return _untyped_flags(list(super().get_params(ctx)))


def use_plain_help(app: typer.Typer) -> None:
    """Every command and group of `app` (recursively) renders its --help through Command/Group."""
    for command in app.registered_commands:
        if command.cls in (None, TyperCommand):
            command.cls = Command
    for group in app.registered_groups:
        if group.typer_instance is not None:
            if group.typer_instance.info.cls in (None, TyperGroup):
                group.typer_instance.info.cls = Group
            use_plain_help(group.typer_instance)
