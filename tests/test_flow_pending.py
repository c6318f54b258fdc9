"""A pending /capnhat does not hijack the chat: other text is handled as usual (with a reminder),
and a number answers whichever list was shown last, the flow's question or a /tim list."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import select

from data.store.models import Flow, Role

if TYPE_CHECKING:
    from tests.status_harness import Desk

pytest_plugins = ("tests.status_harness",)

REMINDER = "gõ /huy để hủy"
TASK_PROMPT = "Anh/chị chọn một nhiệm vụ"


@pytest.fixture
def focal(desk: Desk) -> Desk:
    """Lan is a focal point of Sở Xây dựng on the console."""
    desk.register("lan", "so xay dung")
    return desk


def _step(desk: Desk, user: str = "lan") -> str:
    with desk.database.session() as session:
        flow = session.scalars(select(Flow).where(Flow.user_id == user)).one()
        return flow.step


def _number(listing: str, start: str) -> str:
    match = re.search(rf"^(\d+)\. {re.escape(start)}", listing, re.MULTILINE)
    assert match, listing
    return match.group(1)


@pytest.mark.parametrize(
    ("setup", "step"),
    [
        (["/capnhat"], "task"),
        (["/capnhat 2.4"], "status"),
        (["/capnhat 2.4", "dang thuc hien"], "progress"),
        (["/capnhat 2.4", "hoan thanh", "Đã xong"], "confirm"),
    ],
)
@pytest.mark.parametrize("text", ["so y te", "san bay chu lai", "trogiup"])
def test_text_that_answers_nothing_is_handled_as_usual(
    focal: Desk, setup: list[str], step: str, text: str
) -> None:
    for line in setup:
        focal.say(line, "lan")
    assert _step(focal) == step
    usual = focal.say(text, "stranger")  # what anyone without a pending update gets
    said = focal.say(text, "lan")
    assert TASK_PROMPT not in said and "chọn một trong ba trạng thái" not in said
    assert said.startswith(usual.split("\n")[0])
    assert said.count(REMINDER) == 1 and said.rstrip().endswith(")")
    assert _step(focal) == step  # still pending: the answer can still come


def test_a_plain_search_during_the_task_step_is_answered_once(focal: Desk) -> None:
    focal.say("/capnhat", "lan")
    for query in ("so y te", "so y te"):
        said = focal.say(query, "lan")
        assert "Sở Y tế" in said and TASK_PROMPT not in said


def test_number_answers_the_flow_prompt_shown_after_a_search(focal: Desk) -> None:
    focal.say("/tim san bay chu lai", "lan")
    statuses = focal.say("/capnhat 2.4", "lan")
    chosen = focal.say(_number(statuses, "Hoàn thành"), "lan")
    assert "nội dung kết quả" in chosen and _step(focal) == "text"


def test_number_answers_a_search_shown_after_the_flow_prompt(focal: Desk) -> None:
    focal.say("/capnhat 2.4", "lan")
    found = focal.say("/tim san bay chu lai", "lan")
    card = focal.say(_number(found, "5.3 —"), "lan")
    assert card.startswith("Nhiệm vụ 5.3") and card.count(REMINDER) == 1
    assert "nội dung kết quả" in focal.say("hoan thanh", "lan")  # the flow still waits


# (platform, role): telegram shows lists as buttons, console and Zalo as numbered options.
SEQUENCE_CASES = [
    (platform, role) for platform in ("console", "zalo", "telegram") for role in ("admin", "focal")
]


def _person(desk: Desk, platform: str, role: str) -> str:
    if role == "focal":
        desk.register("lan", "so xay dung", platform=platform)
        return "lan"
    if platform == "telegram":
        return "9001"  # a configured admin (DAUMOI_ADMINS) of the harness
    if platform == "zalo":
        desk.add_person("zadmin", Role.ADMIN, None, platform="zalo")
        return "zadmin"
    return "admin"


@pytest.mark.parametrize(("platform", "role"), SEQUENCE_CASES)
def test_a_number_after_a_pending_update_gets_one_answer_from_the_last_list(
    desk: Desk, platform: str, role: str
) -> None:
    """/tim, /capnhat, a search, then "1": one reply, from the list shown last (issue 10.12)."""
    user = _person(desk, platform, role)
    last_list = None
    for line in ("/tim du lich", "/capnhat", "so y te"):
        sent = desk.send(line, user, platform=platform)
        if any(reply.choices for reply in sent.replies):
            last_list = [c.action for reply in sent.replies for c in reply.choices]
    assert last_list is not None
    answer = desk.send("1", user, platform=platform)
    said = answer.here
    # One answer; a card with choices ("Xem thêm") keeps the flow's reminder as its own line.
    assert len([r for r in answer.replies if REMINDER not in r.text]) == 1, said
    assert TASK_PROMPT not in said and "gõ mã nhiệm vụ" not in said
    picked = last_list[0]
    if picked.startswith("/nhiemvu "):  # a search list: its card, the update still pending
        assert said.startswith(f"Nhiệm vụ {picked.split()[1]}"), said
        assert said.count(REMINDER) == 1 and _step(desk, user) == "task"
    else:  # the focal point's own task list: the update goes on
        assert picked.startswith("/capnhat #"), picked
        assert "Tình hình thực hiện" in said and REMINDER not in said
        assert _step(desk, user) == "status"


@pytest.mark.parametrize("platform", ["console", "zalo", "telegram"])
@pytest.mark.parametrize("typed", ["60", "1", "100"])
def test_a_typed_percentage_is_the_progress_on_every_platform(
    desk: Desk, platform: str, typed: str
) -> None:
    """Telegram shows percentage buttons without numbers: "60" typed is 60 %, not button 60."""
    desk.register("lan", "so xay dung", platform=platform)
    desk.say("/capnhat 2.4", "lan", platform=platform)
    desk.say("dang thuc hien", "lan", platform=platform)
    assert "nội dung kết quả" in desk.say(typed, "lan", platform=platform)
    desk.say("Đã họp", "lan", platform=platform)
    assert "Đã ghi nhận" in desk.say("gui", "lan", platform=platform)
    [update] = desk.updates("2.4")
    assert update.progress == int(typed)


def test_the_admin_types_the_code_after_a_number_from_an_older_list(desk: Desk) -> None:
    desk.say("/tim san bay chu lai")
    assert "gõ mã nhiệm vụ" in desk.say("/capnhat")
    desk.say("1")
    assert "Tình hình thực hiện" in desk.say("3.1")


def test_number_at_the_progress_step_is_the_progress(focal: Desk) -> None:
    focal.say("/tim san bay chu lai", "lan")
    focal.say("/capnhat 2.4", "lan")
    focal.say("dang thuc hien", "lan")
    assert "nội dung kết quả" in focal.say("1", "lan")
    focal.say("Đã họp", "lan")
    assert "Đã ghi nhận" in focal.say("gui", "lan")
    [update] = focal.updates("2.4")
    assert update.progress == 1


def test_text_step_takes_any_text(focal: Desk) -> None:
    focal.say("/capnhat 2.4", "lan")
    focal.say("hoan thanh", "lan")
    confirm = focal.say("so y te", "lan")
    assert "Kết quả: so y te" in confirm and REMINDER not in confirm
