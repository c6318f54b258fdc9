"""A pending /capnhat does not hijack the chat: other text is handled as usual (with a reminder),
and a number answers whichever list was shown last, the flow's question or a /tim list."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import select

from data.models import Flow

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


def test_number_after_a_prompt_without_a_list_goes_to_the_flow(desk: Desk) -> None:
    """The admin has no agency: the task question has no list, so '1' is not a /tim choice."""
    desk.say("/tim san bay chu lai")
    prompt = desk.say("/capnhat")
    assert "gõ mã nhiệm vụ" in prompt
    answer = desk.say("1")
    assert not answer.startswith("Nhiệm vụ 2.4") and "mã nhiệm vụ" in answer
    assert "Nhiệm vụ 3.1" in desk.say("3.1")


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
