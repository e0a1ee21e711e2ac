"""Catalog edits as commands: `providers enable|disable|set-url|add-url|set-rule` change one entry,
validated like the file, with every other byte of providers.json kept; `--dry-run` shows the diff
and writes nothing; with STAKTRAKR_CATALOG_SOURCE=db they edit the tables; `sync --dry-run` too."""

from __future__ import annotations

import difflib
import json
import shutil
from pathlib import Path

import pytest

from tests.cli_helpers import run_cli
from tests.conftest import REPO

ASE_APMEX = "https://www.apmex.com/product/23331/1-oz-american-silver-eagle-coin-bu-random-year"


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    shutil.copy(REPO / "providers.json", tmp_path / "providers.json")
    return {"STAKTRAKR_VAR_DIR": str(tmp_path / "var"), "PROVIDERS_FILE": str(tmp_path / "providers.json"),
            "TURSO_DATABASE_URL": f"file:{tmp_path / 'db.sqlite'}"}


def changed_lines(before: str, after: str) -> list[str]:
    return [line for line in difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0)
            if line[:1] in "+-" and not line.startswith(("+++", "---"))]


def edit(env: dict[str, str], *args: str) -> tuple[str, str, object]:
    path = Path(env["PROVIDERS_FILE"])
    before = path.read_text(encoding="utf-8")
    result = run_cli(["providers", *args], env=env)
    return before, path.read_text(encoding="utf-8"), result


def listing(text: str, slug: str, vendor: str) -> dict:
    return next(p for p in json.loads(text)["coins"][slug]["providers"] if p["id"] == vendor)


def test_disable_then_enable_changes_one_line(env):
    before, after, result = edit(env, "disable", "ase", "apmex")
    assert result.exit_code == 0, result.output
    assert changed_lines(before, after) == ['-          "enabled": true,', '+          "enabled": false,']
    assert listing(after, "ase", "apmex")["enabled"] is False
    assert listing(after, "age", "apmex")["enabled"] is True     # the same vendor on another coin is untouched
    _, again, result = edit(env, "enable", "ase", "apmex")
    assert result.exit_code == 0 and again == before


def test_set_url_and_add_url(env):
    new = "https://www.apmex.com/product/99999/2026-1-oz-silver-eagle"
    before, after, result = edit(env, "set-url", "ase", "apmex", new)
    assert result.exit_code == 0, result.output
    assert changed_lines(before, after) == [f'-          "url": "{ASE_APMEX}"', f'+          "url": "{new}"']
    extra = "https://www.apmex.com/product/1/other"
    before, after, result = edit(env, "add-url", "ase", "apmex", extra)
    assert result.exit_code == 0, result.output
    assert listing(after, "ase", "apmex") == {"id": "apmex", "name": "APMEX", "enabled": True, "url": new,
                                              "urls": [extra]}
    second = "https://www.apmex.com/product/2/other"
    _, after, result = edit(env, "set-url", "ase", "apmex", second, "--index", "1")
    assert result.exit_code == 0, result.output
    assert listing(after, "ase", "apmex")["urls"] == [second]
    _, unchanged, result = edit(env, "set-url", "ase", "apmex", second, "--index", "2")
    assert result.exit_code == 2 and "use add-url" in result.stderr and unchanged == after


def test_set_rule_adds_the_vendor_field_in_place(env):
    before, after, result = edit(env, "set-rule", "apmex", "proxy", "always")
    assert result.exit_code == 0, result.output
    assert changed_lines(before, after) == ['-      ]', '+      ],', '+      "proxy": "always"']
    before, after, result = edit(env, "set-rule", "sdbullion", "price_columns", "bank transfer", "--append")
    assert result.exit_code == 0, result.output
    columns = json.loads(after)["vendors"]["sdbullion"]["price_columns"]
    assert columns == [*json.loads(before)["vendors"]["default"]["price_columns"], "bank transfer"]
    _, after, result = edit(env, "set-rule", "herobullion", "fetchers", "http,browser")
    assert json.loads(after)["vendors"]["herobullion"]["fetchers"] == ["http", "browser"]
    _, after, result = edit(env, "set-rule", "herobullion", "wait_ms", "7000")
    assert json.loads(after)["vendors"]["herobullion"]["wait_ms"] == 7000


@pytest.mark.parametrize(("args", "needle"), [
    (("set-url", "ase", "apmex", "http://www.apmex.com/x"), "coins.ase.providers[0].url: must be an https:// URL"),
    (("add-url", "ase", "apmex", "not a url"), "must be an https:// URL"),
    (("set-url", "ase", "apmex", "https://www.apmex.com/a b"), "must not contain spaces"),
    (("add-url", "ase", "apmex", "https://user:s3cret@www.apmex.com/x"), "must not hold user:password@ credentials"),
    (("add-url", "ase", "apmex", "https://www.apmex.com/münze"), "must be ASCII"),
    (("add-url", "ase", "apmex", "https://bücher.example/x"), "IDNA form"),
    (("add-url", "ase", "apmex", "https://www.apmex.com:99999/x"), "bad port"),
    (("set-rule", "apmex", "fetchers", "http,curl"), "vendors.apmex.fetchers[1]"),
    (("set-rule", "apmex", "colour", "red"), "set-rule colour: not a vendor rule"),
    (("set-rule", "apmex", "proxy", "sometimes"), "vendors.apmex.proxy"),
    (("disable", "ase", "nosuch"), "vendor nosuch: coin ase has no such vendor"),
    (("enable", "nosuch", "apmex"), "coin nosuch: not in the catalog"),
])
def test_bad_edit_is_refused_and_the_file_kept(env, args, needle):
    before, after, result = edit(env, *args)
    assert result.exit_code == 2, result.output
    error_lines = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(error_lines) == 1 and needle in error_lines[0], result.stderr
    assert after == before
    assert "s3cret" not in result.output


def test_the_file_with_a_credential_url_is_refused(env):
    path = Path(env["PROVIDERS_FILE"])
    path.write_text(path.read_text(encoding="utf-8").replace("https://www.apmex.com/", "https://u:pw@www.apmex.com/", 1),
                    encoding="utf-8")
    result = run_cli(["providers", "validate"], env=env)
    assert result.exit_code == 2 and "credentials" in result.stderr and ":pw@" not in result.output
    encoded = "https://xn--bcher-kva.example/m%C3%BCnze"  # IDNA host, percent-encoded path: accepted
    path.write_text(path.read_text(encoding="utf-8").replace("https://u:pw@www.apmex.com/", "https://xn--bcher-kva.example/", 1),
                    encoding="utf-8")
    assert run_cli(["providers", "validate"], env=env).exit_code == 0
    assert edit(env, "add-url", "ase", "apmex", encoded)[2].exit_code == 0


def test_dry_run_shows_the_diff_and_writes_nothing(env):
    before, after, result = edit(env, "disable", "ase", "apmex", "--dry-run")
    assert result.exit_code == 0, result.output
    assert after == before
    assert '+          "enabled": false,' in result.stdout and "would change" in result.stdout
    _, _, result = edit(env, "set-rule", "apmex", "proxy", "always", "--dry-run", "--json")
    answer = json.loads(result.stdout)
    assert answer["dry_run"] is True and '+      "proxy": "always"' in answer["diff"]


def test_compact_file_keeps_its_other_entries_byte_identical(env, tmp_path):
    path = Path(env["PROVIDERS_FILE"])
    compact = json.dumps(json.loads(path.read_text(encoding="utf-8")), separators=(",", ":"))
    path.write_text(compact, encoding="utf-8")
    _, after, result = edit(env, "disable", "ase", "apmex")
    assert result.exit_code == 0, result.output
    old_entry = json.dumps({"id": "apmex", "name": "APMEX", "enabled": True, "url": ASE_APMEX}, separators=(",", ":"))
    start = compact.index(old_entry)
    new_entry = json.dumps({"id": "apmex", "name": "APMEX", "enabled": False, "url": ASE_APMEX})
    assert after == compact[:start] + new_entry + compact[start + len(old_entry):]


def test_database_catalog_is_edited_when_it_is_the_source(env):
    assert run_cli(["providers", "sync", "--to-db"], env=env).exit_code == 0
    db_env = {**env, "STAKTRAKR_CATALOG_SOURCE": "db"}
    before, after, result = edit(db_env, "disable", "ase", "apmex")
    assert result.exit_code == 0, result.output
    assert after == before                                      # the file is not the source: untouched
    listed = json.loads(run_cli(["providers", "list", "--coin", "ase", "--json"], env=db_env).stdout)
    assert "apmex" not in {row["vendor"] for row in listed}
    assert "apmex" in {row["vendor"] for row in json.loads(
        run_cli(["providers", "list", "--coin", "ase", "--json"], env=env).stdout)}
    _, _, result = edit(db_env, "set-url", "ase", "sdbullion", "ftp://bad")
    assert result.exit_code == 2 and "must be an https:// URL" in result.stderr


def test_sync_dry_run_writes_nothing(env):
    result = run_cli(["providers", "sync", "--to-db", "--dry-run", "--json"], env=env)
    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout)
    assert answer["dry_run"] is True and answer["coins"] == 23 and '"ase"' in answer["diff"]
    from_db = run_cli(["providers", "sync", "--from-db", "--dry-run"], env=env)
    assert from_db.exit_code == 2 and "no coins" in from_db.stderr   # nothing was written to the tables
    assert run_cli(["providers", "sync", "--to-db"], env=env).exit_code == 0
    again = run_cli(["providers", "sync", "--to-db", "--dry-run", "--json"], env=env)
    assert json.loads(again.stdout)["diff"] == ""


def test_parallel_edits_all_apply(env):
    """Twelve `providers disable` at once, each on another target: every one is in the file."""
    import os
    import subprocess
    import sys

    text = Path(env["PROVIDERS_FILE"]).read_text(encoding="utf-8")
    targets = [(slug, listing["id"]) for slug, coin in json.loads(text)["coins"].items()
               for listing in coin["providers"] if listing.get("enabled", True)][:12]
    assert len(targets) == 12
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("STAKTRAKR_", "TURSO_", "PROVIDERS_"))}
    clean.update(env, STAKTRAKR_ENV_FILE="/nonexistent/.env")
    runs = [subprocess.Popen([sys.executable, "-m", "staktrakr", "providers", "disable", slug, vendor], env=clean,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE) for slug, vendor in targets]
    for run in runs:
        _, err = run.communicate(timeout=120)
        assert run.returncode == 0, err
    after = Path(env["PROVIDERS_FILE"]).read_text(encoding="utf-8")
    assert [listing(after, slug, vendor)["enabled"] for slug, vendor in targets] == [False] * 12


def test_an_edit_that_changes_nothing_says_so(env):
    before, after, result = edit(env, "enable", "ase", "apmex")
    assert result.exit_code == 0 and after == before
    assert result.stdout == f"no change: ase / apmex already enabled ({env['PROVIDERS_FILE']})\n"


@pytest.mark.parametrize("style", ["crlf", "tabs"])
def test_crlf_and_tab_files_keep_their_style(env, style):
    path = Path(env["PROVIDERS_FILE"])
    original = path.read_text(encoding="utf-8")
    styled = (original.replace("\n", "\r\n") if style == "crlf"
              else json.dumps(json.loads(original), indent="\t", ensure_ascii=False) + "\n")
    path.write_bytes(styled.encode())
    for args in (("disable", "ase", "apmex"), ("add-url", "ase", "apmex", "https://www.apmex.com/product/1/x"),
                 ("set-rule", "apmex", "wait_ms", "6000")):
        assert run_cli(["providers", *args], env=env).exit_code == 0
    after = path.read_bytes().decode()
    data = json.loads(after)
    assert listing(after, "ase", "apmex")["enabled"] is False and data["vendors"]["apmex"]["wait_ms"] == 6000
    if style == "crlf":
        assert "\n" not in after.replace("\r\n", "")
        assert after == json.dumps(data, indent=2, ensure_ascii=False).replace("\n", "\r\n") + after[-2:] * (
            after.endswith("\r\n"))
    else:
        assert after == json.dumps(data, indent="\t", ensure_ascii=False) + "\n"
