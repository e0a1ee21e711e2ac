"""The host's env file: where cron jobs get their settings and secrets from (mode 0600 only).

The old container dumped every secret into /etc/environment. Here the entrypoint writes only
the settings' variables to one 0600 file, and the cron runner refuses a file others can read.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Iterable, Mapping

from dotenv import dotenv_values

from staktrakr.errors import ConfigError

ENV_FILE_VAR = "STAKTRAKR_ENV_FILE"
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


def load_env_file(path: Path) -> dict[str, str]:
    """The file's variables (no `${}` interpolation: values are taken literally)."""
    check_private(path)
    try:
        values = dotenv_values(path, interpolate=False)
    except OSError as exc:
        raise ConfigError(f"env file {path}: cannot read: {exc.strerror}") from None
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


def main(argv: list[str] | None = None) -> int:
    """`python -m staktrakr.ops.envfile PATH`: the entrypoint's way to write the env file."""
    import sys

    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m staktrakr.ops.envfile PATH", file=sys.stderr)
        return 2
    written = write_env_file(Path(args[0]), os.environ, settings_variable_names())
    print(f"env file {args[0]}: wrote {len(written)} variables (mode 0600)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
