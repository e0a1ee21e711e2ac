"""`staktrakr doctor`: is this host set up to run the jobs? One check per line, secrets masked.

Each check returns a `Check` (ok / warn / fail / skip) and never raises for what it examines:
the env file, every setting, the catalog file, the database (reachable, schema version), the git remote with its
credential, a Chromium launch, Firecrawl and MetalPriceAPI when configured, serve's exposure
(SERVE_HOST beyond loopback with a weak OPS_TRIGGER_TOKEN), free disk for var/.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

import httpx

from staktrakr.errors import ConfigError, StaktrakrError
from staktrakr.log import shorten
from staktrakr.settings import ENV_FILE_VAR, Settings, load_settings
from staktrakr.store.database import display_url

State = Literal["ok", "warn", "fail", "skip"]
DISK_FAIL_BYTES = 200 * 1024 * 1024       # below this a scrape's journal, outbox or publish tree may not fit
DISK_WARN_BYTES = 1024 * 1024 * 1024
PROBE_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class Check:
    name: str
    state: State
    detail: str  # one line, secrets redacted


@dataclass
class DoctorReport:
    checks: list[Check]
    configuration: dict[str, object]  # the effective settings, secrets masked

    @property
    def ok(self) -> bool:
        return not any(check.state == "fail" for check in self.checks)

    def as_dict(self) -> dict[str, object]:
        return {"ok": self.ok, "checks": [asdict(check) for check in self.checks],
                "configuration": self.configuration}


def check_env_file(environ: dict[str, str] | os._Environ[str]) -> Check:
    """The env file the jobs read (STAKTRAKR_ENV_FILE, else the hosts' /etc/staktrakr/env, else ./.env):
    private (mode 600) and parseable as systemd reads it. The hosts' file is loaded into `environ`
    as the cron runner loads it, so the checks after this one see the jobs' settings."""
    from staktrakr.ops.cron_runner import apply_env_file
    from staktrakr.ops.envfile import check_env_file as parse_env_file
    from staktrakr.ops.envfile import check_private, env_file_path

    path, explicit = env_file_path(environ)
    cron_file = explicit or path.exists()
    if not cron_file:
        path = Path(".env")
        if not path.exists():
            return Check("env file", "skip", f"none ({ENV_FILE_VAR} unset, no {env_file_path({})[0]}, no ./.env): "
                                             "settings from the environment")
    if not path.exists():
        return Check("env file", "fail", f"{path}: not found (create it, mode 600, or unset {ENV_FILE_VAR})")
    try:
        check_private(path)
        parse_env_file(path)
        if cron_file:
            apply_env_file(environ)
    except ConfigError as exc:
        return Check("env file", "fail", str(exc))
    return Check("env file", "ok", f"{path}: private, parses as systemd reads it")


def check_settings() -> tuple[Check, Settings | None]:
    try:
        settings = load_settings()
    except ConfigError as exc:
        return Check("settings", "fail", str(exc)), None
    count = len(type(settings).model_fields)
    return Check("settings", "ok", f"{count} settings valid (poller {settings.poller_id})"), settings


def check_catalog(settings: Settings) -> Check:
    """The catalog file the jobs read (PROVIDERS_FILE): present and valid (the operator's file, not in the wheel)."""
    from staktrakr.catalog import load_catalog

    if settings.catalog_source == "db":
        return Check("catalog", "skip", "STAKTRAKR_CATALOG_SOURCE=db: jobs read provider_coins/provider_vendors")
    try:
        catalog = load_catalog(settings.providers_file)
    except ConfigError as exc:
        return Check("catalog", "fail", str(exc))
    return Check("catalog", "ok", f"{settings.providers_file}: {len(catalog.targets())} enabled targets")


def check_database(settings: Settings) -> Check:
    from staktrakr.store import Store
    from staktrakr.store.queries.status import database_status
    from staktrakr.store.schema import MIGRATIONS

    latest = max(migration.version for migration in MIGRATIONS)
    try:
        with Store.open(settings) as store:
            report = database_status(store)
    except (StaktrakrError, OSError) as exc:
        return Check("database", "fail", shorten(exc, 300, settings.secret_values()))
    if not report["reachable"]:
        return Check("database", "fail", shorten(report.get("error"), 300, settings.secret_values()))
    version = report["schema_version"]
    if version is None:
        return Check("database", "warn", f"{report['database']}: reachable, no schema yet (run: staktrakr db migrate)")
    if version < latest:
        return Check("database", "warn", f"{report['database']}: reachable, schema version {version} of {latest} "
                                         "(run: staktrakr db migrate)")
    return Check("database", "ok", f"{report['database']}: reachable, schema version {version} (current)")


def check_git_remote(settings: Settings) -> Check:
    """`git ls-remote` of API_DATA_REPO with the token through askpass (never in the URL)."""
    from staktrakr.git.repo import NO_HELPER, check_remote_url, git_auth_env

    remote = settings.api_data_repo
    if not remote:
        return Check("git remote", "skip", "API_DATA_REPO unset: publish commits locally only")
    credential = "GITHUB_TOKEN set" if settings.github_token else "no GITHUB_TOKEN (anonymous)"
    shown = display_url(remote)
    try:
        check_remote_url(remote)
    except ConfigError as exc:
        return Check("git remote", "fail", str(exc))
    with git_auth_env(settings) as auth:
        try:
            done = subprocess.run(["git", *NO_HELPER, "ls-remote", "--heads", "--", remote],
                                  env={**os.environ, **auth}, capture_output=True, text=True,
                                  timeout=PROBE_TIMEOUT_S * 3, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return Check("git remote", "fail", f"{shown}: {shorten(exc, 200, settings.secret_values())}")
    if done.returncode != 0:
        reason = shorten(done.stderr.strip() or f"git exit {done.returncode}", 200, settings.secret_values())
        return Check("git remote", "fail", f"{shown} ({credential}): {reason}")
    has_branch = any(line.endswith(f"refs/heads/{settings.branch}") for line in done.stdout.splitlines())
    branch = f"branch {settings.branch} exists" if has_branch else f"branch {settings.branch} not pushed yet"
    return Check("git remote", "ok", f"{shown} ({credential}): readable, {branch}")


def check_chromium(settings: Settings) -> Check:
    """Launch the configured Chromium headless through Playwright, as the browser fetcher does."""
    from staktrakr.fetch.browser import launch_args

    path = settings.chromium_path
    if not path.exists():
        return Check("chromium", "fail", f"not found at {path} (install chromium or set CHROMIUM_PATH)")

    async def launch() -> str:
        from playwright.async_api import async_playwright

        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=str(path), headless=True, args=launch_args())
            try:
                return str(browser.version)
            finally:
                await browser.close()

    try:
        version = asyncio.run(asyncio.wait_for(launch(), timeout=PROBE_TIMEOUT_S * 3))
    except Exception as exc:  # Playwright's own errors, OS errors and the timeout alike: the check failed
        return Check("chromium", "fail", f"{path}: failed to start: {shorten(exc, 200)}")
    sandbox = "sandbox on" if "--no-sandbox" not in launch_args() else "sandbox off"
    return Check("chromium", "ok", f"{path}: version {version} launches headless ({sandbox})")


def check_http(name: str, url: str | None, why_skipped: str, settings: Settings) -> Check:
    """Reachability only (any HTTP answer): no key is sent, so no quota is spent."""
    if not url:
        return Check(name, "skip", why_skipped)
    shown = display_url(url)
    try:
        response = httpx.get(url, timeout=PROBE_TIMEOUT_S, follow_redirects=False)
    except httpx.HTTPError as exc:
        return Check(name, "fail", f"{shown}: unreachable: {shorten(exc, 200, settings.secret_values())}")
    return Check(name, "ok", f"{shown}: reachable (HTTP {response.status_code})")


def check_serve_exposure(settings: Settings) -> Check:
    """SERVE_HOST beyond loopback opens the trigger and the dashboard to the network: their tokens
    must then be strong (DASHBOARD_TOKEN's length is a settings error already)."""
    import ipaddress

    from staktrakr.settings import MIN_DASHBOARD_TOKEN_CHARS

    host = settings.serve_host
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if loopback:
        return Check("serve", "ok", f"SERVE_HOST={host}: this host only")
    trigger = settings.ops_trigger_token.get_secret_value() if settings.ops_trigger_token else ""
    if trigger and len(trigger.strip()) < MIN_DASHBOARD_TOKEN_CHARS:
        return Check("serve", "warn", f"SERVE_HOST={host} opens serve to the network and OPS_TRIGGER_TOKEN is "
                                      f"shorter than {MIN_DASHBOARD_TOKEN_CHARS} characters (openssl rand -hex 24)")
    guarded = [name for name, value in (("trigger", trigger), ("dashboard", settings.dashboard_token)) if value]
    behind = f"{' and '.join(guarded)} behind tokens" if guarded else "trigger and dashboard off"
    return Check("serve", "ok", f"SERVE_HOST={host}: open to the network; {behind}")


def check_disk(settings: Settings) -> Check:
    """Free space where var/ lives, and that var/ can be created and written."""
    var_dir = settings.var_dir.resolve()
    existing = var_dir
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    free = shutil.disk_usage(existing).free
    writable = os.access(var_dir if var_dir.exists() else existing, os.W_OK)
    text = f"{var_dir}: {free / 1024 ** 3:.1f} GiB free" + ("" if writable else ", not writable by this user")
    if not writable or free < DISK_FAIL_BYTES:
        return Check("disk", "fail", text)
    return Check("disk", "warn" if free < DISK_WARN_BYTES else "ok", text)


def shown_configuration(settings: Settings) -> dict[str, object]:
    """`Settings.public_dict()` with every URL (alone or in a list) through `display_url`: no
    `user:password@`, no `?authToken=` in what doctor prints, even for settings that are not secret."""
    def shown(value: object) -> object:
        if isinstance(value, str) and "://" in value:
            return display_url(value)
        if isinstance(value, list):
            return [shown(item) for item in value]
        return value

    return {name: shown(value) for name, value in settings.public_dict().items()}


def run_doctor() -> DoctorReport:
    """Every check in order; the ones that need valid settings are skipped when they are not."""
    checks = [check_env_file(os.environ)]
    settings_check, settings = check_settings()
    checks.append(settings_check)
    if settings is None:
        names = ("catalog", "database", "git remote", "chromium", "firecrawl", "metalpriceapi", "serve", "disk")
        checks += [Check(name, "skip", "settings invalid") for name in names]
        return DoctorReport(checks, {})
    metal_price_url = settings.metal_price_api_base_url if settings.metal_price_api_key else None
    probes: list[Callable[[], Check]] = [
        lambda: check_catalog(settings),
        lambda: check_database(settings),
        lambda: check_git_remote(settings),
        lambda: check_chromium(settings),
        lambda: check_http("firecrawl", settings.firecrawl_base_url, "FIRECRAWL_BASE_URL unset: fetcher off", settings),
        lambda: check_http("metalpriceapi", metal_price_url, "METAL_PRICE_API_KEY unset: spot off", settings),
        lambda: check_serve_exposure(settings),
        lambda: check_disk(settings),
    ]
    checks += [probe() for probe in probes]
    return DoctorReport(checks, shown_configuration(settings))
