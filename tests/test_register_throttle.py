"""/dangky: five failed codes in 15 minutes lock the account and the chat for the window."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import func, select

from core.model import Chat, Incoming, User
from data.store.models import FailedAttempt

if TYPE_CHECKING:
    from tests.status_harness import Desk

pytest_plugins = ("tests.status_harness",)

WRONG = "/dangky AAAAA-BBBBB"
LOCKED = "đã nhập sai mã mời quá nhiều lần"


def fail(desk: Desk, times: int, user: str = "mallory") -> list[str]:
    return [desk.say(WRONG, user) for _ in range(times)]


def test_fifth_failure_locks_with_local_time(desk: Desk) -> None:
    # The clock reads 09:00 UTC = 16:00 in Quảng Ngãi.
    answers = fail(desk, 4)
    assert all(LOCKED not in a and "không đúng" in a for a in answers)
    desk.clock.advance(minutes=2)
    fifth = desk.say(WRONG, "mallory")
    assert "không đúng" in fifth and LOCKED in fifth and "thử lại sau 16:15" in fifth
    code = desk.invite("so y te")
    refused = desk.say(f"/dangky {code}", "mallory")  # a right code waits too
    assert LOCKED in refused and "thử lại sau 16:15" in refused and "Chào mừng" not in refused
    desk.clock.advance(minutes=12, seconds=59)  # 16:14:59
    assert LOCKED in desk.say(f"/dangky {code}", "mallory")
    desk.clock.advance(seconds=1)  # 16:15: the first failure has left the window
    assert "Chào mừng" in desk.say(f"/dangky {code}", "mallory")


def test_lock_survives_a_restart(desk: Desk) -> None:
    fail(desk, 5)
    desk.restart()
    assert LOCKED in desk.say(f"/dangky {desk.invite('so y te')}", "mallory")


def test_other_accounts_are_not_locked_and_success_is_not_counted(desk: Desk) -> None:
    fail(desk, 5)
    assert "Chào mừng" in desk.say(f"/dangky {desk.invite('so y te')}", "alice")
    with desk.database.session() as session:
        keys = set(session.scalars(select(FailedAttempt.key)))
    assert keys == {"mallory", "private-mallory"}


def test_usage_messages_are_not_failures(desk: Desk) -> None:
    for _ in range(8):
        assert "gõ mã mời sau lệnh" in desk.say("/dangky", "bob")
        assert "chat riêng" in desk.say(WRONG, "bob", group=True)
    assert "Chào mừng" in desk.say(f"/dangky {desk.invite('so y te')}", "bob")


@pytest.mark.parametrize("outcome", ["unknown", "too_long", "used", "expired", "cancelled"])
def test_every_kind_of_failure_counts(desk: Desk, outcome: str) -> None:
    used = desk.invite("so y te")
    desk.say(f"/dangky {used}", "someone")
    old = desk.invite("so y te")
    desk.register("revoked", "so y te")
    link = re.search(r"[A-Z2-9]{5}-[A-Z2-9]{5}", desk.say("/maketnoi", "revoked"))
    assert link
    number = re.search(r"#(\d+) Revoked", desk.say("/nguoidung"))
    assert number
    desk.say(f"/thuhoi {number.group(1)}")
    desk.clock.advance(days=8)
    texts = {
        "unknown": WRONG,
        "too_long": "/dangky " + "A" * 41,
        "used": f"/dangky {used}",
        "expired": f"/dangky {old}",
        "cancelled": f"/dangky {link.group(0)}",
    }
    if outcome == "cancelled":
        desk.clock.advance(days=-8)  # still within the code's seven days
    answers = [desk.say(texts[outcome], "mallory") for _ in range(6)]
    assert LOCKED not in answers[3] and LOCKED in answers[4] and LOCKED in answers[5]


def test_per_chat_limit_holds_across_accounts(desk: Desk) -> None:
    """Guesses from many accounts in one chat (a platform with shared chats) are limited too."""

    def guess(user: str) -> str:
        msg = Incoming(platform="console", chat=Chat("shared"), user=User(user), text=WRONG)
        return "\n".join(reply.text for reply in desk.router.handle(msg))

    answers = [guess(f"user{n}") for n in range(6)]
    assert LOCKED in answers[4] and LOCKED in answers[5]
    with desk.database.session() as session:
        rows = session.scalar(select(func.count()).select_from(FailedAttempt))
    assert rows == 10  # five accounts and five times the chat; the sixth was not checked


def test_window_slides_and_old_rows_are_pruned(desk: Desk) -> None:
    for _ in range(4):
        desk.say(WRONG, "mallory")
        desk.clock.advance(minutes=5)
    # Failures at 00, 05, 10 and 15 min; at 20 min only 10 and 15 are inside the window.
    assert LOCKED not in desk.say(WRONG, "mallory")
    with desk.database.session() as session:
        user_rows = session.scalar(
            select(func.count()).select_from(FailedAttempt).where(FailedAttempt.scope == "user")
        )
    assert user_rows == 3  # 10, 15 and 20; the ones at 00 and 05 were pruned


def test_start_with_a_payload_is_throttled_like_dangky(desk: Desk) -> None:
    answers = [desk.say("/start AAAAABBBBB", "mallory") for _ in range(5)]
    assert all("không đúng" in a for a in answers) and LOCKED in answers[-1]
    code = desk.invite("so y te").replace("-", "")
    assert LOCKED in desk.say(f"/start {code}", "mallory")
    assert LOCKED in desk.say(f"/dangky {code}", "mallory")  # one count for both commands
    assert "Xin chào" in desk.say("/start", "mallory")  # a bare /start still greets
