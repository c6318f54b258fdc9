"""Revocation sticks: no code issued before it brings the person (or their role) back."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import func, select

from data.store.models import Invitation, Person, PersonIdentity, Role

if TYPE_CHECKING:
    from tests.status_harness import Desk

pytest_plugins = ("tests.status_harness",)

ROLES = {  # the /moi arguments for each role
    Role.FOCAL: "so y te",
    Role.OBSERVER: "so y te quansat",
    Role.ADMIN: "quantri",
}
# Who redeems the code after the revocation: the revoked account, or another account of theirs.
KINDS = (
    "link_code_same_account",  # their own /maketnoi code, on the account that was revoked
    "link_code_other_platform",  # their /maketnoi code, on a new Telegram account
    "earlier_invitation",  # an admin's /moi code for their role, handed out before revocation
    "minted_by_them",  # a /moi code the revoked admin made, used by a newcomer
)
CODE = re.compile(r"[A-Z2-9]{5}-[A-Z2-9]{5}")


def _code(text: str) -> str:
    found = CODE.search(text)
    assert found, text
    return found.group(0)


def _snapshot(desk: Desk) -> tuple[int, int, list[tuple[str, str, bool]]]:
    """(active people, people with a role, [(account, role, active)])."""
    with desk.database.session() as session:
        active = session.scalar(
            select(func.count()).select_from(Person).where(Person.active.is_(True))
        )
        total = session.scalar(select(func.count()).select_from(Person))
        accounts = [
            (f"{i.platform}:{i.user_id}", i.person.role, i.person.active)
            for i in session.scalars(select(PersonIdentity).order_by(PersonIdentity.id))
        ]
    return active or 0, total or 0, accounts


CASES = [
    (role, kind)
    for role in ROLES
    for kind in KINDS
    if kind != "minted_by_them" or role is Role.ADMIN  # only admins mint invitations
]


@pytest.mark.parametrize(("role", "kind"), CASES, ids=[f"{r.value}-{k}" for r, k in CASES])
def test_codes_issued_before_revocation_are_void(desk: Desk, role: Role, kind: str) -> None:
    invite_args = ROLES[role]
    assert "Chào mừng" in desk.say(f"/dangky {_code(desk.say(f'/moi {invite_args}'))}", "p")
    if kind.startswith("link_code"):
        issued = _code(desk.say("/maketnoi", "p"))
    elif kind == "earlier_invitation":
        issued = _code(desk.say(f"/moi {invite_args}"))
    else:
        issued = _code(desk.say("/moi so tai chinh", "p"))
    desk.clock.advance(minutes=5)
    number = re.search(r"#(\d+) P —", desk.say("/nguoidung"))
    assert number, desk.say("/nguoidung")
    revoked = desk.say(f"/thuhoi {number.group(1)}")
    assert "Đã thu hồi quyền của P" in revoked
    if kind != "earlier_invitation":
        assert "Đã hủy 1 mã" in revoked
    before = _snapshot(desk)

    if kind == "link_code_other_platform":
        answer = desk.say(f"/dangky {issued}", "p2", platform="telegram")
    elif kind == "minted_by_them":
        answer = desk.say(f"/dangky {issued}", "newcomer")
    else:
        answer = desk.say(f"/dangky {issued}", "p")

    assert "không còn hiệu lực" in answer, answer
    assert _snapshot(desk) == before  # nobody reactivated, nobody new, no account moved
    assert "chưa đăng ký" in desk.say("/toi", "p")
    with desk.database.session() as session:
        row = session.scalars(select(Invitation).order_by(Invitation.id.desc())).first()
        assert row is not None and row.used_at is None


def test_a_new_invitation_after_revocation_still_works(desk: Desk) -> None:
    """The admin may take a revoked person back on purpose, with a code made afterwards."""
    desk.register("p", "so y te")
    number = re.search(r"#(\d+) P —", desk.say("/nguoidung"))
    assert number
    desk.say(f"/thuhoi {number.group(1)}")
    desk.clock.advance(minutes=1)
    assert "Chào mừng" in desk.say(f"/dangky {_code(desk.say('/moi so y te'))}", "p")


def test_cancelled_codes_are_not_listed_as_pending(desk: Desk) -> None:
    desk.add_person("boss", Role.ADMIN, None)
    desk.say("/moi so y te", "boss")
    assert "Mã mời chưa dùng (1)" in desk.say("/nguoidung")
    number = re.search(r"#(\d+) Boss —", desk.say("/nguoidung"))
    assert number
    assert "Đã hủy 1 mã" in desk.say(f"/thuhoi {number.group(1)}")
    assert "Mã mời chưa dùng" not in desk.say("/nguoidung")
