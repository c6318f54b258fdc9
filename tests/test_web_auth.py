"""Web view authentication without a browser: initData, signed tokens, one use in the database."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from data.store.db import Database
from data.store.web_state import signing_key, use_once
from handlers.web import auth

TOKEN = "123456:TEST-token"
NOW = 1_800_000_000.0


def _init_data(user_id: int = 42, auth_date: float = NOW, token: str = TOKEN) -> str:
    user = json.dumps({"id": user_id, "first_name": "Lan"}, separators=(",", ":"))
    return auth.sign_init_data(token, {"auth_date": str(int(auth_date)), "user": user})


def test_init_data_checked_as_telegram_specifies() -> None:
    """The known-answer construction: HMAC of the sorted fields under HMAC("WebAppData", token)."""
    import hashlib
    import hmac
    from urllib.parse import parse_qsl

    raw = _init_data()
    fields = dict(parse_qsl(raw))
    given = fields.pop("hash")
    check = "\n".join(f"{k}={v}" for k, v in sorted(fields.items()))
    secret = hmac.new(b"WebAppData", TOKEN.encode(), hashlib.sha256).digest()
    assert given == hmac.new(secret, check.encode(), hashlib.sha256).hexdigest()
    found = auth.verify_init_data(raw, TOKEN, NOW + 5)
    assert found is not None and found.user_id == "42" and found.name == "Lan"


def test_forged_stale_future_and_foreign_init_data_refused() -> None:
    """Another token, a changed field, an old or future auth_date: refused."""
    assert auth.verify_init_data(_init_data(token="999:other"), TOKEN, NOW) is None
    assert auth.verify_init_data(_init_data().replace("42", "43"), TOKEN, NOW) is None
    old = _init_data(auth_date=NOW - auth.INIT_DATA_SECONDS - 1)
    assert auth.verify_init_data(old, TOKEN, NOW) is None
    assert auth.verify_init_data(_init_data(auth_date=NOW + 600), TOKEN, NOW) is None
    assert auth.verify_init_data(_init_data(), "", NOW) is None
    assert auth.verify_init_data("hash=00&user=%7B%7D", TOKEN, NOW) is None


def test_tokens_are_bound_to_key_purpose_and_time() -> None:
    """A login token is not a session; another key or an expired token is refused."""
    key, other = b"k" * 32, b"o" * 32
    who = auth.Identity("zalo", "u1")
    login = auth.login_token(key, who, NOW)
    assert auth.read_login(key, login, NOW + 599) is not None
    assert auth.read_login(key, login, NOW + auth.LOGIN_SECONDS + 1) is None
    assert auth.read_login(other, login, NOW) is None
    assert auth.read_session(key, login, NOW) is None
    session = auth.session_token(key, who, NOW)
    found = auth.read_session(key, session, NOW + 60)
    assert found is not None and found.who == who
    assert auth.csrf_ok(key, found, auth.csrf_token(key, found))
    assert not auth.csrf_ok(key, found, "")
    assert auth.read_session(key, session[:-2] + "AA", NOW) is None


def test_key_is_shared_and_marks_are_used_once(db: Database) -> None:
    """One secret for every instance; a mark is accepted once until it expires."""
    now = datetime(2026, 11, 26, 9, tzinfo=UTC)
    with db.unit_of_work() as session:
        first = signing_key(session, now)
    with db.unit_of_work() as session:
        assert signing_key(session, now) == first and len(first) == 32
        assert use_once(session, "l:x", now + timedelta(minutes=10), now)
    with db.unit_of_work() as session:
        assert not use_once(session, "l:x", now + timedelta(minutes=10), now)
    later = now + timedelta(minutes=11)
    with db.unit_of_work() as session:  # purged once expired; the link itself is expired too
        assert use_once(session, "l:x", later + timedelta(minutes=10), later)
