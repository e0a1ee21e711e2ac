"""Catalog: the real providers.json validates; broken variants give one-line errors and exit 2;
`providers sync` copies it to the database tables and back."""

from __future__ import annotations

import copy
import json

import pytest

from staktrakr.catalog import load_catalog
from tests.cli_helpers import run_cli
from tests.conftest import REPO, shared_path

REAL = json.loads((REPO / "providers.json").read_text())
REFERENCE_FILE = shared_path("reference/published-api/retail/providers.json")
REFERENCE = json.loads(REFERENCE_FILE.read_text()) if REFERENCE_FILE.exists() else None


def test_real_catalog_validates_with_every_coin_and_url():
    catalog = load_catalog(REPO / "providers.json")
    assert len(catalog.coins) == 23
    targets = catalog.targets()
    assert len(targets) == 166
    assert {t.vendor_id for t in targets} == {
        "apmex", "bullionexchanges", "gainesvillecoins", "herobullion", "jmbullion", "monumentmetals",
        "providentmetals", "sdbullion", "summitmetals"}
    jm = catalog.rules_for("jmbullion")
    assert jm.fetchers[0] == "browser" and jm.wait_ms == 12000 and jm.preorder_ok
    assert catalog.rules_for("gainesvillecoins").fetchers == catalog.vendors["default"].fetchers


@pytest.mark.skipif(REFERENCE is None, reason="shared reference not present")
def test_catalog_holds_every_reference_coin_and_vendor_url():
    for slug, coin in REFERENCE["coins"].items():
        assert REAL["coins"][slug]["providers"] == coin["providers"]
        assert REAL["coins"][slug]["metal"] == coin["metal"]


def test_filters_and_unknown_filter_values(tmp_path):
    catalog = load_catalog(REPO / "providers.json")
    ase = catalog.targets(coins=["ase"], vendors=["apmex"])
    assert [(t.coin.slug, t.vendor_id) for t in ase] == [("ase", "apmex")]
    result = run_cli(["providers", "list", "--coin", "nope"], var_dir=tmp_path)
    assert result.exit_code == 2
    assert "--coin nope: not in the catalog" in result.output


def _variant(mutate) -> dict:
    data = copy.deepcopy(REAL)
    mutate(data)
    return data


def _set(path, value):
    def mutate(data):
        node = data
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value
    return mutate


def _delete(path):
    def mutate(data):
        node = data
        for key in path[:-1]:
            node = node[key]
        del node[path[-1]]
    return mutate


def _append_duplicate_vendor(data):
    data["coins"]["ase"]["providers"].append(dict(data["coins"]["ase"]["providers"][0]))


BROKEN = [
    ("unknown metal", _set(["coins", "ase", "metal"], "copper"),
     "coins.ase.metal: unknown metal 'copper' (expected silver, gold, platinum, palladium or goldback)"),
    ("duplicate vendor", _append_duplicate_vendor, "coins.ase.providers: duplicate vendor 'apmex'"),
    ("non-https url", _set(["coins", "ase", "providers", 0, "url"], "http://www.apmex.com/x"),
     "coins.ase.providers[0].url: must be an https:// URL (got 'http://www.apmex.com/x')"),
    ("zero weight", _set(["coins", "ase", "weight_oz"], 0), "coins.ase.weight_oz: Input should be greater than 0"),
    ("negative weight", _set(["coins", "age", "weight_oz"], -1), "coins.age.weight_oz: Input should be greater than 0"),
    ("weight not a number", _set(["coins", "ase", "weight_oz"], "one"), "coins.ase.weight_oz: Input should be a valid number"),
    ("missing name", _delete(["coins", "ase", "name"]), "coins.ase.name: Field required"),
    ("missing providers", _delete(["coins", "ase", "providers"]), "coins.ase.providers: Field required"),
    ("enabled without url", _delete(["coins", "ase", "providers", 0, "url"]),
     "coins.ase.providers[0]: vendor 'apmex' is enabled but has no url"),
    ("bad vendor id", _set(["coins", "ase", "providers", 0, "id"], "APMEX!"),
     "coins.ase.providers[0].id: vendor id must be lowercase letters, digits and '-' (got 'APMEX!')"),
    ("unknown provider key", _set(["coins", "ase", "providers", 0, "price"], 1),
     "coins.ase.providers[0].price: unknown key"),
    ("bad slug", lambda d: d["coins"].__setitem__("Bad Slug", d["coins"]["ase"]),
     "coins.Bad Slug: slug must be lowercase letters, digits and '-'"),
    ("coins not an object", _set(["coins"], []), "coins: expected an object of coins keyed by slug"),
    ("no coins", _set(["coins"], {}), "coins: the catalog holds no coins"),
    ("unknown fetcher", _set(["vendors", "apmex", "fetchers"], ["curl"]),
     "vendors.apmex.fetchers[0]: Input should be 'http', 'browser' or 'firecrawl'"),
    ("empty fetcher list", _set(["vendors", "apmex", "fetchers"], []),
     "vendors.apmex.fetchers: List should have at least 1 item after validation, not 0"),
    ("negative wait", _set(["vendors", "jmbullion", "wait_ms"], -5),
     "vendors.jmbullion.wait_ms: Input should be greater than or equal to 0"),
    ("bad cut pattern", _set(["vendors", "jmbullion", "cut_patterns"], ["(unclosed"]),
     "vendors.jmbullion.cut_patterns: bad regular expression '(unclosed'"),
    ("bad cut selector", _set(["vendors", "summitmetals", "cut_selectors"], ["div[[x"]),
     "vendors.summitmetals.cut_selectors: bad CSS selector 'div[[x'"),
    ("unknown vendor rule", _set(["vendors", "sdbullion", "wait_secs"], 3), "vendors.sdbullion.wait_secs: unknown key"),
    ("unknown top-level key", _set(["coin"], {}), "coin: unknown top-level key (expected coins, vendors, feeds)"),
    ("unknown feed fetcher", _set(["feeds", "goldback", "fetchers"], ["curl"]),
     "feeds.goldback.fetchers[0]: Input should be 'http', 'browser' or 'firecrawl'"),
    ("feed url not https", _set(["feeds", "goldback", "url"], "http://www.goldback.com/exchange-rates/"),
     "feeds.goldback.url: must be an https:// URL (got 'http://www.goldback.com/exchange-rates/')"),
    ("feed without url", _delete(["feeds", "goldback", "url"]), "feeds.goldback.url: Field required"),
    ("unknown feed key", _set(["feeds", "goldback", "selector"], "h2"), "feeds.goldback.selector: unknown key"),
    ("feeds not an object", _set(["feeds"], []), "feeds: expected an object keyed by feed id"),
]


@pytest.mark.parametrize(("case", "mutate", "expected"), BROKEN, ids=[case for case, _, _ in BROKEN])
def test_broken_catalog_one_line_and_exit_2(tmp_path, case, mutate, expected):
    path = tmp_path / "providers.json"
    path.write_text(json.dumps(_variant(mutate)))
    result = run_cli(["providers", "validate"], env={"PROVIDERS_FILE": str(path)}, var_dir=tmp_path)
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert lines[0].startswith(f"error: {path}: {expected}"), lines[0]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"coins": {"ase": ', "line 1 column 19: invalid JSON (Expecting value)"),
        ('{"coins": {}, "coins": {}}', "duplicate key 'coins'"),
        ("", "line 1 column 1: invalid JSON (Expecting value)"),
    ],
)
def test_unparseable_catalog(tmp_path, text, expected):
    path = tmp_path / "providers.json"
    path.write_text(text)
    result = run_cli(["providers", "validate"], env={"PROVIDERS_FILE": str(path)}, var_dir=tmp_path)
    assert result.exit_code == 2
    assert result.output.strip() == f"error: {path}: {expected}"


def test_missing_catalog_file(tmp_path):
    path = tmp_path / "absent.json"
    result = run_cli(["providers", "validate"], env={"PROVIDERS_FILE": str(path)}, var_dir=tmp_path)
    assert result.exit_code == 2
    assert result.output.strip() == f"error: {path}: file not found (set PROVIDERS_FILE)"


def test_providers_sync_to_db_and_back(any_db_url, tmp_path):
    catalog_copy = tmp_path / "providers.json"
    catalog_copy.write_text((REPO / "providers.json").read_text())
    env = {"TURSO_DATABASE_URL": any_db_url, "PROVIDERS_FILE": str(catalog_copy)}

    pushed = run_cli(["providers", "sync", "--to-db", "--json"], env=env, var_dir=tmp_path)
    assert pushed.exit_code == 0, pushed.output
    assert json.loads(pushed.stdout) == {"direction": "to-db", "coins": 23, "vendors": 168}
    again = run_cli(["providers", "sync", "--to-db", "--json"], env=env, var_dir=tmp_path)
    assert json.loads(again.stdout)["vendors"] == 168

    catalog_copy.write_text(json.dumps({"coins": {"ase": json.loads((REPO / "providers.json").read_text())["coins"]["ase"]},
                                        "vendors": json.loads((REPO / "providers.json").read_text())["vendors"]}))
    pulled = run_cli(["providers", "sync", "--from-db", "--json"], env=env, var_dir=tmp_path)
    assert pulled.exit_code == 0, pulled.output
    rebuilt = json.loads(catalog_copy.read_text())
    original = json.loads((REPO / "providers.json").read_text())
    assert set(rebuilt["coins"]) == set(original["coins"])
    for slug, coin in original["coins"].items():
        assert rebuilt["coins"][slug]["providers"] == coin["providers"]
        assert rebuilt["coins"][slug]["metal"] == coin["metal"]
    assert rebuilt["vendors"] == original["vendors"]  # overrides stay overrides; defaults stay in default
    assert run_cli(["providers", "validate"], env=env, var_dir=tmp_path).exit_code == 0


def test_validate_and_list_ok(tmp_path):
    result = run_cli(["providers", "validate", "--json"], env={"PROVIDERS_FILE": str(REPO / "providers.json")}, var_dir=tmp_path)
    assert result.exit_code == 0
    assert json.loads(result.stdout) == {"coins": 23, "file": str(REPO / "providers.json"), "targets": 166, "vendors": 9}
    listed = run_cli(["providers", "list", "--coin", "ase", "--json"],
                     env={"PROVIDERS_FILE": str(REPO / "providers.json")}, var_dir=tmp_path)
    rows = json.loads(listed.stdout)
    assert [row["vendor"] for row in rows] == [p["id"] for p in REAL["coins"]["ase"]["providers"] if p["enabled"]]
