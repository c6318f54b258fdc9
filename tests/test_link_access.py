"""Who may link, relink and unlink a group (role × change × group-admin status), the audit
trail and the admins' notices, and where /baocao files may be posted."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import select

from core.model import Chat, ChatKind, Incoming, Reply, User
from data.store import chats
from data.store import repositories as repo
from data.store.models import ChatLinkChange, Role
from tests.report_support import seed_reports

if TYPE_CHECKING:
    from tests.status_harness import Desk

pytest_plugins = ("tests.status_harness",)

GROUP = "group-1"
ROLES = {
    "stranger": None,
    "focal_own": (Role.FOCAL, "Sở Y tế"),
    "focal_other": (Role.FOCAL, "Sở Xây dựng"),
    "observer": (Role.OBSERVER, "Sở Y tế"),
    "admin": (Role.ADMIN, None),
}
USERS = {role: "boss" if role == "admin" else role for role in ROLES}  # console:admin is configured
# change: (agency the group starts linked to, command, agency it should end linked to)
CHANGES = {
    "link": (None, "/lienket so y te", "Sở Y tế"),
    "relink_away": ("Sở Y tế", "/lienket so tai chinh", "Sở Tài chính"),
    "relink_in": ("Sở Tài chính", "/lienket so y te", "Sở Y tế"),
    "unlink": ("Sở Y tế", "/huylienket", None),
}
# Who may make each change, given the platform does not say they are no group admin.
ALLOWED = {
    "link": {"admin", "focal_own"},
    "relink_away": {"admin"},  # focal_own may not hand its group to another agency
    "relink_in": {"admin"},  # nor take the coordinating agency's group
    "unlink": {"admin", "focal_own"},
}


def group_message(text: str, user: str, chat_admin: bool | None) -> Incoming:
    """A message in the group, as an adapter that did (or could not) ask getChatMember."""
    return Incoming(
        platform="console",
        chat=Chat(id=GROUP, kind=ChatKind.GROUP, title="Nhóm thử"),
        user=User(id=user, display_name=user.title()),
        text=text,
        sender_is_chat_admin=chat_admin,
    )


def setup_world(desk: Desk) -> None:
    """A person for every role, and a person (with a private chat) for the configured admin."""
    for name, spec in ROLES.items():
        if spec is not None:
            desk.add_person(USERS[name], spec[0], spec[1])
    assert "Đã tạo mã mời" in desk.say("/moi quansat")  # console:admin gets a person


def set_link(desk: Desk, agency: str | None) -> None:
    """Link the group directly (no audit row): the state before the change under test."""
    with desk.database.unit_of_work() as session:
        record = chats.upsert_seen(session, "console", GROUP, kind="group", title="Nhóm thử")
        if agency is not None:
            found = repo.agency_by_name(session, agency)
            assert found is not None
            chats.link_agency(session, record, found.id, desk.clock())


def linked(desk: Desk) -> str | None:
    with desk.database.session() as session:
        record = chats.find(session, "console", GROUP)
        return record.agency.name if record is not None and record.agency else None


def audit(desk: Desk) -> list[dict[str, Any]]:
    with desk.database.session() as session:
        rows = session.scalars(select(ChatLinkChange).order_by(ChatLinkChange.id))
        return [
            {
                "chat": row.chat_id,
                "by": row.by_user_id,
                "role": row.by_role,
                "before": row.agency_before.name if row.agency_before else None,
                "after": row.agency_after.name if row.agency_after else None,
                "chat_admin": row.by_chat_admin,
                "at": row.changed_at.replace(tzinfo=None),
            }
            for row in rows
        ]


def elsewhere(replies: list[Reply]) -> dict[str, str]:
    return {reply.chat_id: reply.text for reply in replies if reply.chat_id}


@pytest.mark.parametrize("chat_admin", [True, False, None], ids=["groupadmin", "member", "unknown"])
@pytest.mark.parametrize("change", list(CHANGES))
@pytest.mark.parametrize("role", list(ROLES))
def test_link_authorization(desk: Desk, role: str, change: str, chat_admin: bool | None) -> None:
    setup_world(desk)
    before, command, after = CHANGES[change]
    set_link(desk, before)
    replies = desk.router.handle(group_message(command, USERS[role], chat_admin))
    here = "\n".join(reply.text for reply in replies if not reply.chat_id)
    allowed = role in ALLOWED[change] and chat_admin is not False
    if not allowed:
        assert here.startswith("Xin lỗi"), here
        assert linked(desk) == before
        assert audit(desk) == []
        assert elsewhere(replies) == {}
        return
    assert here.startswith("Đã"), here
    assert linked(desk) == after
    assert audit(desk) == [
        {
            "chat": GROUP,
            "by": USERS[role],
            "role": "admin" if role == "admin" else "focal",
            "before": before,
            "after": after,
            "chat_admin": chat_admin,
            "at": desk.clock().replace(tzinfo=None),
        }
    ]
    # Every admin but the sender hears of it in their private chat.
    notices = elsewhere(replies)
    expected = {"private-admin", "private-boss"} - {f"private-{USERS[role]}"}
    assert set(notices) == expected
    notice = notices["private-admin"]
    assert "Nhóm thử" in notice and (after or before or "") in notice


def test_admins_are_told_except_the_one_who_acted(desk: Desk) -> None:
    desk.add_person("boss", Role.ADMIN, None)
    desk.add_person("yte", Role.FOCAL, "Sở Y tế")
    desk.say("/moi quansat")  # the configured admin gets a person and a private chat
    replies = desk.router.handle(group_message("/lienket so y te", "yte", True))
    notices = elsewhere(replies)
    assert set(notices) == {"private-admin", "private-boss"}
    assert "đã được liên kết với Sở Y tế" in notices["private-boss"]
    assert "Yte (cán bộ đầu mối Sở Y tế)" in notices["private-boss"]
    replies = desk.router.handle(group_message("/lienket so tai chinh", "boss", None))
    notices = elsewhere(replies)
    assert set(notices) == {"private-admin"}
    assert "từ Sở Y tế sang Sở Tài chính" in notices["private-admin"]
    replies = desk.router.handle(group_message("/huylienket", "admin", None))
    assert set(elsewhere(replies)) == {"private-boss"}
    assert [(row["before"], row["after"]) for row in audit(desk)] == [
        (None, "Sở Y tế"),
        ("Sở Y tế", "Sở Tài chính"),
        ("Sở Tài chính", None),
    ]


def test_focal_point_of_a_successor_links_by_the_2021_name(desk: Desk) -> None:
    desk.add_person("xd", Role.FOCAL, "Sở Xây dựng")
    desk.add_person("gtvt", Role.FOCAL, "Sở Giao thông vận tải")  # stored as its 2021 agency
    desk.router.handle(group_message("/lienket so giao thong van tai", "xd", True))
    assert linked(desk) == "Sở Xây dựng"
    replies = desk.router.handle(group_message("/huylienket", "gtvt", True))
    assert replies[0].text.startswith("Đã hủy liên kết")
    assert linked(desk) is None


def test_a_chosen_link_is_checked_like_a_typed_one(desk: Desk) -> None:
    """A link offered as a choice is refused to a non-admin of the group when picked."""
    desk.add_person("yte", Role.FOCAL, "Ngân hàng Nhà nước Chi nhánh Khu vực 9")
    [offer] = desk.router.handle(group_message("/lienket ngan hang", "yte", True))
    assert offer.choices
    token = offer.choices[0].token
    pick = group_message("", "yte", False)
    [refused] = desk.router.handle(replace(pick, choice_token=token))
    assert refused.text.startswith("Xin lỗi, chỉ quản trị viên của nhóm")
    assert linked(desk) is None


# --- /baocao files in groups ----------------------------------------------------------------


@pytest.fixture
def files_desk(desk: Desk) -> Desk:
    with desk.database.unit_of_work() as session:
        seed_reports(session)
    desk.add_person("yte", Role.FOCAL, "Sở Y tế")
    desk.add_person("leader", Role.OBSERVER, None)
    desk.add_person("boss", Role.ADMIN, None)
    return desk


@pytest.mark.parametrize(
    ("user", "group_agency", "fmt", "gets_file"),
    [
        ("yte", "Sở Y tế", "xlsx", True),
        ("yte", "Sở Y tế", "docx", True),
        ("yte", "Sở Tài chính", "xlsx", True),  # the coordinating agency's group
        ("yte", "Sở Kế hoạch và Đầu tư", "docx", True),  # … by its 2021 name
        ("yte", "Sở Xây dựng", "xlsx", False),
        ("yte", "Sở Xây dựng", "docx", False),
        ("yte", None, "xlsx", False),
        ("boss", "Sở Tài chính", "xlsx", True),
        ("boss", "Sở Y tế", "docx", False),
        ("leader", "Sở Y tế", "xlsx", False),
        ("leader", "Sở Tài chính", "docx", True),
        ("yte", "Sở Xây dựng", "bieudo", True),  # the chart shows counts only
    ],
)
def test_report_files_in_groups(
    files_desk: Desk, user: str, group_agency: str | None, fmt: str, gets_file: bool
) -> None:
    set_link(files_desk, group_agency)
    [reply] = files_desk.router.handle(group_message(f"/baocao {fmt}", user, None))
    if gets_file:
        assert reply.file is not None, reply.text
    else:
        assert reply.file is None
        assert "chat riêng" in reply.text and reply.text.startswith("Xin lỗi")
    private = files_desk.send(f"/baocao {fmt}", user)
    assert private.replies[0].file is not None
