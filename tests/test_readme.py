"""The README tells the truth about the command line and the settings.

Its command table (section "Commands") is compared with the real Typer app: every command and
option in the table exists, and every command and option of the app is in the table. Its
settings table (section "Configuration") names exactly the variables `Settings` reads. The
commands shown as examples elsewhere in the README (code blocks and inline code) must run as
written. Each checker is also run on a doctored README, so these tests can fail.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
import typer

from staktrakr.cli import app
from staktrakr.settings import Settings
from tests.cli_helpers import cli_problems

REPO = Path(__file__).resolve().parent.parent
README = (REPO / "README.md").read_text(encoding="utf-8")
PROGRAMS = ("staktrakr", ".venv/bin/staktrakr", "bin/staktrakr-cron")  # how the README runs the command line
WORD = re.compile(r"[a-z][a-z0-9-]*")
OPTION = re.compile(r"(?<![\w-])--[a-z][a-z0-9-]*")


@pytest.fixture(scope="module")
def root():
    return typer.main.get_command(app)


# --- reading the README ---------------------------------------------------------------------------

def section(text: str, heading: str) -> str:
    """The body of the `## heading` section, up to the next `## ` heading."""
    match = re.search(rf"^## {re.escape(heading)}\n(.*?)(?=^## |\Z)", text, flags=re.MULTILINE | re.DOTALL)
    assert match, f"README has no '## {heading}' section"
    return match.group(1)


def first_cells(text: str) -> list[str]:
    """The first cell of every body row of the Markdown tables in `text` (header and rule skipped),
    with `\\|` read as a literal pipe."""
    cells: list[str] = []
    rows = [line for line in text.splitlines() if line.startswith("|")]
    for index, row in enumerate(rows):
        if index + 1 < len(rows) and re.fullmatch(r"\|(\s*:?-+:?\s*\|)+", rows[index + 1]):
            continue  # a header row
        if re.fullmatch(r"\|(\s*:?-+:?\s*\|)+", row):
            continue
        cell = re.split(r"(?<!\\)\|", row)[1]
        cells.append(cell.replace("\\|", "|").strip())
    return cells


def table_commands(text: str) -> dict[tuple[str, ...], set[str]]:
    """Command path (words after `staktrakr`) -> the options its rows of the command table show."""
    commands: dict[tuple[str, ...], set[str]] = {}
    for cell in first_cells(section(text, "Commands")):
        usage = cell.strip("`")
        words = usage.split()
        assert words and words[0] == "staktrakr", f"command table row does not start with staktrakr: {cell}"
        path: list[str] = []
        for word in words[1:]:
            if not WORD.fullmatch(word):
                break
            path.append(word)
        commands.setdefault(tuple(path), set()).update(OPTION.findall(usage))
    return commands


def table_settings(text: str) -> set[str]:
    """Every variable named in the first column of the settings table."""
    names: set[str] = set()
    for cell in first_cells(section(text, "Configuration")):
        names |= set(re.findall(r"`([A-Z][A-Z0-9_]*)`", cell))
    return names


def example_command_lines(text: str, inline: bool) -> list[list[str]]:
    """Every `staktrakr ...` / `bin/staktrakr-cron ...` command the README shows outside its tables,
    as words: in fenced code blocks, or (`inline`) in inline code. Usage lines with placeholders
    (`bin/staktrakr-cron JOB [ARGS]`) are skipped."""
    if inline:
        prose = re.sub(r"^```.*?^```", "", text, flags=re.MULTILINE | re.DOTALL)
        prose = "\n".join(line for line in prose.splitlines() if not line.startswith("|"))
        snippets = re.findall(r"`([^`\n]+)`", prose)
    else:
        snippets = [line for block in re.findall(r"^```[a-z]*\n(.*?)^```", text, flags=re.MULTILINE | re.DOTALL)
                    for line in block.splitlines()]
    commands = []
    for snippet in snippets:
        try:
            words = shlex.split(snippet, comments=True)
        except ValueError:
            continue
        segment: list[str] = []
        for word in [*words, "&&"]:
            if word in ("&&", "||", "|", ";", ">", ">>"):
                if segment and segment[0] in PROGRAMS and len(segment) > 1 and WORD.fullmatch(segment[1]):
                    commands.append(segment)
                segment = []
            else:
                segment.append(word)
    return commands


# --- reading the app ------------------------------------------------------------------------------

def app_commands(root) -> dict[tuple[str, ...], set[str]]:
    """Command path -> its options (without --help), for every command and for the root itself."""
    found: dict[tuple[str, ...], set[str]] = {}

    def options(command) -> set[str]:
        return {name for param in command.params if param.param_type_name == "option"
                for name in (*param.opts, *param.secondary_opts)} - {"--help"}

    def walk(command, path: tuple[str, ...]) -> None:
        if hasattr(command, "commands"):
            if options(command):
                found[path] = options(command)
            for name, sub in command.commands.items():
                walk(sub, (*path, name))
        else:
            found[path] = options(command)

    walk(root, ())
    return found


def settings_env_names() -> set[str]:
    """The environment variable of every Settings field (its alias, else its name upper-cased)."""
    return {(info.validation_alias if isinstance(info.validation_alias, str) else name).upper()
            for name, info in Settings.model_fields.items()}


# --- the checks -----------------------------------------------------------------------------------

def command_table_problems(text: str, root) -> list[str]:
    shown, real = table_commands(text), app_commands(root)
    problems = []
    for path, options in shown.items():
        name = " ".join(("staktrakr", *path))
        if path not in real:
            problems.append(f"README lists `{name}`: no such command")
            continue
        problems += [f"README lists `{name} {option}`: no such option" for option in sorted(options - real[path])]
    for path, options in real.items():
        name = " ".join(("staktrakr", *path))
        if path not in shown:
            problems.append(f"`{name}` is missing from the README's command table")
            continue
        problems += [f"`{name} {option}` is missing from the README's command table"
                     for option in sorted(options - shown[path])]
    return problems


def settings_table_problems(text: str) -> list[str]:
    shown, real = table_settings(text), settings_env_names()
    return ([f"README's settings table names {name}: Settings has no such variable" for name in sorted(shown - real)]
            + [f"{name} (a Settings variable) is missing from the README's settings table"
               for name in sorted(real - shown)])


def example_problems(text: str, root) -> list[str]:
    """Code blocks hold whole commands: every check applies. Inline code may name a command in
    passing (`staktrakr ops env-file`), so there only unknown commands and options count."""
    problems = []
    for inline in (False, True):
        for words in example_command_lines(text, inline):
            found = cli_problems(words[1], tuple(words[2:]), root)
            if inline:
                found = [problem for problem in found if "unknown option" in problem or "no command" in problem
                         or "needs one of" in problem]
            problems += [f"README example `{' '.join(words)}`: {problem}" for problem in found]
    return problems


def test_command_table_matches_the_app(root):
    assert command_table_problems(README, root) == []


def test_settings_table_matches_settings():
    assert settings_table_problems(README) == []


def test_example_commands_run_as_written(root):
    blocks, inline = example_command_lines(README, inline=False), example_command_lines(README, inline=True)
    assert ["staktrakr", "scrape", "--coin", "ase", "--vendor", "apmex", "--fetcher", "browser", "--dry-run"] in blocks
    assert ["bin/staktrakr-cron", "scrape", "--coin", "ase", "--vendor", "apmex", "--dry-run"] in inline
    assert len(blocks) >= 4 and len(inline) >= 8
    assert example_problems(README, root) == []


# --- the checks can fail --------------------------------------------------------------------------

def test_command_checker_catches_missing_unknown_and_stale_entries(root):
    scrape_row = next(line for line in README.splitlines() if line.startswith("| `staktrakr scrape "))
    without_scrape = README.replace(scrape_row + "\n", "")
    assert "`staktrakr scrape` is missing from the README's command table" in command_table_problems(without_scrape, root)

    no_json = README.replace("| `staktrakr db flush [--json]` |", "| `staktrakr db flush` |")
    assert command_table_problems(no_json, root) == [
        "`staktrakr db flush --json` is missing from the README's command table"]

    invented = README.replace("[--no-push]", "[--no-push] [--force]").replace(
        "| `staktrakr --version` |", "| `staktrakr frobnicate` | x |\n| `staktrakr --version` |")
    assert command_table_problems(invented, root) == ["README lists `staktrakr publish --force`: no such option",
                                                      "README lists `staktrakr frobnicate`: no such command"]


def test_settings_checker_catches_missing_and_unknown_variables():
    renamed = README.replace("| `BROWSER_PAGES` |", "| `BROWSER_TABS` |")
    assert settings_table_problems(renamed) == [
        "README's settings table names BROWSER_TABS: Settings has no such variable",
        "BROWSER_PAGES (a Settings variable) is missing from the README's settings table"]


def test_example_checker_catches_a_stale_example(root):
    stale = README.replace("`staktrakr scrape --vendor newvendor --dry-run`", "`staktrakr scrape --site=newvendor`")
    assert example_problems(stale, root) == [
        "README example `staktrakr scrape --site=newvendor`: scrape: unknown option --site"]
    block = README + "\n```sh\nstaktrakr ops crontab --host api > /etc/cron.d/staktrakr\nstaktrakr db frob\n```\n"
    assert example_problems(block, root) == [
        "README example `staktrakr ops crontab --host api`: ops crontab: missing --app-dir",
        "README example `staktrakr ops crontab --host api`: ops crontab: missing --env-file",
        "README example `staktrakr db frob`: db: needs one of ['flush', 'migrate', 'snapshot', 'status']"]
