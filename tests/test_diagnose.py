"""`staktrakr diagnose` against the local dealer farm: a page blocked directly but served through the
proxy, a pricing table whose check/wire column has a name the catalog does not know, a price only
JavaScript renders. Each diagnosis suggests one `providers` command; running it fixes the target
(the next diagnosis prices it and suggests nothing)."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest

from tests.cli_helpers import run_cli
from tests.farm import Page, page_text


def write_catalog(path: Path, vendor_rules: dict) -> Path:
    """A catalog with one target, ase / sdbullion (its catalog URL is never fetched: --url points at the farm)."""
    path.write_text(json.dumps({
        "coins": {"ase": {"name": "American Silver Eagle 1 oz", "metal": "silver", "weight_oz": 1, "providers": [
            {"id": "sdbullion", "name": "SD Bullion", "enabled": True, "url": "https://dealer.invalid/ase"}]}},
        "vendors": {"default": {"fetchers": ["http"], "timeout_s": 5, "proxy": "fallback"}, "sdbullion": vendor_rules},
    }, indent=2) + "\n", encoding="utf-8")
    return path


def diagnose(env: dict[str, str], url: str, save: Path) -> dict:
    result = run_cli(["diagnose", "--coin", "ase", "--vendor", "sdbullion", "--url", url, "--save", str(save), "--json"],
                     env=env)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def apply_suggestion(env: dict[str, str], command: str) -> None:
    words = shlex.split(command)
    assert words[:2] == ["staktrakr", "providers"]
    result = run_cli(words[1:], env=env)
    assert result.exit_code == 0, result.output


@pytest.fixture
def env(tmp_path: Path, farm) -> dict[str, str]:
    return {"STAKTRAKR_VAR_DIR": str(tmp_path / "var"), "PROVIDERS_FILE": str(tmp_path / "providers.json"),
            "TURSO_DATABASE_URL": f"file:{tmp_path / 'db.sqlite'}", "FETCH_TIMEOUT_S": "5"}


def test_blocked_directly_fine_through_the_proxy_suggests_proxy_first(env, farm, tmp_path):
    write_catalog(Path(env["PROVIDERS_FILE"]), {"proxy": "never"})
    env["HOME_PROXY_URL"] = farm.proxy().url("")
    url = farm.host("guarded").add("/ase", Page(page_text("html_table.html"), block_direct=True))
    found = diagnose(env, url, tmp_path / "d1")
    http = {probe["via_proxy"]: probe for probe in found["probes"] if probe["fetcher"] == "http"}
    assert (http[False]["status"], http[False]["blocked"], http[False]["failure"]) == (403, True, "blocked")
    assert (http[True]["status"], http[True]["finding"]["price"]) == (200, 76.25)
    assert found["outcome"].startswith("fails: blocked: HTTP 403")
    assert [s["command"] for s in found["suggestions"]] == ["staktrakr providers set-rule sdbullion proxy always"]
    assert "403 direct, 200 through the proxy" in found["suggestions"][0]["reason"]

    apply_suggestion(env, found["suggestions"][0]["command"])
    again = diagnose(env, url, tmp_path / "d2")
    assert again["outcome"].startswith("price $76.25") and "through the proxy" in again["outcome"]
    assert again["suggestions"] == []


def test_unknown_payment_column_suggests_adding_it_to_price_columns(env, farm, tmp_path):
    write_catalog(Path(env["PROVIDERS_FILE"]), {"name": "SD Bullion"})
    url = farm.host("dealer").add("/ase", page_text("bank_transfer_table.html"))
    found = diagnose(env, url, tmp_path / "d1")
    assert found["outcome"].startswith("fails: no_price")
    assert found["band"].endswith("(fixed)")
    readings = found["probes"][0]["finding"]["readings"]
    table = {(r["amount"], r["role"], r["rule"], r["verdict"]) for r in readings if r["rule"] == "table"}
    assert (76.25, "other_cell", "table", "not a unit price (other_cell)") in table
    assert (79.30, "other_cell", "table", "not a unit price (other_cell)") in table
    assert [s["command"] for s in found["suggestions"]] == [
        "staktrakr providers set-rule sdbullion price_columns 'bank transfer' --append"]
    assert "'Bank Transfer'" in found["suggestions"][0]["reason"]

    apply_suggestion(env, found["suggestions"][0]["command"])
    again = diagnose(env, url, tmp_path / "d2")
    assert again["outcome"].startswith("price $76.25 (table, in stock) via http")
    chosen = [r for r in again["probes"][0]["finding"]["readings"] if r["verdict"] == "chosen"]
    assert [(r["amount"], r["role"], r["rule"]) for r in chosen] == [(76.25, "check_wire", "table")]
    assert again["suggestions"] == []


def test_javascript_only_price_suggests_the_browser_first_and_saves_pages(env, farm, tmp_path):
    write_catalog(Path(env["PROVIDERS_FILE"]), {"wait_ms": 1500})
    url = farm.host("herobullion").add("/ase", page_text("js_rendered.html"))
    firecrawl = farm.firecrawl()
    firecrawl.scrape_page(url, "# 2026 1 oz American Silver Eagle Coin\n\nPrice: $81.20\n\nIn Stock\n")
    env.update(FIRECRAWL_BASE_URL=firecrawl.url(""), FIRECRAWL_API_KEY="fc-secret-key-123")
    save = tmp_path / "saved"
    found = diagnose(env, url, save)
    by_fetcher = {probe["fetcher"]: probe for probe in found["probes"]}
    assert by_fetcher["http"]["finding"]["failure"] == "no_price"
    assert by_fetcher["browser"]["finding"]["price"] == 81.20
    assert by_fetcher["firecrawl"]["finding"]["price"] == 81.20
    assert (save / "0-firecrawl.md").read_text(encoding="utf-8").startswith("# 2026 1 oz American Silver Eagle")
    assert "fc-secret-key-123" not in json.dumps(found)
    assert found["outcome"].startswith("fails: no_price")
    assert [s["command"] for s in found["suggestions"]] == ["staktrakr providers set-rule sdbullion fetchers browser,http"]
    names = {path.name for path in save.iterdir()}
    assert {"0-http.html", "0-browser.html", "0-browser.png", "diagnosis.json"} <= names
    assert (save / "0-browser.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "Price: $81.20" in (save / "0-browser.html").read_text(encoding="utf-8")

    apply_suggestion(env, found["suggestions"][0]["command"])
    again = diagnose(env, url, tmp_path / "d2")
    assert again["outcome"].startswith("price $81.20 (label, in stock) via browser")
    assert again["suggestions"] == []


def test_text_report_shows_readings_outcome_and_command(env, farm, tmp_path):
    write_catalog(Path(env["PROVIDERS_FILE"]), {})
    url = farm.host("dealer").add("/ase", page_text("bank_transfer_table.html"))
    result = run_cli(["diagnose", "--coin", "ase", "--vendor", "sdbullion", "--url", url,
                      "--save", str(tmp_path / "d")], env=env)
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "sanity band" in out and "outcome with the current catalog: fails: no_price" in out
    assert "staktrakr providers set-rule sdbullion price_columns 'bank transfer' --append" in out
    assert "other_cell" in out and "76.25" in out


def test_unknown_target_or_bad_url_is_one_line_error(env, tmp_path):
    write_catalog(Path(env["PROVIDERS_FILE"]), {})
    result = run_cli(["diagnose", "--coin", "ase", "--vendor", "nosuch"], env=env)
    assert result.exit_code == 2
    assert "error: --vendor nosuch: coin ase has no such vendor" in result.stderr
    result = run_cli(["diagnose", "--coin", "ase", "--vendor", "sdbullion", "--url", "ftp://dealer/ase"], env=env)
    assert result.exit_code == 2 and "error: --url ftp://dealer/ase: expected an http:// or https:// URL" in result.stderr
    assert not (tmp_path / "var" / "diagnose").exists()


def test_save_into_a_file_or_nothing_is_a_usage_error(env, tmp_path):
    write_catalog(Path(env["PROVIDERS_FILE"]), {})
    taken = tmp_path / "notes.txt"
    taken.write_text("keep me")
    for save, needle in ((str(taken), "is a file"), (str(taken / "sub"), "lies under"), ("", "empty"),
                         ("  ", "empty")):
        result = run_cli(["diagnose", "--coin", "ase", "--vendor", "sdbullion", "--url", "https://dealer.test/ase",
                          "--save", save], env=env)
        assert result.exit_code == 2, result.output
        errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
        assert len(errors) == 1 and "--save" in errors[0] and needle in errors[0], result.stderr
    assert taken.read_text() == "keep me"
