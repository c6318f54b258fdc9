"""/trogiup by role and place: lookups for strangers, updates for focal points, a pointer for
admins to /trogiup quantri; every reply fits a phone (≤ 1,200 characters)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from bot import commands
from handlers.basic import Audience
from handlers.permissions import ADMINS_ONLY

if TYPE_CHECKING:
    from tests.status_harness import Desk

pytest_plugins = ("tests.status_harness",)

MAX_HELP = 1200
PEOPLE = ("stranger", "observer", "focal", "admin")


@pytest.fixture
def people(desk: Desk) -> Desk:
    """A stranger, an observer, a focal point of Sở Y tế and the configured admin."""
    desk.register("observer", "quansat")
    desk.register("focal", "so y te")
    return desk


def _help(desk: Desk, user: str, *, group: bool = False, topic: str = "") -> str:
    return desk.say(f"/trogiup {topic}".strip(), user, group=group)


def test_every_help_reply_fits_a_phone(people: Desk) -> None:
    for user in PEOPLE:
        for group in (False, True):
            for reply in people.send("/trogiup", user, group=group).replies:
                assert len(reply.text) <= MAX_HELP, (user, group, len(reply.text))
    [admin_page] = people.send("/trogiup quantri", "admin").replies
    assert len(admin_page.text) <= MAX_HELP


def test_a_stranger_sees_lookups(people: Desk) -> None:
    text = _help(people, "stranger")
    for command in ("/tim", "/nhiemvu", "/donvi", "/linhvuc", "/dangky", "/toi"):
        assert command in text
    for command in ("/capnhat ", "/cuatoi", "/moi", "/lienket", "quantri", "/maketnoi"):
        assert command not in text
    assert "rồi cập nhật tiến độ bằng /capnhat." in text  # how to get more: one line
    assert "/dangky /register" not in _help(people, "stranger", group=True)  # private only


def test_a_focal_point_also_sees_updates(people: Desk) -> None:
    text = _help(people, "focal")
    for command in ("/tim", "/capnhat", "/cuatoi", "/lichsu", "/maketnoi", "/huy"):
        assert command in text
    assert "Trong nhóm: /lienket, /huylienket" in text
    assert "/moi" not in text and "quantri" not in text
    group = _help(people, "focal", group=True)
    assert "/lienket so y te" in group and "Trong chat riêng: /dangky, /maketnoi" in group
    observer = _help(people, "observer")
    assert "/cuatoi" in observer and "/capnhat" not in observer


def test_an_admin_gets_a_pointer_to_the_admin_page(people: Desk) -> None:
    for group in (False, True):
        text = _help(people, "admin", group=group)
        assert "/capnhat" in text and "/trogiup quantri" in text
        assert "/moi " not in text and "/nhaclap" not in text
    page = _help(people, "admin", topic="quantri")
    for command in commands.COMMANDS:
        if command.audience is Audience.ADMIN:
            assert f"/{command.name} " in page and command.aliases[0] in page
    assert "/moi /invite — Tạo mã mời cán bộ đầu mối (chat riêng)" in page
    assert _help(people, "admin", topic="admin") == page


def test_the_admin_page_is_for_admins(people: Desk) -> None:
    for user in ("stranger", "focal"):
        assert _help(people, user, topic="quantri") == ADMINS_ONLY


def test_an_admin_finds_every_command_somewhere(people: Desk) -> None:
    pages = " ".join(
        [
            _help(people, "admin"),
            _help(people, "admin", group=True),
            _help(people, "admin", topic="quantri"),
        ]
    )
    for command in commands.COMMANDS:
        if command.name not in ("start", "trogiup"):
            assert f"/{command.name}" in pages
            assert all(f"/{alias}" in pages for alias in command.aliases)


def test_the_fake_bot_api_refuses_what_telegram_refuses() -> None:
    from tests.bot_api_rules import command_problem, scope_problem

    assert not scope_problem(None) and not scope_problem('{"type": "all_group_chats"}')
    assert not scope_problem({"type": "chat", "chat_id": 42})
    assert scope_problem({"type": "chat"}) and scope_problem({"type": "everyone"})
    assert not command_problem([{"command": "tim", "description": "Tìm"}])
    assert command_problem([{"command": "Tim", "description": "Tìm"}])
    assert command_problem([{"command": "tim", "description": ""}])
