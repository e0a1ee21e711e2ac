"""The host's env file: where cron jobs get their settings and secrets from (mode 0600 only).

The old container dumped every secret into /etc/environment. Here the entrypoint writes only
the settings' variables to one 0600 file (`staktrakr ops env-file PATH`), and the cron runner
refuses a file others can read.

One file, read three ways in the past (systemd's EnvironmentFile=, python-dotenv in the cron
runner, pydantic-settings in the app), must mean one thing. python-dotenv drops an inline
`# comment`; systemd keeps it as part of the value (`TOKEN=abc   # note` is the token
`abc   # note` there). So `check_env_file` refuses every line the two would read differently
(an inline comment outside quotes, an `export` prefix), every line python-dotenv cannot read
(it would drop it with a warning and the job would run without that setting), and the file
must be UTF-8 text: each case is one ConfigError line naming the file, the line and the fix.
"""

from __future__ import annotations

import io
import os
import stat
from collections.abc import Iterable, Mapping
from pathlib import Path

from dotenv import dotenv_values
from dotenv.parser import parse_stream

from staktrakr.errors import ConfigError
from staktrakr.settings import ENV_FILE_VAR

DEFAULT_ENV_FILE = Path("/etc/staktrakr/env")
# Variables that are not Settings fields but still belong in the env file.
EXTRA_VARIABLES = ("STAKTRAKR_VAR_DIR", "STAKTRAKR_CATALOG_SOURCE", "STAKTRAKR_LOG_FORMAT", "PATH", "TZ")


def env_file_path(environ: Mapping[str, str]) -> tuple[Path, bool]:
    """(path, explicit): STAKTRAKR_ENV_FILE when set (then it must exist), else the default."""
    if environ.get(ENV_FILE_VAR):
        return Path(environ[ENV_FILE_VAR]), True
    return DEFAULT_ENV_FILE, False


def check_private(path: Path) -> None:
    """Refuse a file that group or others may write, or others may read (one line with the fix)."""
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & (stat.S_IROTH | stat.S_IWOTH | stat.S_IXOTH | stat.S_IWGRP):
        raise ConfigError(
            f"env file {path}: mode {mode:04o} lets other users read or change secrets; run: chmod 600 {path}"
        )


def read_env_text(path: Path) -> str:
    """The env file as text; a directory, an unreadable file or bytes that are not UTF-8 are a ConfigError."""
    if path.is_dir():
        raise ConfigError(f"env file {path}: is a directory; point {ENV_FILE_VAR} at a file")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"env file {path}: cannot read: {exc.strerror or exc}") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ConfigError(f"env file {path}: line {line}: not UTF-8 text (byte 0x{data[exc.start]:02x}); "
                          "save the file as UTF-8") from None


def systemd_disagreements(text: str) -> list[tuple[int, str, str]]:
    """(line, variable, problem) for every assignment systemd's EnvironmentFile= would read
    differently from python-dotenv: a `#` after whitespace outside quotes (systemd keeps it in
    the value, dotenv drops it as a comment) and an `export ` prefix (systemd has no such syntax)."""
    problems: list[tuple[int, str, str]] = []
    index, line, length = 0, 1, len(text)
    while index < length:
        end = text.find("\n", index)
        end = length if end == -1 else end
        stripped = text[index:end].lstrip()
        if not stripped or stripped[0] in "#;" or "=" not in text[index:end]:
            index, line = end + 1, line + 1
            continue
        key, _, _ = stripped.partition("=")
        key = key.strip()
        if key.startswith(("export ", "export\t")):
            problems.append((line, key.split()[-1], "'export' prefix (systemd reads no such syntax)"))
        start_line = line
        position = index + text[index:end].index("=") + 1
        quote: str | None = None
        previous = "="
        while position < length:
            char = text[position]
            if char == "\n":
                line += 1
                if quote is None:
                    break
            elif char == "\\" and quote != "'":
                position += 2
                previous = "x"
                continue
            elif quote is not None:
                if char == quote:
                    quote = None
            elif char in "'\"":
                quote = char
            elif char == "#" and previous in " \t":
                problems.append((start_line, key.split()[-1],
                                 "inline comment (systemd keeps '# ...' as part of the value)"))
                while position < length and text[position] != "\n":
                    position += 1
                line += 1
                break
            previous = char
            position += 1
        else:
            line += 1
        index = position + 1
    return problems


def unreadable_lines(text: str) -> list[tuple[int, str]]:
    """(line, problem) for every line python-dotenv cannot read as an assignment (an unclosed
    quote, nothing before '=') or reads as a name without a value (no '=' at all): dotenv would
    drop them with a warning and the job would run without that setting (e.g. on the local
    database instead of TURSO_DATABASE_URL). The line's text is never repeated (it may hold a secret)."""
    problems = []
    for binding in parse_stream(io.StringIO(text)):
        original = binding.original.string
        line = binding.original.line + original[: len(original) - len(original.lstrip())].count("\n")
        if binding.error:
            problems.append((line, "not a KEY=value assignment (an unclosed quote, or no name before '=')"))
        elif binding.key is not None and binding.value is None:
            problems.append((line, "no '=' on the line (a name without a value)"))
    return problems


FIXES = {"export": "remove the 'export ' prefix", "inline": "put comments on their own line"}


def check_env_file(path: Path) -> str:
    """The env file's text when every reader (systemd, cron runner, app) takes it the same way and
    every line is an assignment, a comment or blank; else a ConfigError naming the line and the fix."""
    text = read_env_text(path)
    problems = systemd_disagreements(text)
    if problems:
        number, name, problem = problems[0]
        fix = FIXES["export"] if problem.startswith("'export'") else FIXES["inline"]
        raise ConfigError(f"env file {path}: line {number}: {name}: {problem}; {fix}")
    unreadable = unreadable_lines(text)
    if unreadable:
        number, problem = unreadable[0]
        raise ConfigError(f"env file {path}: line {number}: {problem}; write KEY=value, or put a # before it")
    return text


def load_env_file(path: Path) -> dict[str, str]:
    """The file's variables (no `${}` interpolation: values are taken literally)."""
    text = check_env_file(path)
    check_private(path)
    values = dotenv_values(stream=io.StringIO(text), interpolate=False)
    return {key: value for key, value in values.items() if value is not None}


def settings_variable_names() -> list[str]:
    """Every environment name Settings reads, upper-cased (aliases included)."""
    from staktrakr.settings import Settings

    names = []
    for field_name, info in Settings.model_fields.items():
        alias = info.validation_alias if isinstance(info.validation_alias, str) else None
        names.append((alias or field_name).upper())
    return sorted(set(names) | set(EXTRA_VARIABLES))


def _quote(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def write_env_file(path: Path, environ: Mapping[str, str], names: Iterable[str]) -> list[str]:
    """Write the named variables that are set to `path` as 0600 from the first byte (temp + rename).

    Returns the names written. Values are quoted, so secrets with spaces or quotes survive.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    written = [name for name in names if environ.get(name)]
    temp = path.with_name(path.name + ".tmp")
    temp.unlink(missing_ok=True)
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write("# written by the entrypoint from the process environment; mode 0600\n")
        for name in written:
            handle.write(f"{name}={_quote(environ[name])}\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.chmod(temp, 0o600)
    os.replace(temp, path)
    return written
