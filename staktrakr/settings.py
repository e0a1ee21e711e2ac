"""All configuration, read once from the environment (and an optional `.env`), validated at start.

Names follow DESIGN.md section 3. A bad value raises `ConfigError` with one line naming the
variable; secrets are `SecretStr`, so repr, logs and `--json` never show them.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, ValidationInfo, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from staktrakr.errors import ConfigError
from staktrakr.rules.bands import SPOT_BANDS_USD_PER_OZ, Band, parse_spot_bands

POLLER_ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
MIN_DASHBOARD_TOKEN_CHARS = 16  # a token a browser form guards: long enough that guessing is hopeless
ENV_FILE_VAR = "STAKTRAKR_ENV_FILE"


class Settings(BaseSettings):
    """The process configuration. Field names are the environment variables, lower-cased."""

    model_config = SettingsConfigDict(
        env_file=None,  # load_settings passes STAKTRAKR_ENV_FILE (or .env) after checking it
        env_file_encoding="utf-8",
        extra="ignore",
        case_sensitive=False,
        validate_default=True,
        populate_by_name=True,
    )

    # identity and paths
    poller_id: str = "local"
    var_dir: Path = Field(default=Path("var"), validation_alias="STAKTRAKR_VAR_DIR")
    providers_file: Path = Path("providers.json")
    catalog_source: Literal["file", "db"] = Field(default="file", validation_alias="STAKTRAKR_CATALOG_SOURCE")

    # database: every call is bounded (connect, then each statement); a timed-out batch is queued
    turso_database_url: str | None = None
    turso_auth_token: SecretStr | None = None
    db_connect_timeout_s: float = Field(default=10.0, gt=0, le=300)
    db_statement_timeout_s: float = Field(default=20.0, gt=0, le=600)

    # publish / git
    api_export_dir: Path | None = None
    api_data_repo: str | None = None
    api_branch: str | None = None
    github_token: SecretStr | None = None
    git_author_name: str = "StakTrakr Poller"
    git_author_email: str = "poller@staktrakr.local"
    publish_spot_hours: int = Field(default=6, ge=1, le=168)
    # bound on one git network call (clone, fetch, push); the job's stop also ends it
    git_timeout_s: float = Field(default=300.0, gt=0, le=3600)
    merge_branches: str = "api,home"
    merge_into: str = "main"

    # fetchers
    firecrawl_base_url: str | None = None
    firecrawl_api_key: SecretStr | None = None
    home_proxy_url: SecretStr | None = None
    fetch_timeout_s: float = Field(default=30.0, gt=0, le=300)
    scrape_gap_min_s: float = Field(default=2.0, ge=0)
    scrape_gap_max_s: float = Field(default=8.0, ge=0)
    scrape_attempts: int = Field(default=3, ge=1, le=10)
    scrape_backoff_s: float = Field(default=2.0, ge=0, le=60)  # first retry wait; doubles per attempt
    # consecutive connection-level failures (DNS, refused, TLS, timeout) after which a vendor's
    # remaining targets of the cycle fail fast as vendor_unreachable
    scrape_breaker_failures: int = Field(default=3, ge=1, le=100)
    browser_pages: int = Field(default=2, ge=1, le=16)
    chromium_path: Path = Path("/usr/bin/chromium")

    # spot and goldback
    metal_price_api_key: SecretStr | None = None
    metal_price_api_base_url: str = "https://api.metalpriceapi.com/v1"
    metal_price_api_auth: Literal["query", "header"] = "query"  # key as api_key=... (documented) or X-API-KEY header
    spot_max_jump: float = Field(default=0.10, gt=0, le=1)
    # SPOT_BANDS per-metal overrides "gold=1000:20000,silver=10:500", held parsed: metal -> Band in USD/oz,
    # the defaults of rules/bands.py with the overrides applied (NoDecode: the text is not JSON)
    spot_bands: Annotated[dict[str, Band], NoDecode] = Field(default_factory=lambda: dict(SPOT_BANDS_USD_PER_OZ))
    goldback_url: str | None = None  # overrides providers.json feeds.goldback.url (a mirror, a test site)

    # vision cross-check (optional): on only with GEMINI_API_KEY set and `vision: true` in the catalog
    gemini_api_key: SecretStr | None = None
    gemini_model: str = Field(default="gemini-2.5-flash", min_length=1)
    gemini_base_url: str | None = None  # overrides Google's endpoint (a proxy, a test fake)
    vision_max_per_cycle: int = Field(default=40, ge=0, le=10_000)
    vision_concurrency: int = Field(default=8, ge=1, le=64)  # Gemini calls in flight at once
    vision_timeout_s: float = Field(default=60.0, gt=0, le=600)  # bound on one Gemini call

    # serve / ops
    serve_host: str = "127.0.0.1"
    serve_port: int = Field(default=8080, ge=1, le=65535)
    # addresses whose X-Forwarded-For/-Proto serve believes (uvicorn's forwarded_allow_ips): "*" only
    # where a proxy is the one way in (Fly), since a client could otherwise forge its address
    serve_forwarded_allow_ips: str = "127.0.0.1,::1"
    ops_trigger_token: SecretStr | None = None
    dashboard_token: SecretStr | None = None  # unset: /dashboard and /api/dashboard answer 403
    # other pollers' serve base URLs (comma-separated), whose /healthz the dashboard shows
    fleet_health_urls: Annotated[list[str], NoDecode] = Field(default_factory=list)

    # alerts (`staktrakr alerts`) and the pages kept for failed targets (var/evidence)
    alert_urls: SecretStr | None = None   # Apprise URLs, comma or space separated (ntfy://, discord://, mailto://, json://)
    alert_repeat: Annotated[float, NoDecode] = Field(default=6 * 3600.0, gt=0)  # seconds; "6h", "90m" or seconds
    retail_alert_jump: float = Field(default=0.08, gt=0, le=10)  # a published median moving more: alert
    alert_vendor_windows: int = Field(default=4, ge=1, le=96)    # a vendor failing this many windows in a row
    evidence_max_age_days: float = Field(default=7.0, gt=0, le=365)
    evidence_max_mb: float = Field(default=200.0, ge=0, le=100_000)

    # logging
    staktrakr_log_format: Literal["text", "json"] | None = None

    @field_validator("alert_repeat", mode="before")
    @classmethod
    def _duration(cls, value: object) -> object:
        """"6h", "90m", "45s" or a number of seconds."""
        if isinstance(value, str):
            match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*", value.lower())
            if match is None:
                raise ValueError(f"expected a duration like 6h, 90m or 3600 (got {value!r})")
            return float(match.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}[match.group(2)]
        return value

    @field_validator("dashboard_token", "ops_trigger_token")
    @classmethod
    def _token_text(cls, value: SecretStr | None, info: ValidationInfo) -> SecretStr | None:
        """A token is UTF-8 text (it is compared as UTF-8 bytes); DASHBOARD_TOKEN also at least
        MIN_DASHBOARD_TOKEN_CHARS characters besides spaces (empty: the dashboard is off)."""
        if value is None:
            return None
        text = value.get_secret_value()
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError("not valid UTF-8 text (undecodable bytes in the env file or environment)") from None
        if info.field_name == "dashboard_token" and text and len(text.strip()) < MIN_DASHBOARD_TOKEN_CHARS:
            raise ValueError(f"too weak: use at least {MIN_DASHBOARD_TOKEN_CHARS} characters, not only spaces "
                             "(e.g. the output of `openssl rand -hex 24`)")
        return value

    @field_validator("poller_id")
    @classmethod
    def _poller_id_shape(cls, value: str) -> str:
        if not POLLER_ID_PATTERN.match(value):
            raise ValueError("expected lowercase letters, digits, '-' or '_' (1-40 chars), e.g. 'api' or 'home'")
        return value

    @field_validator("turso_database_url")
    @classmethod
    def _database_url_scheme(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        if not re.match(r"^(libsql|https?|wss?|file):", value):
            raise ValueError("expected a libsql://, https://, http://, ws(s):// or file: URL")
        try:
            parts = urlsplit(value)
            parts.port  # noqa: B018 (raises on a bad port)
        except ValueError as exc:
            raise ValueError(f"malformed URL ({exc})") from None
        if parts.scheme != "file" and not parts.hostname:
            raise ValueError("the URL names no host")
        if parts.username or parts.password:  # the client cannot send both Basic and Bearer: refused up front
            raise ValueError("must not carry user:password; set TURSO_AUTH_TOKEN instead")
        return value

    @field_validator("fleet_health_urls", mode="before")
    @classmethod
    def _fleet_health_urls(cls, value: object) -> object:
        """FLEET_HEALTH_URLS "https://app.fly.dev,http://192.168.1.20:8080": http(s) base URLs (or
        full /healthz URLs); a bad entry is named in the error."""
        if value is None:
            return []
        items = [item.strip() for item in value.split(",")] if isinstance(value, str) else value
        if not isinstance(items, list):
            return value
        urls = []
        for number, item in enumerate(items, start=1):
            if not item:
                continue
            parts = urlsplit(str(item))
            if parts.scheme not in ("http", "https") or not parts.hostname:  # the entry may hold a secret: not echoed
                raise ValueError(f"entry {number}: expected an http(s):// URL with a host")
            urls.append(str(item).rstrip("/"))
        return urls

    @field_validator("spot_bands", mode="before")
    @classmethod
    def _spot_bands_parse(cls, value: object) -> object:
        """Parsed once at start for every command (scrape, publish and merge use the bands too, not only
        spot), so a bad SPOT_BANDS is one line and exit 2 before any work; a mapping of Bands (tests,
        library callers) overrides the defaults the same way."""
        if value is None or isinstance(value, str):
            return parse_spot_bands(value)
        if isinstance(value, Mapping):
            return {**SPOT_BANDS_USD_PER_OZ, **value}
        return value

    @field_validator("firecrawl_base_url", "metal_price_api_base_url", "goldback_url", "gemini_base_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        if not re.match(r"^https?://[^\s/]+", value):
            raise ValueError("expected an http(s):// URL")
        return value.rstrip("/") if not value.endswith("/exchange-rates/") else value

    @model_validator(mode="after")
    def _gap_order(self) -> Settings:
        if self.scrape_gap_max_s < self.scrape_gap_min_s:
            raise ValueError("SCRAPE_GAP_MAX_S must be >= SCRAPE_GAP_MIN_S")
        return self

    # derived values -------------------------------------------------------------------------

    @property
    def database_url(self) -> str:
        """The libSQL URL to open: TURSO_DATABASE_URL, or a local file under var/ (embedded default)."""
        if self.turso_database_url:
            return self.turso_database_url
        return "file:" + str((self.var_dir / "staktrakr.db").resolve())

    @property
    def export_dir(self) -> Path:
        return self.api_export_dir or self.var_dir / "api-export"

    @property
    def branch(self) -> str:
        return self.api_branch or self.poller_id

    @property
    def outbox_path(self) -> Path:
        return self.var_dir / "outbox.jsonl"

    @property
    def journal_dir(self) -> Path:
        """Where a running cycle journals its finished targets (store/journal.py)."""
        return self.var_dir / "journal"

    @property
    def lock_dir(self) -> Path:
        return self.var_dir / "locks"

    @property
    def merge_branch_list(self) -> list[str]:
        return [name.strip() for name in self.merge_branches.split(",") if name.strip()]

    def secret_values(self) -> list[str]:
        """Every secret's plain value, for redaction filters (never for printing)."""
        values = []
        for name in type(self).model_fields:
            value = getattr(self, name)
            if isinstance(value, SecretStr) and value.get_secret_value():
                values.append(value.get_secret_value())
        if self.alert_urls is not None:  # each Apprise URL holds its own token: redact it alone too
            values += self.alert_url_list
        return values

    @property
    def alert_url_list(self) -> list[str]:
        """ALERT_URLS split on commas and whitespace (Apprise's own separators)."""
        text = self.alert_urls.get_secret_value() if self.alert_urls is not None else ""
        return [part for part in re.split(r"[\s,]+", text) if part]

    def public_dict(self) -> dict[str, object]:
        """The settings as plain JSON-able data with secrets masked (for `--json` and logs)."""
        plain = self.model_dump(mode="json")
        shown: dict[str, object] = {}
        for name in type(self).model_fields:
            value = getattr(self, name)
            if isinstance(value, SecretStr):
                shown[name] = "**********" if value.get_secret_value() else None
            else:
                shown[name] = plain[name]
        return shown


def _variable_name(loc: tuple[object, ...]) -> str:
    field = str(loc[0]) if loc else "settings"
    info = Settings.model_fields.get(field)
    if info is not None and isinstance(info.validation_alias, str):
        return info.validation_alias
    return field.upper()


def env_file_setting() -> Path:
    """The optional env file the settings read: STAKTRAKR_ENV_FILE, else `.env` in the working directory."""
    return Path(os.environ.get(ENV_FILE_VAR) or ".env")


def load_settings(**overrides: object) -> Settings:
    """Read and validate the settings once; a bad value raises ConfigError naming the variable.

    The env file is optional (absent: environment only), but one that is there must be usable:
    a directory, unreadable bytes or a line systemd would read differently is a ConfigError."""
    from staktrakr.ops.envfile import check_env_file

    env_file = env_file_setting()
    if env_file.exists() or env_file.is_symlink():
        check_env_file(env_file)
    try:
        return Settings(_env_file=env_file if env_file.exists() else None, **overrides)  # type: ignore[call-arg,arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = tuple(first.get("loc", ()))
        message = str(first.get("msg", "invalid value")).removeprefix("Value error, ")
        if not loc:
            raise ConfigError(message) from None
        raise ConfigError(f"{_variable_name(loc)}: {message}") from None
