"""Signed tokens (login links, sessions, CSRF) and Telegram Mini App initData verification.

Tokens are `base64url(payload).base64url(HMAC-SHA256(key, payload))`; the key is the server
secret kept in the database (data.store.web_state), so every instance verifies them.
initData is checked exactly as Telegram specifies: the data-check-string (every field but
`hash`, sorted, `key=value` joined by new lines) signed with HMAC-SHA256 under the key
HMAC-SHA256("WebAppData", bot token).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from urllib.parse import parse_qsl

LOGIN_SECONDS = 600  # a login link from /web is valid 10 minutes, once
SESSION_SECONDS = 8 * 3600  # a browser session lasts a working day
INIT_DATA_SECONDS = 3600  # initData older than an hour is refused (Telegram makes a new one)
CLOCK_SKEW = 60  # an auth_date up to a minute in the future is accepted
_LOGIN, _SESSION, _CSRF = "login", "session", "csrf"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(key: bytes, purpose: str, payload: bytes) -> bytes:
    return hmac.new(key, purpose.encode() + b"\x00" + payload, hashlib.sha256).digest()


def sign(key: bytes, purpose: str, fields: dict[str, str | int]) -> str:
    """A token carrying fields, valid only for purpose."""
    payload = json.dumps(fields, separators=(",", ":"), sort_keys=True).encode()
    return f"{_b64(payload)}.{_b64(_mac(key, purpose, payload))}"


def unsign(key: bytes, purpose: str, token: str) -> dict[str, str | int] | None:
    """The fields of a token signed for purpose with key, or None (forged, damaged)."""
    head, dot, tail = token.partition(".")
    if not dot or len(token) > 2048:
        return None
    try:
        payload, mac = _unb64(head), _unb64(tail)
    except (binascii.Error, ValueError):
        return None
    if not hmac.compare_digest(mac, _mac(key, purpose, payload)):
        return None
    try:
        fields = json.loads(payload)
    except ValueError:
        return None
    return fields if isinstance(fields, dict) else None


@dataclass(frozen=True)
class Identity:
    """A platform account the web view acts for (roles are read from the database each time)."""

    platform: str
    user_id: str


@dataclass(frozen=True)
class LoginLink:
    """What a login token says: who, until when, and its one-use nonce."""

    who: Identity
    nonce: str
    expires: int


def _issue(key: bytes, kind: str, who: Identity, now: float, lifetime: int) -> str:
    """A signed token of kind for who, valid lifetime seconds, with a fresh nonce."""
    fields: dict[str, str | int] = {
        "p": who.platform,
        "u": who.user_id,
        "e": int(now) + lifetime,
        "n": secrets.token_urlsafe(12),
    }
    return sign(key, kind, fields)


def _read(key: bytes, kind: str, token: str, now: float) -> tuple[Identity, int, str] | None:
    """(who, expires, nonce) of a token of kind, or None when forged or expired."""
    fields = unsign(key, kind, token)
    if fields is None or int(fields.get("e", 0)) < now:
        return None
    who = Identity(str(fields.get("p", "")), str(fields.get("u", "")))
    return who, int(fields["e"]), str(fields.get("n", ""))


def login_token(key: bytes, who: Identity, now: float) -> str:
    """A login link token for who, valid LOGIN_SECONDS from now."""
    return _issue(key, _LOGIN, who, now, LOGIN_SECONDS)


def read_login(key: bytes, token: str, now: float) -> LoginLink | None:
    """The login link, or None when forged or expired (one use is checked by the caller)."""
    found = _read(key, _LOGIN, token, now)
    return LoginLink(found[0], found[2], found[1]) if found is not None else None


@dataclass(frozen=True)
class WebSession:
    """A signed-in browser: who, until when, and the secret its CSRF tokens derive from."""

    who: Identity
    expires: int
    nonce: str


def session_token(key: bytes, who: Identity, now: float) -> str:
    """A session cookie value for who, valid SESSION_SECONDS from now."""
    return _issue(key, _SESSION, who, now, SESSION_SECONDS)


def read_session(key: bytes, token: str, now: float) -> WebSession | None:
    """The session a cookie holds, or None (forged, expired)."""
    found = _read(key, _SESSION, token, now)
    return WebSession(found[0], found[1], found[2]) if found is not None else None


def csrf_token(key: bytes, session: WebSession) -> str:
    """The CSRF token of a session's forms (the same for the whole session)."""
    return _b64(_mac(key, _CSRF, session.nonce.encode()))


def csrf_ok(key: bytes, session: WebSession, given: str) -> bool:
    """Whether a form carried its session's CSRF token."""
    return hmac.compare_digest(given.encode(), csrf_token(key, session).encode())


# --- Telegram Mini App --------------------------------------------------------------------------


@dataclass(frozen=True)
class InitData:
    """Verified initData: the Telegram user, when Telegram signed it, and its hash."""

    user_id: str
    name: str
    auth_date: int
    hash: str


def check_string(init_data: str) -> tuple[str, str]:
    """(data-check-string, hash) of a raw initData query string."""
    fields = dict(parse_qsl(init_data, keep_blank_values=True, strict_parsing=False))
    given = fields.pop("hash", "")
    return "\n".join(f"{k}={fields[k]}" for k in sorted(fields)), given


def sign_init_data(bot_token: str, fields: dict[str, str]) -> str:
    """initData as Telegram would send it (for tests and the bench): fields plus their hash."""
    from urllib.parse import urlencode

    data = "\n".join(f"{k}={fields[k]}" for k in sorted(fields))
    secret = hmac.new(b"WebAppData", bot_token.encode(), hashlib.sha256).digest()
    digest = hmac.new(secret, data.encode(), hashlib.sha256).hexdigest()
    return urlencode({**fields, "hash": digest})


def verify_init_data(init_data: str, bot_token: str, now: float) -> InitData | None:
    """The Mini App user if initData is signed with bot_token and fresh; None otherwise."""
    if not bot_token or not init_data or len(init_data) > 8192:
        return None
    data, given = check_string(init_data)
    secret = hmac.new(b"WebAppData", bot_token.encode(), hashlib.sha256).digest()
    expected = hmac.new(secret, data.encode(), hashlib.sha256).hexdigest()
    if not given or not hmac.compare_digest(expected, given.lower()):
        return None
    fields = dict(parse_qsl(init_data, keep_blank_values=True))
    try:
        auth_date = int(fields.get("auth_date", ""))
        user = json.loads(fields.get("user", ""))
        user_id = str(int(user["id"]))
    except (ValueError, TypeError, KeyError):
        return None
    if not now - INIT_DATA_SECONDS <= auth_date <= now + CLOCK_SKEW:
        return None
    name = " ".join(str(user.get(k, "")) for k in ("first_name", "last_name")).strip()
    return InitData(user_id, name, auth_date, given.lower())
