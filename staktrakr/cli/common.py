"""Shared CLI pieces: options declared once, settings + logging set-up, error-to-exit-code mapping."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any, TypeVar, cast

import typer

from staktrakr.cli.base import Verbosity
from staktrakr.errors import StaktrakrError
from staktrakr.log import RedactSecrets, configure_logging, shorten
from staktrakr.settings import Settings, load_settings

if TYPE_CHECKING:
    from rich.console import Console

    from staktrakr.jobs.harness import RunReport

JsonOpt = Annotated[bool, typer.Option("--json", help="Print the result as JSON on stdout.")]
DryRunOpt = Annotated[bool, typer.Option("--dry-run", help="Do everything except write or push.")]
EvidenceOpt = Annotated[bool, typer.Option(
    "--keep-evidence", help="Keep failed targets' pages under var/evidence/ in a --dry-run too "
                            "(always kept otherwise).")]
CoinOpt = Annotated[list[str] | None, typer.Option("--coin", help="Coin slug (repeatable).", show_default=False)]
VendorOpt = Annotated[list[str] | None, typer.Option("--vendor", help="Vendor id (repeatable).", show_default=False)]



class _ConsoleOnFirstUse:
    """A rich Console built when first used: a `--json` run from cron prints without rich, and
    importing it costs ~20 ms of every command's start. Reads are passed on to the Console."""

    def __init__(self, **options: Any) -> None:
        self._options = options
        self._console: Console | None = None

    def __getattr__(self, name: str) -> Any:
        if self._console is None:
            from rich.console import Console

            self._console = Console(**self._options)
        return getattr(self._console, name)


console = cast("Console", _ConsoleOnFirstUse(soft_wrap=True))  # piped output (cron logs): one message a line
err_console = cast("Console", _ConsoleOnFirstUse(stderr=True))
F = TypeVar("F", bound=Callable[..., Any])


def setup(verbose: bool = False) -> Settings:
    """Load settings once and configure logging with their secrets redacted, at the level the
    top-level `--verbose` (DEBUG) or `--quiet` (warnings and errors only, no progress line) asked for."""
    settings = load_settings()
    configure_logging(settings.staktrakr_log_format, settings.secret_values(), verbose or Verbosity.verbose,
                      quiet=Verbosity.quiet)
    return settings


_json_emitted = [False]  # set once a command has printed its JSON result (then errors add none)


def emit_json(data: Any, settings: Settings | None = None) -> None:
    """JSON on stdout, secrets redacted (belt and braces: results never hold them on purpose)."""
    text = json.dumps(data, indent=2, sort_keys=True, default=str)
    if settings is not None:
        text = RedactSecrets(settings.secret_values()).redact(text)
    sys.stdout.write(text + "\n")
    _json_emitted[0] = True


def handle_errors(command: F) -> F:
    """Operator-fixable errors become one line on stderr and their exit code (1 job, 2 config);
    with `--json`, stdout also gets `{"error": ..., "exit_code": ...}` so a pipe always reads JSON."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        def fail(message: str, code: int) -> typer.Exit:
            err_console.print(f"error: {message}", markup=False, highlight=False, soft_wrap=True)
            if kwargs.get("json_output") and not _json_emitted[0]:
                sys.stdout.write(json.dumps({"error": message, "exit_code": code}) + "\n")
            return typer.Exit(code)

        _json_emitted[0] = False
        try:
            return command(*args, **kwargs)
        except StaktrakrError as exc:
            raise fail(str(exc), exc.exit_code) from None
        except OSError as exc:  # a directory or file the job needs: fixable by the operator, not a bug
            raise fail(os_error_line(exc), 1) from None
        except KeyboardInterrupt:
            raise fail("interrupted", 130) from None

    return wrapper  # type: ignore[return-value]


def finish_run(report: RunReport | None, json_output: bool = False) -> None:
    """The end every job command shares, after its own rendering: what the run recovered or moved
    aside (one line each, stderr), then the exit code its end means (143/130 interrupted, 1 when
    outbox entries were quarantined or rejected)."""
    from staktrakr.jobs.harness import conclude

    if report is None:
        return
    if not json_output:
        for run_id in report.recovered_runs:
            err_console.print(f"recovered run {run_id} from its journal (the process was killed): queued and "
                              "replayed", markup=False, highlight=False, soft_wrap=True)
        for problem in report.outbox_problems:
            err_console.print(f"warning: {shorten(problem, 400)}", markup=False, highlight=False, soft_wrap=True)
        for warning in report.warnings:
            err_console.print(f"warning: {shorten(warning, 400)}", markup=False, highlight=False, soft_wrap=True)
    conclude(report)


def os_error_line(exc: OSError) -> str:
    """One line naming the path and the reason, with where to look (the path settings)."""
    if exc.filename is None:
        return f"{type(exc).__name__}: {exc}"
    return (f"cannot use {exc.filename}: {exc.strerror or exc}; check the path settings "
            "(STAKTRAKR_VAR_DIR, API_EXPORT_DIR, PROVIDERS_FILE) and their permissions")


