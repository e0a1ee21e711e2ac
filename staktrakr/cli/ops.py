"""`staktrakr ops`: what a host runs around the jobs: the cron runner every crontab line calls,
the crontab a host installs, the env file the Fly entrypoint writes.

These commands read no settings themselves before they have to (the runner loads the env file
first; the env-file writer reads the process environment), so they work on a host whose
settings are still being put in place.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from staktrakr.cli.common import err_console, handle_errors
from staktrakr.errors import ConfigError

app = typer.Typer(help="Host operations: run a job as cron does, render a host's crontab, write the env file.",
                  no_args_is_help=True)

# The runner takes everything after JOB verbatim (options included) and passes it to the job; it
# has no --help of its own, so `bin/staktrakr-cron JOB --help` reaches the job and a bare
# `--help` is answered with the runner's usage line (exit 2), as cron logs expect.
PASS_THROUGH = {"ignore_unknown_options": True, "allow_interspersed_args": False}


@app.command("cron", context_settings=PASS_THROUGH, add_help_option=False)
def cron(
    job: Annotated[str | None, typer.Argument(
        metavar="JOB", help="A staktrakr command: scrape, retry, spot, goldback, publish, merge, ...",
        show_default=False)] = None,
    args: Annotated[list[str] | None, typer.Argument(metavar="[ARGS]...", help="Passed to the job as they are.",
                                                        show_default=False)] = None,
) -> None:
    """Run a job as cron does (what bin/staktrakr-cron calls).

    Loads the 0600 env file (STAKTRAKR_ENV_FILE), takes the job's lock (still running: logged, exit 0),
    runs `staktrakr JOB ARGS` with the job's timeout (exit 124) passing TERM/INT on to it, prints one
    JSON log line and exits with the job's code; no JOB: the usage line, exit 2."""
    from staktrakr.ops.cron_runner import run

    raise typer.Exit(run([job] + (args or []) if job is not None else [], os.environ))


@app.command("crontab")
@handle_errors
def crontab(
    host: Annotated[str, typer.Option("--host", help="The host section to render (api, home, ...).",
                                      show_default=False)],
    app_dir: Annotated[Path, typer.Option("--app-dir", help="Where bin/staktrakr-cron lives on the host.",
                                          show_default=False)],
    env_file: Annotated[Path, typer.Option("--env-file", help="The host's 0600 env file.", show_default=False)],
    user: Annotated[str | None, typer.Option("--user", help="Add a user column (for /etc/cron.d files).",
                                                show_default=False)] = None,
    log_suffix: Annotated[str, typer.Option("--log-suffix", help="Appended to each command, e.g. "
                                            "'>> /proc/1/fd/1 2>&1'.")] = "",
    file: Annotated[Path | None, typer.Option("--file", help="The crontab to read (default: the repo's).",
                                                 show_default=False)] = None,
) -> None:
    """Print one host's crontab, rendered from the repo's `crontab`.

    Installers pipe it to `crontab -u USER -` or write it to /etc/cron.d; exit 2 naming the line
    when the file breaks its format, or the host has no section."""
    from staktrakr.ops.crontab import REPO_CRONTAB, render

    source = file or REPO_CRONTAB
    try:
        text = source.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise ConfigError(f"crontab {source}: cannot read: {reason}") from None
    try:
        rendered = render(text, host, app_dir, env_file, user, log_suffix)
    except ValueError as exc:
        raise ConfigError(f"{exc} (in {source})") from None
    typer.echo(rendered, nl=False)


@app.command("env-file")
@handle_errors
def env_file(
    path: Annotated[Path, typer.Argument(help="The env file to write (replaced atomically, mode 0600).",
                                         show_default=False)],
) -> None:
    """Write the settings' variables from this process's environment to an env file (mode 0600).

    Only the variables Settings reads (and that are set) go in, 0600 from the first byte, replaced
    atomically: how the Fly entrypoint hands Fly secrets to cron jobs without /etc/environment."""
    from staktrakr.ops.envfile import settings_variable_names, write_env_file

    try:
        written = write_env_file(path, os.environ, settings_variable_names())
    except OSError as exc:
        raise ConfigError(f"env file {path}: cannot write: {exc.strerror or exc}; check the directory "
                          "and its permissions") from None
    err_console.print(f"env file {path}: wrote {len(written)} variables (mode 0600)", markup=False, highlight=False,
                      soft_wrap=True)
