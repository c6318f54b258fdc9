"""Status updates: one-line reports, history, corrections, returns, views, blockers, replays."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from data.store import people
from data.store import repositories as repo
from data.store import status as st
from data.store.models import Person, ProcessedUpdate, StatusUpdate, TaskStatus, UpdateState

if TYPE_CHECKING:
    from tests.status_harness import Desk

pytest_plugins = ("tests.status_harness",)

LINE = "/capnhat 2.4 dang thuc hien 60% Đã làm việc với hãng bay về đường bay mới"


@pytest.fixture
def focal(desk: Desk) -> Desk:
    """Lan is focal point of Sở Xây dựng (successor of the 2021 Sở GTVT, lead of 2.4)."""
    desk.register("lan", "so xay dung")
    return desk


def _entries(history: str) -> list[str]:
    return re.findall(r"^#\d+ · .*$", history, re.MULTILINE)


# --- recording ----------------------------------------------------------------------------------


def test_one_line_update_is_recorded_for_the_task_record_agency(focal: Desk) -> None:
    text = focal.say(LINE, "lan")
    assert "Đã ghi nhận cập nhật #1" in text and "Đang thực hiện (60%)" in text
    [update] = focal.updates("2.4")
    assert (update.status, update.progress, update.year) == ("in_progress", 60, 2026)
    assert update.result == "Đã làm việc với hãng bay về đường bay mới"
    assert update.agency_id == focal.agency("Sở Giao thông vận tải").id
    assert update.state == UpdateState.ACTIVE.value and not update.blocker


def test_own_name_wins_when_both_names_are_on_the_task(focal: Desk) -> None:
    # 2.2 names both Sở Giao thông vận tải and Sở Xây dựng as partners.
    focal.say("/capnhat 2.2 dang thuc hien 20% Đã rà soát quy hoạch", "lan")
    [update] = focal.updates("2.2")
    assert update.agency_id == focal.agency("Sở Xây dựng").id


def test_correction_is_a_new_version_and_history_keeps_both(focal: Desk) -> None:
    focal.say(LINE, "lan")
    text = focal.say("/capnhat 2.4 dang thuc hien 65% Bổ sung: đã ký biên bản", "lan")
    assert "Thay cho cập nhật #1" in text
    first, second = focal.updates("2.4")
    assert first.state == UpdateState.SUPERSEDED.value
    assert (second.state, second.supersedes_id, second.progress) == ("active", first.id, 65)
    history = focal.say("/lichsu 2.4", "lan")
    assert len(_entries(history)) == 2
    assert "thay cho #1" in history and "Đã được thay bằng bản cập nhật sau" in history


def test_history_shows_who_when_what(focal: Desk) -> None:
    focal.say(LINE + "; vuong mac: thiếu kinh phí; de xuat: bố trí vốn", "lan")
    history = focal.say("/lichsu 2.4", "lan")
    [entry] = _entries(history)
    assert "26/11/2026 16:00" in entry and "Lan" in entry  # Asia/Ho_Chi_Minh wall clock
    for part in ("Đang thực hiện (60%)", "thiếu kinh phí", "bố trí vốn", "Năm 2026"):
        assert part in history
    assert "chưa có cập nhật nào" in focal.say("/lichsu 3.1", "lan")
    assert "chưa có cập nhật nào năm 2025" in focal.say("/lichsu 2.4 2025", "lan")


def test_reporting_year_follows_vietnam_time(focal: Desk) -> None:
    focal.clock.now = datetime(2026, 12, 31, 17, 30, tzinfo=UTC)  # 00:30 on 1/1/2027 in Hà Nội
    focal.say(LINE, "lan")
    [update] = focal.updates("2.4")
    assert update.year == 2027


# --- bad inputs ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("/capnhat 9.9 hoan thanh xong", "Không có nhiệm vụ mang mã 9.9"),
        ("/capnhat 2.4 dang thuc hien 150% Đã làm", "150% không hợp lệ"),
        ("/capnhat 2.4 dang thuc hien 60%", "gõ nội dung kết quả thực hiện"),  # the next step
        ("/capnhat 2.4 dang thuc hien 60% " + "x" * 10_000, "10.000 ký tự"),
        ("/capnhat 3.1 hoan thanh Đã xong", "chưa có quyền cập nhật nhiệm vụ 3.1"),
        ("/capnhat dang thuc hien 60% abc", "mã nhiệm vụ"),
        ("/capnhat 2.4 xin chao", "trạng thái"),
    ],
)
def test_bad_inputs_are_refused_with_clear_messages(focal: Desk, text: str, expected: str) -> None:
    assert expected in focal.say(text, "lan")
    assert focal.updates() == []


def test_refusal_for_another_agency_says_who_can(focal: Desk) -> None:
    text = focal.say("/capnhat 3.1 hoan thanh Đã xong", "lan")
    assert "Sở Y tế (chủ trì)" in text and "/cuatoi" in text


# --- replays ------------------------------------------------------------------------------------


def test_redelivered_update_records_once(focal: Desk) -> None:
    update_id = focal.next_update_id()
    first = focal.say(LINE, "lan", platform="telegram", update_id=update_id)
    assert "Đã ghi nhận" not in first  # lan registered on the console, not on Telegram
    focal.register("lan", "so xay dung", platform="telegram")
    update_id = focal.next_update_id()
    assert "Đã ghi nhận" in focal.say(LINE, "lan", platform="telegram", update_id=update_id)
    again = focal.say(LINE, "lan", platform="telegram", update_id=update_id)
    assert "xử lý trước đó" in again
    assert len(focal.updates("2.4")) == 1
    with focal.database.session() as session:
        count = session.scalar(select(func.count()).select_from(ProcessedUpdate))
    assert count == 2


def test_redelivery_in_a_group_is_silent(focal: Desk) -> None:
    update_id = focal.next_update_id()
    assert focal.say(LINE, "lan", group=True, update_id=update_id)
    assert focal.send(LINE, "lan", group=True, update_id=update_id).replies == []
    assert len(focal.updates("2.4")) == 1


def test_source_key_makes_record_idempotent(focal: Desk) -> None:
    report = st.Report(TaskStatus.DONE, 100, result="Xong")
    with focal.database.unit_of_work() as session:
        task = repo.tasks_by_code(session, "2.4")[0]
        author = focal_person(session)
        first = st.record(
            session, task=task, agency=task.lead_agency, year=2026, author=author,
            report=report, now=focal.clock(), source_key="telegram:77",
        )  # fmt: skip
        again = st.record(
            session, task=task, agency=task.lead_agency, year=2026, author=author,
            report=report, now=focal.clock(), source_key="telegram:77",
        )  # fmt: skip
    assert not first.duplicate and again.duplicate and again.update.id == first.update.id
    assert len(focal.updates()) == 1


def focal_person(session: Session) -> Person:
    """Lan's person row."""
    person = people.person_for(session, "console", "lan")
    assert person is not None
    return person


# --- returning for rework -----------------------------------------------------------------------


def test_admin_returns_an_update_and_the_author_is_told(focal: Desk) -> None:
    focal.say(LINE, "lan")
    sent = focal.send("/tralai 2.4 Bổ sung số liệu về số chuyến bay")
    assert "Đã trả lại cập nhật #1" in sent.here and "Đã báo cho Lan" in sent.here
    [notice] = sent.elsewhere["private-lan"]
    assert "Bổ sung số liệu về số chuyến bay" in notice and "/capnhat 2.4" in notice
    [update] = focal.updates("2.4")
    assert update.state == UpdateState.RETURNED.value
    assert update.returned_reason == "Bổ sung số liệu về số chuyến bay"
    assert "Bị trả lại" in focal.say("/lichsu 2.4", "lan")
    assert "không có cập nhật nào đang hiệu lực" in focal.say("/tralai 2.4 Lần nữa")
    assert "không còn hiệu lực" in focal.say("/tralai #1 Lần nữa")
    # The agency reports again: a new active update, the returned one stays in history.
    focal.say("/capnhat 2.4 dang thuc hien 62% Đã bổ sung số liệu", "lan")
    assert [u.state for u in focal.updates("2.4")] == ["returned", "active"]


def test_return_needs_a_reason_and_an_admin(focal: Desk) -> None:
    focal.say(LINE, "lan")
    assert "lý do" in focal.say("/tralai 2.4")
    assert "chỉ dành cho quản trị" in focal.say("/tralai 2.4 Sai", "lan")
    assert "tối đa 500" in focal.say("/tralai 2.4 " + "x" * 600)
    assert focal.updates("2.4")[0].state == UpdateState.ACTIVE.value


def test_return_asks_which_agency_when_several_reported(focal: Desk) -> None:
    focal.register("vh", "so van hoa the thao va du lich")
    focal.say(LINE, "lan")
    focal.say("/capnhat 2.4 hoan thanh Đã quảng bá tuyến bay", "vh")
    listing = focal.say("/tralai 2.4 Thiếu số liệu")
    assert "2 cập nhật đang hiệu lực" in listing
    number = re.search(r"^(\d+)\. #\d+ Sở Văn hóa", listing, re.MULTILINE)
    assert number, listing
    sent = focal.send(number.group(1))
    assert "Đã trả lại" in sent.here and "private-vh" in sent.elsewhere
    assert [u.state for u in focal.updates("2.4")] == ["active", "returned"]


# --- views --------------------------------------------------------------------------------------


def test_task_card_shows_each_agency_classification_and_blockers(focal: Desk) -> None:
    card = focal.say("/nhiemvu 2.4", "stranger")
    assert "Tình hình thực hiện năm 2026 (hạn báo cáo 15/12/2026)" in card
    assert "Sở Xây dựng (chủ trì): chưa báo cáo" in card
    focal.say(LINE + "; vuong mac: chưa có hãng bay quan tâm", "lan")
    card = focal.say("/nhiemvu 2.4", "stranger")
    assert "Sở Xây dựng (chủ trì): Đang thực hiện (60%) · đang thực hiện trong hạn" in card
    assert "Sở Văn hóa Thể thao và Du lịch (phối hợp): chưa báo cáo" in card
    assert "Khó khăn, vướng mắc chưa giải quyết:\n• Sở Xây dựng: chưa có hãng bay quan tâm" in card
    focal.clock.now = datetime(2026, 12, 16, 3, tzinfo=UTC)
    card = focal.say("/nhiemvu 2.4", "stranger")
    assert "Đang thực hiện (60%) · quá hạn" in card
    assert "Sở Văn hóa Thể thao và Du lịch (phối hợp): quá hạn" in card


def test_classification_rules() -> None:
    due, before, after = date(2026, 12, 15), date(2026, 12, 1), date(2026, 12, 20)

    def update(
        status: TaskStatus, when: datetime, state: UpdateState = UpdateState.ACTIVE
    ) -> StatusUpdate:
        return StatusUpdate(status=status.value, created_at=when, state=state.value)

    early = datetime(2026, 12, 10, tzinfo=UTC)
    late = datetime(2026, 12, 18, tzinfo=UTC)
    done_early = update(TaskStatus.DONE, early)
    assert st.classify(done_early, early, due, after) is st.Classification.DONE_ON_TIME
    assert (
        st.classify(update(TaskStatus.DONE, late), late, due, after) is st.Classification.DONE_LATE
    )
    # A later correction of a task done on time keeps it on time.
    assert (
        st.classify(update(TaskStatus.DONE, late), early, due, after)
        is st.Classification.DONE_ON_TIME
    )
    in_progress = update(TaskStatus.IN_PROGRESS, early)
    assert st.classify(in_progress, None, due, before) is st.Classification.ON_TIME
    assert st.classify(in_progress, None, due, after) is st.Classification.OVERDUE
    assert st.classify(None, None, due, before) is None
    assert st.classify(None, None, due, after) is st.Classification.OVERDUE
    returned = update(TaskStatus.DONE, early, UpdateState.RETURNED)
    assert st.classify(returned, None, due, after) is st.Classification.OVERDUE


def test_own_task_deadline_beats_the_yearly_report_day(focal: Desk) -> None:
    with focal.database.unit_of_work() as session:
        task = repo.tasks_by_code(session, "2.4")[0]
        assert st.deadline(task, 2026) == date(2026, 12, 15)
        task.deadline = date(2026, 6, 30)
        assert st.deadline(task, 2026) == date(2026, 6, 30)
    card = focal.say("/nhiemvu 2.4", "stranger")
    assert "hạn báo cáo 30/06/2026" in card and "Sở Xây dựng (chủ trì): quá hạn" in card


def test_mine_lists_the_agency_tasks_and_what_is_missing(focal: Desk) -> None:
    text = focal.say("/cuatoi", "lan")
    for code in ("2.2", "2.4", "5.2", "5.3"):
        assert f"• {code} (" in text
    assert "Còn thiếu báo cáo năm 2026: 4/4 nhiệm vụ" in text
    focal.say(LINE, "lan")
    text = focal.say("/cuatoi", "lan")
    assert "• 2.4 (chủ trì) — Đang thực hiện (60%)" in text
    assert "3/4 nhiệm vụ (2.2, 5.2, 5.3)" in text
    assert "chưa đăng ký" in focal.say("/cuatoi", "stranger")
    assert "không gắn với đơn vị" in focal.say("/cuatoi")


def test_missing_tasks_for_the_reminders(focal: Desk) -> None:
    focal.say(LINE, "lan")
    with focal.database.session() as session:
        for name in ("Sở Xây dựng", "Sở Giao thông vận tải"):
            agency = repo.agency_by_name(session, name)
            assert agency is not None
            assert [t.code for t in st.missing_tasks(session, agency, 2026)] == [
                "2.2",
                "5.2",
                "5.3",
            ]
            assert len(st.missing_tasks(session, agency, 2027)) == 4
        health = repo.agency_by_name(session, "Sở Y tế")
        assert health is not None and "3.1" in [
            t.code for t in st.missing_tasks(session, health, 2026)
        ]


# --- blockers travel ----------------------------------------------------------------------------


def test_new_blocker_is_posted_to_the_coordinating_agency_group(focal: Desk) -> None:
    assert "Đã liên kết" in focal.say("/lienket so tai chinh", group=True)
    sent = focal.send(LINE + "; vuong mac: thiếu kinh phí đối ứng", "lan")
    assert "đã được chuyển tới nhóm của Sở Tài chính" in sent.here
    [notice] = sent.elsewhere["group-1"]
    assert "Vướng mắc mới ở nhiệm vụ 2.4" in notice and "thiếu kinh phí đối ứng" in notice
    assert "Lan" in notice
    # The same blocker again is not news; a different one is.
    again = focal.send(
        "/capnhat 2.4 dang thuc hien 61% Tiếp tục; vuong mac: thiếu kinh phí đối ứng", "lan"
    )
    assert again.elsewhere == {}
    other = focal.send(
        "/capnhat 2.4 dang thuc hien 62% Tiếp tục; vuong mac: chưa có mặt bằng", "lan"
    )
    assert "chưa có mặt bằng" in other.elsewhere["group-1"][0]


def test_blocker_without_a_linked_group_is_kept(focal: Desk) -> None:
    sent = focal.send(LINE + "; vuong mac: thiếu kinh phí", "lan")
    assert "Chưa có nhóm chat nào của Sở Tài chính" in sent.here
    assert sent.elsewhere == {}
    assert focal.updates("2.4")[0].blocker


def test_attached_file_is_kept_as_the_platform_reference(focal: Desk) -> None:
    from bot.platforms.telegram_common import BotIdentity, translate_update
    from tests.telegram_updates import as_update

    message = {
        "message_id": 5,
        "date": 0,
        "chat": {"id": 1002, "type": "private"},
        "from": {"id": 1002, "is_bot": False, "first_name": "Minh"},
        "caption": "/capnhat 2.4 hoan thanh Biên bản đính kèm",
        "document": {"file_id": "BQACAgIAAxkBAAI", "file_name": "bien_ban.pdf"},
    }
    incoming = translate_update(
        as_update({"update_id": 1, "message": message}), BotIdentity("1", "bot")
    ).incoming
    assert incoming is not None and incoming.file_ref == "BQACAgIAAxkBAAI"
    focal.say("/capnhat 2.4 hoan thanh Biên bản đính kèm", "lan", file_ref="BQACAgIAAxkBAAI")
    [update] = focal.updates("2.4")
    assert (update.file_platform, update.file_ref) == ("console", "BQACAgIAAxkBAAI")
    assert "Có tệp đính kèm" in focal.say("/lichsu 2.4", "lan")
