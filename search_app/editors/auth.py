"""Who may see the editors' page: a request carrying HEARTSEARCH_EDITOR_TOKEN,
either as `Authorization: Bearer TOKEN` (scripts) or as the session cookie
the sign-in form sets (an editor's browser).

The cookie never holds the token. It holds an expiry time and an
HMAC-SHA256 of it keyed by the token, so every worker process can check it
with nothing shared but the token, a cookie copied out of a browser stops
working at its expiry (and at once when the token is changed), and the
token cannot be read back out of it. Every comparison is constant-time on
equal-length digests, so neither the token's characters nor its length
leak through timing.

The sign-in and sign-out forms are protected from cross-site posts by a
double-submit form token: a random value in an HttpOnly, SameSite=Strict
cookie and the same value in a hidden field. Another site can neither read
the value nor make the browser send the cookie with its post. An Origin or
Referer check would not do here: the site's `Referrer-Policy: no-referrer`
makes browsers send `Origin: null` even on the site's own form posts.
A `Sec-Fetch-Site` header that says the post comes from elsewhere is
refused as well, before the form token is looked at.
"""
from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time

SESSION_COOKIE = "heartsearch_editor"
FORM_COOKIE = "heartsearch_editor_form"
COOKIE_PATH = "/editors"
# A working day: an editor signs in once in the morning; a cookie copied out
# of a browser is good for at most this long.
SESSION_SECONDS = 8 * 3600
SESSION_CONTEXT = b"heartsearch editor session v1"
# The token travels in an HTTP header, so it must be plain visible ASCII, and
# long enough that the sign-in limit makes guessing it hopeless.
TOKEN_PATTERN = re.compile(r"[\x21-\x7e]{16,}")
FORM_TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{43}")
_SESSION = re.compile(r"v1\.([0-9]{1,12})\.([0-9a-f]{64})")


def check_token_setting(token: str | None) -> None:
    """Refuse a token a guesser could find, at start-up rather than at the
    first sign-in. The message never repeats the value."""
    if token is not None and not TOKEN_PATTERN.fullmatch(token):
        raise ValueError("HEARTSEARCH_EDITOR_TOKEN must be at least 16 visible ASCII characters with no spaces "
                         "(for example: python -c 'import secrets; print(secrets.token_urlsafe(32))')")


def _digest(value: str | bytes) -> bytes:
    return hashlib.sha256(value.encode("utf-8", "surrogateescape") if isinstance(value, str) else value).digest()


def same_secret(given: str, expected: str) -> bool:
    """Constant-time, and independent of either length (digests compared)."""
    return hmac.compare_digest(_digest(given), _digest(expected))


def bearer_token(authorization: str | None) -> str | None:
    """The credential of `Authorization: Bearer X` (scheme in any case)."""
    if not authorization:
        return None
    scheme, _, credential = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not credential.strip():
        return None
    return credential.strip()


def _mac(token: str, expires: int) -> str:
    return hmac.new(token.encode("utf-8"), SESSION_CONTEXT + b"|" + str(expires).encode(), hashlib.sha256).hexdigest()


def session_value(token: str, now: float | None = None) -> str:
    """The session cookie's value: `v1.<expiry, Unix seconds>.<HMAC-SHA256 hex>`."""
    expires = int(now if now is not None else time.time()) + SESSION_SECONDS
    return f"v1.{expires}.{_mac(token, expires)}"


def valid_session(value: str | None, token: str, now: float | None = None) -> bool:
    if not value:
        return False
    match = _SESSION.fullmatch(value)
    if not match:
        return False
    expires = int(match.group(1))
    now = now if now is not None else time.time()
    if expires <= now or expires > now + SESSION_SECONDS + 60:
        return False
    return hmac.compare_digest(match.group(2), _mac(token, expires))


def is_editor(token: str, authorization: str | None, cookie: str | None) -> bool:
    """Whether a request with these headers is an editor's. A Bearer header,
    when present, decides alone (a script with a wrong token is refused even
    if it also sends a good cookie)."""
    offered = bearer_token(authorization)
    if offered is not None:
        return same_secret(offered, token)
    return valid_session(cookie, token)


def new_form_token() -> str:
    return secrets.token_urlsafe(32)


def usable_form_token(value: str | None) -> str | None:
    return value if value and FORM_TOKEN_PATTERN.fullmatch(value) else None


def form_token_matches(cookie: str | None, field: str | None) -> bool:
    cookie, field = usable_form_token(cookie), usable_form_token(field)
    return cookie is not None and field is not None and hmac.compare_digest(cookie, field)


def cross_site(sec_fetch_site: str | None) -> bool:
    """A browser that says the request comes from another site or a sibling
    subdomain. Absent (scripts, old browsers) or same-origin/none is not."""
    return (sec_fetch_site or "").strip().lower() in ("cross-site", "same-site")
