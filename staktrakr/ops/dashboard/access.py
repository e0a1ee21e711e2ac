"""Who may see the dashboard: DASHBOARD_TOKEN, as a signed session cookie or a bearer token.

Without DASHBOARD_TOKEN the dashboard is off (403 saying so). The login form trades the token
for a cookie signed with itsdangerous (HMAC-SHA1 over a key derived from the token, so changing
the token logs every browser out), HttpOnly, SameSite=Strict (no cross-site request carries it,
which is also the CSRF guard of login and logout), Secure behind https, valid SESSION_MAX_AGE.
Tokens are compared in constant time (`hmac.compare_digest`). The page's Content-Security-Policy
allows nothing but this origin: no inline script or style, no outside host.

Each cookie carries a random login id. Logging out records the id as revoked, so the old cookie is
refused even if it was copied. Revocations live in this process's memory only; so that a restart
cannot bring a logged-out cookie back, the signing key also holds a random value drawn when the
server starts: a restart of serve logs every browser out.

Failed logins (form or bearer) are limited per client address: LOGIN_FAILURES_PER_WINDOW within
LOGIN_WINDOW_S, then 429 with Retry-After until the oldest failure leaves the window (in memory).
"""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass

from itsdangerous import BadSignature, TimestampSigner
from starlette.requests import Request

from staktrakr.settings import Settings

SESSION_COOKIE = "staktrakr_dashboard"
SESSION_MAX_AGE_S = 12 * 3600
LOGIN_ID_PREFIX = "operator."
LOGIN_FAILURES_PER_WINDOW = 10
LOGIN_WINDOW_S = 60.0
MAX_TRACKED_CLIENTS = 10_000  # beyond this the oldest client's failures are forgotten (memory bound)
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
PAGE_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
DISABLED_MESSAGE = ("dashboard disabled: DASHBOARD_TOKEN is not set on this host "
                    "(set it in the env file and restart serve)")


@dataclass(frozen=True)
class Verdict:
    """The outcome of one request's credentials: allowed, or the status and reason to refuse."""

    allowed: bool
    status_code: int = 200
    reason: str = ""
    retry_after_s: int = 0  # with 429: whole seconds until the client may try again


def client_address(request: Request) -> str:
    """The address failed logins are counted under (the peer, or the proxy's forwarded one when trusted)."""
    return request.client.host if request.client else "unknown"


def token_matches(given: str, expected: str) -> bool:
    """Constant-time comparison of two tokens (UTF-8 bytes)."""
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


class LoginLimiter:
    """Failed login attempts per client address within a sliding window (in memory, thread-safe)."""

    def __init__(self, limit: int = LOGIN_FAILURES_PER_WINDOW, window_s: float = LOGIN_WINDOW_S) -> None:
        self.limit = limit
        self.window_s = window_s
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, client: str, now: float) -> deque[float]:
        times = self._failures.get(client, deque())
        while times and now - times[0] >= self.window_s:
            times.popleft()
        return times

    def retry_after_s(self, client: str) -> int:
        """Whole seconds until `client` may try again; 0 when it may now."""
        now = time.monotonic()
        with self._lock:
            times = self._recent(client, now)
            if len(times) < self.limit:
                return 0
            return max(1, math.ceil(self.window_s - (now - times[0])))

    def record_failure(self, client: str) -> None:
        now = time.monotonic()
        with self._lock:
            times = self._recent(client, now)
            times.append(now)
            self._failures.pop(client, None)
            self._failures[client] = times  # newest last: the oldest client goes first when full
            while len(self._failures) > MAX_TRACKED_CLIENTS:
                self._failures.pop(next(iter(self._failures)))


class DashboardAccess:
    """The token from settings, the signer of login cookies derived from it (and a value drawn at
    start), the revoked login ids and the failed-login limiter."""

    def __init__(self, settings: Settings) -> None:
        secret = settings.dashboard_token.get_secret_value() if settings.dashboard_token else ""
        self._token = secret
        key = hashlib.sha256(b"staktrakr-dashboard-session\x00" + secret.encode("utf-8") + b"\x00"
                             + secrets.token_bytes(16)).digest()
        self._signer = TimestampSigner(key, salt="staktrakr-dashboard")
        self._revoked: dict[str, float] = {}  # login id -> monotonic time it may be forgotten
        self._lock = threading.Lock()
        self.limiter = LoginLimiter()

    @property
    def enabled(self) -> bool:
        return bool(self._token)

    def check_token(self, given: str) -> bool:
        return self.enabled and token_matches(given, self._token)

    def too_many_failures(self, request: Request) -> Verdict | None:
        """429 when this client failed LOGIN_FAILURES_PER_WINDOW times within the window, else None."""
        wait_s = self.limiter.retry_after_s(client_address(request))
        if not wait_s:
            return None
        return Verdict(False, 429, f"too many failed logins from this address; try again in {wait_s} s", wait_s)

    def try_token(self, request: Request, given: str) -> Verdict:
        """Check a token from the form or a bearer header, counting a wrong one against the client."""
        if self.check_token(given):
            return Verdict(True)
        self.limiter.record_failure(client_address(request))
        return Verdict(False, 401, "wrong token")

    def session_cookie(self) -> str:
        """A fresh signed value for the cookie: a new random login id."""
        return self._signer.sign(LOGIN_ID_PREFIX + secrets.token_urlsafe(16)).decode("ascii")

    def _login_id(self, cookie: str) -> str | None:
        """The login id of a valid, unexpired cookie signed by this server, else None."""
        try:
            value = self._signer.unsign(cookie, max_age=SESSION_MAX_AGE_S).decode("ascii")
        except (BadSignature, UnicodeDecodeError):  # tampered, expired or signed with a former token
            return None
        return value if value.startswith(LOGIN_ID_PREFIX) else None

    def revoke(self, cookie: str | None) -> None:
        """Log out: the cookie's login id is refused from now on (until the cookie would have expired)."""
        login_id = self._login_id(cookie) if cookie else None
        if login_id is None:
            return
        now = time.monotonic()
        with self._lock:
            self._revoked = {key: until for key, until in self._revoked.items() if until > now}
            self._revoked[login_id] = now + SESSION_MAX_AGE_S

    def _revoked_id(self, login_id: str) -> bool:
        with self._lock:
            return login_id in self._revoked

    def verdict(self, request: Request) -> Verdict:
        """403 when disabled; a bearer header wins over the cookie: a wrong one is 401 (429 after
        too many from this client); no valid credential, or a logged-out cookie, is 401."""
        if not self.enabled:
            return Verdict(False, 403, DISABLED_MESSAGE)
        header = request.headers.get("authorization", "")
        if header.lower().startswith("bearer "):
            return self.too_many_failures(request) or self.try_token(request, header[len("bearer "):].strip())
        cookie = request.cookies.get(SESSION_COOKIE)
        login_id = self._login_id(cookie) if cookie else None
        if login_id is not None and not self._revoked_id(login_id):
            return Verdict(True)
        return Verdict(False, 401, "log in at /dashboard/login, or send Authorization: Bearer <DASHBOARD_TOKEN>")
