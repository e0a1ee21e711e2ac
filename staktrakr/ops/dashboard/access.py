"""Who may see the dashboard: DASHBOARD_TOKEN, as a signed session cookie or a bearer token.

Without DASHBOARD_TOKEN the dashboard is off (403 saying so). The login form trades the token
for a cookie signed with itsdangerous (HMAC-SHA1 over a key derived from the token, so changing
the token logs every browser out), HttpOnly, SameSite=Strict (no cross-site request carries it,
which is also the CSRF guard of login and logout), Secure behind https, valid SESSION_MAX_AGE.
Tokens are compared in constant time (`hmac.compare_digest`). The page's Content-Security-Policy
allows nothing but this origin: no inline script or style, no outside host.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from itsdangerous import BadSignature, TimestampSigner
from starlette.requests import Request

from staktrakr.settings import Settings

SESSION_COOKIE = "staktrakr_dashboard"
SESSION_MAX_AGE_S = 12 * 3600
SESSION_VALUE = b"operator"
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


def token_matches(given: str, expected: str) -> bool:
    """Constant-time comparison of two tokens (UTF-8 bytes)."""
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


class DashboardAccess:
    """The token from settings, and the signer of session cookies derived from it."""

    def __init__(self, settings: Settings) -> None:
        secret = settings.dashboard_token.get_secret_value() if settings.dashboard_token else ""
        self._token = secret
        key = hashlib.sha256(b"staktrakr-dashboard-session\x00" + secret.encode("utf-8")).digest()
        self._signer = TimestampSigner(key, salt="staktrakr-dashboard")

    @property
    def enabled(self) -> bool:
        return bool(self._token)

    def check_token(self, given: str) -> bool:
        return self.enabled and token_matches(given, self._token)

    def session_cookie(self) -> str:
        """A fresh signed session value for the cookie."""
        return self._signer.sign(SESSION_VALUE).decode("ascii")

    def verdict(self, request: Request) -> Verdict:
        """403 when disabled; a bearer header wins over the cookie: a wrong one is 401; no valid
        credential is 401."""
        if not self.enabled:
            return Verdict(False, 403, DISABLED_MESSAGE)
        header = request.headers.get("authorization", "")
        if header.lower().startswith("bearer "):
            if self.check_token(header[len("bearer "):].strip()):
                return Verdict(True)
            return Verdict(False, 401, "wrong token")
        cookie = request.cookies.get(SESSION_COOKIE)
        if cookie:
            try:
                if self._signer.unsign(cookie, max_age=SESSION_MAX_AGE_S) == SESSION_VALUE:
                    return Verdict(True)
            except BadSignature:  # tampered, expired or signed with a former token
                pass
        return Verdict(False, 401, "log in at /dashboard/login, or send Authorization: Bearer <DASHBOARD_TOKEN>")
