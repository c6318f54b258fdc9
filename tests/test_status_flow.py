"""The guided /capnhat: numbered choices, buttons, stale and foreign presses, expiry, restarts."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import select

from data.store.models import Flow

if TYPE_CHECKING:
    from tests.status_harness import Desk

pytest_plugins = ("tests.status_harness",)


@pytest.fixture
def focal(desk: Desk) -> Desk:
    """Lan is a focal point of Sở Xây dựng on the console and on Telegram."""
    desk.register("lan", "so xay dung")
    desk.register("lan", "so xay dung", platform="telegram")
    return desk


def _number(listing: str, start: str) -> str:
    match = re.search(rf"^(\d+)\. {re.escape(start)}", listing, re.MULTILINE)
    assert match, listing
    return match.group(1)


def _flow(desk: Desk, user: str = "lan") -> Flow | None:
    with desk.database.session() as session:
        flow = session.scalars(select(Flow).where(Flow.user_id == user)).first()
        if flow is not None:
            session.expunge(flow)
        return flow


def test_guided_update_with_numbered_choices(focal: Desk) -> None:
    tasks = focal.say("/capnhat", "lan")
    assert "Anh/chị muốn cập nhật nhiệm vụ nào của Sở Xây dựng?" in tasks
    assert "Trả lời bằng số để chọn." in tasks
    statuses = focal.say(_number(tasks, "2.4 —"), "lan")
    assert "Nhiệm vụ 2.4" in statuses
    progress = focal.say(_number(statuses, "Đang thực hiện"), "lan")
    assert "bao nhiêu phần trăm" in progress
    assert "Trả lời bằng số" not in progress  # typed, so "60" is not taken for choice 60
    note = focal.say("60", "lan")
    assert "nội dung kết quả" in note
    confirm = focal.say("Đã làm việc với hãng bay; vuong mac: thiếu kinh phí", "lan")
    assert "Tiến độ: 60%" in confirm and "Khó khăn, vướng mắc: thiếu kinh phí" in confirm
    assert focal.updates() == []
    done = focal.say(_number(confirm, "Gửi cập nhật"), "lan")
    assert "Đã ghi nhận cập nhật #1" in done
    [update] = focal.updates("2.4")
    assert (update.status, update.progress, update.blocker) == ("in_progress", 60, True)
    assert update.result == "Đã làm việc với hãng bay"
    assert "Trả lời bằng số" not in focal.say(_number(confirm, "Gửi cập nhật"), "lan")
    assert len(focal.updates()) == 1  # the list of a finished flow does nothing


def test_guided_update_typed_answers(focal: Desk) -> None:
    focal.say("/capnhat", "lan")
    assert "Nhiệm vụ 5.3" in focal.say("5.3", "lan")
    assert "nội dung kết quả" in focal.say("hoàn thành", "lan")  # done: no progress step
    assert "không được để trống" in focal.say("   .  ", "lan")
    assert "tối đa 2.000" in focal.say("x" * 2500, "lan")
    focal.say("Đã ký thỏa thuận với Quảng Nam", "lan")
    assert "Đã ghi nhận" in focal.say("gui", "lan")
    [update] = focal.updates("5.3")
    assert (update.status, update.progress) == ("done", 100)


def test_guided_update_with_buttons(focal: Desk) -> None:
    tasks = focal.send("/capnhat", "lan", platform="telegram")
    assert any("2.4" in c.label for c in tasks.replies[0].choices)
    statuses = focal.press(tasks, "2.4", "lan")
    progress = focal.press(statuses, "Đang thực hiện", "lan")
    text = focal.press(progress, "75%", "lan")
    assert "nội dung kết quả" in text.here
    confirm = focal.send("Đã mở thêm tuyến xe bus", "lan", platform="telegram")
    assert "Tiến độ: 75%" in confirm.here
    done = focal.press(confirm, "Gửi cập nhật", "lan")
    assert "Đã ghi nhận" in done.here
    again = focal.press(confirm, "Gửi cập nhật", "lan")  # a double tap
    assert "đã kết thúc" in again.here
    [update] = focal.updates("2.4")
    assert (update.progress, update.result) == (75, "Đã mở thêm tuyến xe bus")


def test_stale_button_does_not_act(focal: Desk) -> None:
    statuses = focal.send("/capnhat 2.4", "lan", platform="telegram")
    focal.press(statuses, "Hoàn thành", "lan")  # now at the text step
    stale = focal.press(statuses, "Chưa triển khai", "lan")
    assert "không còn hiệu lực" in stale.here
    assert "nội dung kết quả" in stale.here  # the current question is asked again
    flow = _flow(focal)
    assert flow is not None and flow.data["status"] == "done"


def test_button_cannot_act_for_someone_else(focal: Desk) -> None:
    focal.register("minh", "so xay dung", platform="telegram")
    statuses = focal.send("/capnhat 2.4", "lan", platform="telegram")
    progress = focal.press(statuses, "Đang thực hiện", "lan")
    foreign = focal.press(progress, "50%", "minh")
    assert "dành cho người đã hỏi" in foreign.here
    flow = _flow(focal)
    assert flow is not None and flow.step == "progress" and "progress" not in flow.data
    # Even a forged "/capnhat #<version> …" typed by Minh only reaches Minh's own (absent) flow.
    assert "đã kết thúc" in focal.say(f"/capnhat #{flow.version} 50", "minh", platform="telegram")
    assert _flow(focal, "minh") is None


def test_flow_expires_after_thirty_idle_minutes(focal: Desk) -> None:
    focal.say("/capnhat 2.4", "lan")
    focal.clock.advance(minutes=29)
    focal.say("hoan thanh", "lan")  # activity keeps it alive
    focal.clock.advance(minutes=31)
    assert "đã hết hạn" in focal.say("Đã xong việc", "lan")
    assert focal.updates() == []
    # The flow is over: text is a search again.
    assert "2.4 —" in focal.say("san bay chu lai", "lan")


def test_expired_button_press(focal: Desk) -> None:
    statuses = focal.send("/capnhat 2.4", "lan", platform="telegram")
    focal.clock.advance(minutes=31)
    late = focal.press(statuses, "Hoàn thành", "lan")
    assert "hết hạn" in late.here
    assert focal.updates() == []


def test_restart_mid_flow(focal: Desk) -> None:
    focal.say("/capnhat 2.4", "lan")
    focal.say("dang thuc hien", "lan")
    focal.restart()
    focal.say("40%", "lan")
    focal.restart()
    confirm = focal.say("Đã họp với Cảng hàng không Chu Lai", "lan")
    assert "Tiến độ: 40%" in confirm
    focal.restart()
    assert "Đã ghi nhận" in focal.say("xac nhan", "lan")
    assert focal.updates("2.4")[0].progress == 40


def test_cancel_and_edit(focal: Desk) -> None:
    assert "không có thao tác nào" in focal.say("/huy", "lan")
    focal.say("/capnhat 2.4", "lan")
    focal.say("hoan thanh", "lan")
    confirm = focal.say("Xong", "lan")
    again = focal.say(_number(confirm, "Sửa lại"), "lan")
    assert "Tình hình thực hiện năm 2026" in again
    assert "Đã hủy" in focal.say("/huy", "lan")
    assert focal.updates() == []
    flow = _flow(focal)
    assert flow is not None and flow.step == ""


def test_unclear_answers_repeat_the_question(focal: Desk) -> None:
    focal.say("/capnhat 2.4", "lan")
    flow = _flow(focal)
    assert flow is not None
    text = focal.say(f"/capnhat #{flow.version} chắc là sắp xong", "lan")  # a garbled button
    assert "chọn một trong ba trạng thái" in text and "Hoàn thành" in text
    # Typed text that is no status is not taken for one: it is searched, with a reminder.
    assert "gõ /huy để hủy" in focal.say("chắc là sắp xong", "lan")
    focal.say("dang thuc hien", "lan")
    assert "từ 0 đến 100" in focal.say("150", "lan")
    assert "từ 0 đến 100" in focal.say("khoảng 200 phần trăm", "lan")
    assert "gõ /huy để hủy" in focal.say("nhiều lắm", "lan")


def test_guided_flow_refusals(desk: Desk) -> None:
    assert "chưa đăng ký" in desk.say("/capnhat", "stranger")
    desk.register("leader", "so y te", "quansat")
    assert "quan sát" in desk.say("/capnhat", "leader")
    desk.register("lan", "so y te")
    assert "chat riêng" in desk.say("/capnhat", "lan", group=True)
    desk.say("/capnhat", "lan")
    assert "chưa có quyền cập nhật nhiệm vụ 2.4" in desk.say("2.4", "lan")


def test_admin_without_agency_types_the_code(desk: Desk) -> None:
    prompt = desk.say("/capnhat")
    assert "gõ mã nhiệm vụ" in prompt
    desk.say("3.1")
    desk.say("chua trien khai")
    desk.say("Chờ bố trí kinh phí")
    assert "Sở Y tế" in desk.say("gui")
    [update] = desk.updates("3.1")
    assert update.status == "not_started"
