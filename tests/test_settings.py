"""Settings: embedded defaults, one-line errors naming the variable, secrets never shown."""

from __future__ import annotations

import json

import pytest

from staktrakr.errors import ConfigError
from staktrakr.rules.bands import SPOT_BANDS_USD_PER_OZ, Band
from tests.cli_helpers import run_cli


def test_embedded_defaults(make_settings, tmp_path):
    settings = make_settings()
    assert settings.poller_id == "local"
    assert settings.database_url == "file:" + str((tmp_path / "var" / "staktrakr.db").resolve())
    assert settings.export_dir == tmp_path / "var" / "api-export"
    assert settings.branch == "local"


def test_branch_defaults_to_poller_id_and_can_be_set(make_settings):
    assert make_settings(poller_id="home").branch == "home"
    assert make_settings(poller_id="home", api_branch="api").branch == "api"


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"poller_id": "Fly Poller"}, "POLLER_ID: expected lowercase letters"),
        ({"turso_database_url": "postgres://x"}, "TURSO_DATABASE_URL: expected a libsql://"),
        ({"fetch_timeout_s": "soon"}, "FETCH_TIMEOUT_S: Input should be a valid number"),
        ({"browser_pages": 0}, "BROWSER_PAGES: Input should be greater than or equal to 1"),
        ({"firecrawl_base_url": "localhost:3002"}, "FIRECRAWL_BASE_URL: expected an http(s):// URL"),
        ({"scrape_gap_min_s": 5, "scrape_gap_max_s": 1}, "SCRAPE_GAP_MAX_S must be >= SCRAPE_GAP_MIN_S"),
        ({"staktrakr_log_format": "xml"}, "STAKTRAKR_LOG_FORMAT: Input should be 'text' or 'json'"),
        ({"spot_bands": "gold=20000:1000"}, "SPOT_BANDS: 'gold=20000:1000' needs 0 < low < high"),
        ({"fleet_health_urls": "https://a.fly.dev,ftp://u:SECRET@b"},
         "FLEET_HEALTH_URLS: entry 2: expected an http(s):// URL with a host"),
    ],
)
def test_bad_values_fail_with_one_line_naming_the_variable(make_settings, overrides, expected):
    with pytest.raises(ConfigError) as raised:
        make_settings(**overrides)
    message = str(raised.value)
    assert message.startswith(expected)
    assert "\n" not in message and "SECRET" not in message


def test_bad_environment_value_exits_2_with_one_line(tmp_path):
    result = run_cli(["db", "status"], env={"POLLER_ID": "Not Valid"}, var_dir=tmp_path)
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        "error: POLLER_ID: expected lowercase letters, digits, '-' or '_' (1-40 chars), e.g. 'api' or 'home'"
    ]


def test_secrets_never_print(make_settings):
    settings = make_settings(turso_auth_token="tok-SECRET-123456", github_token="ghp_SECRET_abcdef",
                             metal_price_api_key="mpa-SECRET-999")
    for shown in (repr(settings), str(settings), json.dumps(settings.public_dict())):
        assert "SECRET" not in shown
    assert settings.public_dict()["github_token"] == "**********"
    assert set(settings.secret_values()) == {"tok-SECRET-123456", "ghp_SECRET_abcdef", "mpa-SECRET-999"}


def test_spot_bands_are_parsed_once_into_bands(make_settings, tmp_path, monkeypatch):
    """SPOT_BANDS (environment or env file, plain text, not JSON) overrides single metals; every job
    reads the parsed `settings.spot_bands`, the defaults for the metals it does not name."""
    assert make_settings().spot_bands == SPOT_BANDS_USD_PER_OZ
    env_file = tmp_path / "staktrakr.env"
    env_file.write_text("SPOT_BANDS=gold=2000:30000, Silver=20:800\n", encoding="utf-8")
    env_file.chmod(0o600)
    monkeypatch.setenv("STAKTRAKR_ENV_FILE", str(env_file))
    bands = make_settings().spot_bands
    assert bands["gold"] == Band(2000.0, 30000.0, "SPOT_BANDS")
    assert bands["silver"] == Band(20.0, 800.0, "SPOT_BANDS")
    assert bands["platinum"] == SPOT_BANDS_USD_PER_OZ["platinum"]
    assert json.loads(json.dumps(make_settings().public_dict()))["spot_bands"]["gold"] == {
        "low": 2000.0, "high": 30000.0, "basis": "SPOT_BANDS"}


def test_fleet_health_urls_from_the_environment(make_settings, monkeypatch):
    assert make_settings().fleet_health_urls == []
    monkeypatch.setenv("FLEET_HEALTH_URLS", " https://staktrakr.fly.dev/ , http://192.168.1.20:8080,")
    assert make_settings().fleet_health_urls == ["https://staktrakr.fly.dev", "http://192.168.1.20:8080"]
