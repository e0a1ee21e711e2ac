"""The `staktrakr` command: one thin command per job (DESIGN.md section 2).

Each module under `staktrakr/cli/` owns one command (exposing `register(app)`) or one group (an
`app` of its own: providers, db, ops); commands parse options, call a job or library function,
and render its result (rich or `--json`). This is the package's only command line.

A command's module (and what it imports: the database client, the fetchers, the browser) is
imported only when that command runs or help lists it, so `staktrakr --version` and a publish
start without loading the scraper.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator, MutableMapping
from typing import Annotated, Any

import typer

from staktrakr import __version__
from staktrakr.cli.base import Group, Verbosity, use_plain_help

GROUPS = ("providers", "db", "ops")  # modules with an `app` of their own, by command name
COMMANDS = {  # command name -> the module whose register(app) defines it
    "scrape": "scrape", "demo": "scrape", "retry": "retry", "spot": "spot", "goldback": "goldback",
    "publish": "publish", "merge": "merge", "serve": "serve", "status": "status",
    "diagnose": "diagnose", "alerts": "alerts", "doctor": "doctor",
}


# typer's click Command (typer >= 0.20 vendors its own click, older ones use click's): duck-typed.
Command = Any


def _load(name: str, add: Callable[[typer.Typer], None]) -> Command:
    """Command `name` as the root app would have it: added to a holder group, then taken from it."""
    holder = typer.Typer(add_completion=False, rich_markup_mode="markdown")  # as the root: paragraphs wrap
    holder.callback()(lambda: None)  # a group, also for a module with one command
    add(holder)
    use_plain_help(holder)
    return typer.main.get_command(holder).commands[name]  # type: ignore[attr-defined]


def _load_group(name: str) -> Command:
    module = importlib.import_module(f"staktrakr.cli.{name}")
    return _load(name, lambda holder: holder.add_typer(module.app, name=name))


def _load_command(name: str) -> Command:
    return _load(name, importlib.import_module(f"staktrakr.cli.{COMMANDS[name]}").register)


class LazyCommands(MutableMapping[str, Command]):
    """The root group's commands, each built from its module on first access."""

    def __init__(self, loaders: dict[str, Callable[[], Command]]) -> None:
        self.loaders = loaders
        self.loaded: dict[str, Command] = {}

    def __getitem__(self, name: str) -> Command:
        if name not in self.loaded:
            self.loaded[name] = self.loaders[name]()
        return self.loaded[name]

    def __setitem__(self, name: str, command: Command) -> None:
        self.loaded[name] = command
        self.loaders.setdefault(name, lambda: command)

    def __delitem__(self, name: str) -> None:
        self.loaders.pop(name)
        self.loaded.pop(name, None)

    def __iter__(self) -> Iterator[str]:
        return iter(self.loaders)

    def __len__(self) -> int:
        return len(self.loaders)


class LazyGroup(Group):
    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        loaders: dict[str, Callable[[], Command]] = {
            name: (lambda name=name: _load_group(name)) for name in GROUPS}  # type: ignore[misc]
        loaders.update({name: (lambda name=name: _load_command(name)) for name in COMMANDS})  # type: ignore[misc]
        self.commands = LazyCommands(loaders)


app = typer.Typer(
    name="staktrakr",
    help="Scrape bullion dealers, fetch spot and Goldback rates, publish the static JSON API.",
    no_args_is_help=True,
    add_completion=True,  # `staktrakr --install-completion` (bash, zsh, fish, PowerShell)
    pretty_exceptions_enable=False,
    rich_markup_mode="markdown",  # docstrings wrap as paragraphs, not at their source line breaks
    cls=LazyGroup,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"staktrakr {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: Annotated[bool | None, typer.Option("--version", callback=_version, is_eager=True,
                                                    help="Print the version and exit.")] = None,
    verbose: Annotated[bool, typer.Option("--verbose", help="Log debug detail on stderr.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet",
                                        help="Log only warnings and errors; no progress line.")] = False,
) -> None:
    """staktrakr: the precious-metals price poller. Exit codes: 0 ok, 1 job failed, 2 usage/config error."""
    if verbose and quiet:
        raise typer.BadParameter("give --verbose or --quiet, not both")
    Verbosity.verbose, Verbosity.quiet = verbose, quiet


def main() -> None:
    app()
