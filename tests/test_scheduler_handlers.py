"""Reminder commands through the router: listing, deadlines, one-off, recurring, pause."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from bot.app import CAPABILITIES
from bot.router import Router
from bot.settings import Settings
from data.db import Database
from data.models import ReminderRule, RuleStatus, Task
from handlers.reminders import is_admin
from tests.bot_harness import Bot, Clock
from tests.scheduler_support import add_person

pytest_plugins = ("tests.bot_harness",)

ADMIN = "admin-1"


@pytest.fixture
def admin_bot(seeded_db: Database, search_engine: Any) -> Bot:
    """The router with one admin (from settings), on 26/11/2026 09:00 in Vietnam."""
    clock = Clock(datetime(2026, 11, 26, 2, 0, tzinfo=UTC))
    settings = Settings(admins=(f"console:{ADMIN}",))
    return Bot(Router(seeded_db, search_engine, settings, CAPABILITIES, now=clock), clock)


def _rules(bot: Bot) -> list[ReminderRule]:
    with bot.router.database.session() as session:
        return list(session.scalars(select(ReminderRule).order_by(ReminderRule.id)))


def test_group_of_an_agency_sees_its_reminders(admin_bot: Bot) -> None:
    admin_bot.say("/lienket so y te", group=True, user=ADMIN)
    answer = admin_bot.say("/nhacviec", group=True, user="someone")
    assert answer.startswith("Nhắc việc áp dụng cho Sở Y tế:")
    assert "Nhắc báo cáo kết quả năm, hạn 15/12 hằng năm" in answer
    assert "tổng hợp" not in answer  # escalation and compile go to the coordinating agency
    assert "Thứ Ba, 01/12/2026 08:30" in answer and "(7 nhiệm vụ)" in answer
    assert "/tamdung" not in answer  # not an admin


def test_coordinating_agency_sees_escalation_and_compile(admin_bot: Bot) -> None:
    admin_bot.say("/lienket so ke hoach va dau tu", group=True, user=ADMIN)
    answer = admin_bot.say("/reminders", group=True, user="someone")
    assert answer.startswith("Nhắc việc áp dụng cho Sở Tài chính:")
    assert "Danh sách đơn vị chưa báo cáo" in answer and "tổng hợp báo cáo năm" in answer


def test_unlinked_group_is_told_how_to_link(admin_bot: Bot) -> None:
    answer = admin_bot.say("/nhacviec", group=True, user="someone")
    assert "/lienket" in answer


def test_deadline_is_admin_only(admin_bot: Bot) -> None:
    assert "chỉ dành cho quản trị viên" in admin_bot.say("/hanchot 2.4 30/06/2027", user="x")
    answer = admin_bot.say("/hanchot 2.4 30/06/2027", user=ADMIN)
    assert "Đã đặt hạn chót cho nhiệm vụ 2.4" in answer and "Thứ Tư, 30/06/2027" in answer
    assert "Sở Xây dựng" in answer
    assert admin_bot.say("/hanchot 2.4", user="x") == "Hạn chót của nhiệm vụ 2.4: 30/06/2027."
    with admin_bot.router.database.session() as session:
        task = session.scalars(select(Task).where(Task.code == "2.4")).one()
        assert str(task.deadline) == "2027-06-30"
    admin_bot.say("/lienket so giao thong van tai", group=True, user=ADMIN)
    assert "Hạn chót nhiệm vụ 2.4: 30/06/2027" in admin_bot.say("/nhacviec", group=True)


def test_deadline_input_errors(admin_bot: Bot) -> None:
    assert "chưa đúng dạng" in admin_bot.say("/hanchot 2.4 31/02/2027", user=ADMIN)
    assert "đã qua" in admin_bot.say("/hanchot 2.4 01/01/2020", user=ADMIN)
    assert "Không có nhiệm vụ mã 12.9" in admin_bot.say("/hanchot 12.9 01/01/2030", user=ADMIN)
    weekend = admin_bot.say("/deadline 3.2 27/06/2027", user=ADMIN)  # a Sunday
    assert "ngày nghỉ" in weekend


def test_one_off_outside_hours_is_moved_earlier(admin_bot: Bot) -> None:
    answer = admin_bot.say("/nhacmot 28/11/2026 09:00 Họp giao ban quý IV", user=ADMIN)
    assert answer.startswith("Đã đặt nhắc việc #")
    assert "lúc 09:00 Thứ Sáu, 27/11/2026" in answer  # 28/11 is a Saturday
    rule = _rules(admin_bot)[-1]
    assert rule.text == "Họp giao ban quý IV" and rule.chat_id == "private-admin-1"
    assert "đã qua" in admin_bot.say("/nhacmot 01/11/2026 Muộn rồi", user=ADMIN)


def test_recurring_reminder(admin_bot: Bot) -> None:
    answer = admin_bot.say("/nhaclap thu2 08:30 Cập nhật tiến độ nhiệm vụ", user=ADMIN)
    assert "08:30 thứ Hai hằng tuần" in answer and "Lần đầu: 08:30 Thứ Hai, 30/11/2026" in answer
    assert _rules(admin_bot)[-1].cron == "30 8 * * mon"
    cron = admin_bot.say("/nhaclap 0 9 * * 1-5 Điểm danh", user=ADMIN)
    assert "Đã đặt nhắc việc định kỳ" in cron and _rules(admin_bot)[-1].cron == "0 9 * * mon-fri"
    assert "không hiểu lịch" in admin_bot.say("/nhaclap sometimes 08:30 x", user=ADMIN)
    listed = admin_bot.say("/nhacviec", user=ADMIN)
    assert "Nhắc định kỳ 08:30 thứ Hai hằng tuần: Cập nhật tiến độ nhiệm vụ" in listed


def test_pause_resume_cancel(admin_bot: Bot) -> None:
    admin_bot.say("/nhacviec", user=ADMIN)  # creates the default rules
    cycle = next(rule for rule in _rules(admin_bot) if rule.kind == "cycle")
    assert "chỉ dành cho quản trị viên" in admin_bot.say(f"/tamdung {cycle.id}", user="x")
    assert "Đã tạm dừng nhắc việc" in admin_bot.say(f"/tamdung {cycle.id}", user=ADMIN)
    listed = admin_bot.say("/nhacviec", user=ADMIN)
    assert f"#{cycle.id} Nhắc báo cáo kết quả năm" in listed and "đang tạm dừng" in listed
    assert "nhắc hạn báo cáo năm" not in listed  # no upcoming occurrences while paused
    assert "Đã bật lại" in admin_bot.say(f"/tieptuc #{cycle.id}", user=ADMIN)
    assert "Đã hủy" in admin_bot.say(f"/huynhac {cycle.id}", user=ADMIN)
    assert "không thể bật lại" in admin_bot.say(f"/tieptuc {cycle.id}", user=ADMIN)
    assert [r.status for r in _rules(admin_bot) if r.id == cycle.id] == [RuleStatus.CANCELLED.value]
    assert "Không có nhắc việc #999" in admin_bot.say("/tamdung 999", user=ADMIN)


def test_admin_role_from_people(admin_bot: Bot) -> None:
    database = admin_bot.router.database
    with database.unit_of_work() as session:
        add_person(session, "admin", "u-77", platform="console")
        assert is_admin(session, Settings(), "console", "u-77")
        assert not is_admin(session, Settings(), "telegram", "u-77")
    assert "Tất cả nhắc việc" in admin_bot.say("/nhacviec", user="u-77")
