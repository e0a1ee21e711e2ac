"""The `staktrakr` command: one thin command per job (DESIGN.md section 2).

Each module under `staktrakr/cli/` owns one command (exposing `register(app)`) or one group (an
`app` of its own: providers, db, ops); commands parse options, call a job or library function,
and render its result (rich or `--json`). This is the package's only command line.
"""

from __future__ import annotations

from typing import Annotated

import typer

from staktrakr import __version__
from staktrakr.cli import db, doctor, goldback, merge, ops, providers, publish, retry, scrape, serve, spot, status
from staktrakr.cli.common import Group, Verbosity, use_plain_help

app = typer.Typer(
    name="staktrakr",
    help="Scrape bullion dealers, fetch spot and Goldback rates, publish the static JSON API.",
    no_args_is_help=True,
    add_completion=True,  # `staktrakr --install-completion` (bash, zsh, fish, PowerShell)
    pretty_exceptions_enable=False,
    rich_markup_mode="markdown",  # docstrings wrap as paragraphs, not at their source line breaks
    cls=Group,
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


app.add_typer(providers.app, name="providers")
app.add_typer(db.app, name="db")
app.add_typer(ops.app, name="ops")
for module in (scrape, retry, spot, goldback, publish, merge, serve, status, doctor):
    module.register(app)
use_plain_help(app)


def main() -> None:
    app()
