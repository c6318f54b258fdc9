"""Reminder commands through the router: listing, deadlines, one-off, recurring, pause."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import event, select

from bot.router import Router
from core.limits import LIMITS as CAPABILITIES
from core.settings import Settings
from data.store.db import Database
from data.store.models import ReminderRule, RuleStatus, Task
from data.store.people import is_admin
from handlers.reminder_input import impossible_day, parse_day
from scheduler.config import ReminderConfig
from scheduler.rules import ensure_defaults
from tests.bot_harness import Bot, Clock
from tests.scheduler_support import add_person

pytest_plugins = ("tests.bot_harness", "tests.scheduler_support")

ADMIN = "admin-1"


@pytest.fixture
def admin_bot(seeded_db: Database, search_engine: Any) -> Bot:
    """The router with one admin (from settings), on 26/11/2026 09:00 in Vietnam."""
    clock = Clock(datetime(2026, 11, 26, 2, 0, tzinfo=UTC))
    settings = Settings(admins=(f"console:{ADMIN}",))
    return Bot(Router(seeded_db, search_engine, settings, CAPABILITIES, now=clock), clock)


def _save_defaults(bot: Bot) -> None:
    """What the reminder service's first tick does: store the default rules."""
    with bot.router.database.unit_of_work() as session:
        ensure_defaults(session, ReminderConfig(), bot.clock.now)


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
    assert "chưa đúng dạng" in admin_bot.say("/hanchot 2.4 30/6", user=ADMIN)
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
    assert "Đã đặt nhắc việc định kỳ" in cron and _rules(admin_bot)[-1].cron == "0 9 * * 1-5"
    assert "không hiểu lịch" in admin_bot.say("/nhaclap sometimes 08:30 x", user=ADMIN)
    listed = admin_bot.say("/nhacviec", user=ADMIN)
    assert "Nhắc định kỳ 08:30 thứ Hai hằng tuần: Cập nhật tiến độ nhiệm vụ" in listed


def test_pause_resume_cancel(admin_bot: Bot) -> None:
    _save_defaults(admin_bot)
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


# -- dates typed by admins -------------------------------------------------------------------

HORIZON = "từ 01/01/2021 đến 31/12/2035"
# (typed date, what the answer must say): far future, far past, impossible, huge numbers.
BAD_DATES = [
    ("31/12/9999", HORIZON),
    ("01/01/2036", HORIZON),
    ("15/06/2100", HORIZON),
    ("01/01/0001", "đã qua"),
    ("31/12/1999", "đã qua"),
    ("29/02/2027", "không có thật"),  # 2027 is not a leap year
    ("31/04/2027", "không có thật"),
    ("00/13/2026", "không có thật"),
    ("32/01/2027", "không có thật"),
    ("00/00/0000", "không có thật"),
    ("1/1/99999", "chưa đúng dạng"),
    ("99999999999999999999/12/2026", "chưa đúng dạng"),
    ("12/99999999999999999999/2026", "chưa đúng dạng"),
    ("١٢/١٢/٢٠٢٧", "chưa đúng dạng"),  # Arabic-Indic digits are not a date here
]


@pytest.mark.parametrize(("typed", "said"), BAD_DATES)
def test_deadline_dates_outside_the_programme_are_refused(
    admin_bot: Bot, typed: str, said: str
) -> None:
    answer = admin_bot.say(f"/hanchot 2.4 {typed}", user=ADMIN)
    assert said in answer and "Xin lỗi" not in answer
    if said == HORIZON:
        assert "ví dụ: /hanchot 2.4 30/06/2027" in answer
    with admin_bot.router.database.session() as session:
        assert session.scalars(select(Task).where(Task.code == "2.4")).one().deadline is None
        assert not session.scalars(select(ReminderRule)).all()


@pytest.mark.parametrize(("typed", "said"), BAD_DATES)
def test_one_off_dates_outside_the_programme_are_refused(
    admin_bot: Bot, typed: str, said: str
) -> None:
    answer = admin_bot.say(f"/nhacmot {typed} 09:00 Họp giao ban", user=ADMIN)
    assert not answer.startswith("Đã đặt") and "Xin lỗi" not in answer
    assert (HORIZON in answer) == (said == HORIZON)
    assert not _rules(admin_bot)


def test_the_last_day_of_the_horizon_is_accepted(admin_bot: Bot) -> None:
    assert "Đã đặt hạn chót" in admin_bot.say("/hanchot 2.4 31/12/2035", user=ADMIN)
    assert "Đã đặt nhắc việc" in admin_bot.say("/nhacmot 31/12/2035 Tổng kết", user=ADMIN)


# -- crontab lines -------------------------------------------------------------------------------

# (line, first reminder said): fire times on days off move to the working day before.
GOOD_CRON = [
    ("0 8 * * */2", "Lần đầu: 08:00 Thứ Sáu, 27/11/2026"),  # Saturday 28/11 → Friday
    ("0 8 * * 0-6", "Lần đầu: 08:00 Thứ Sáu, 27/11/2026"),
    ("30 8 * * 1", "Lần đầu: 08:30 Thứ Hai, 30/11/2026"),
    ("0 10 * * 4", "Lần đầu: 10:00 Thứ Năm, 26/11/2026"),
    ("0 8 * * 7", "Lần đầu: 08:00 Thứ Sáu, 27/11/2026"),  # Sunday → Friday
    ("0 8 2 * */2", "Lần đầu: 08:00 Thứ Năm, 31/12/2026"),  # Saturday 02/01/2027, after 1/1
]
BAD_CRON = ["* * * * 8", "60 8 * * *", "0 8 * * 6-1", "0 8 * * */0", "0 0 31 2 *", "0 8 L * *"]
ENGLISH = ("must", "value", "field", "expression", "nvalid", "error", "range", "Unrecognized")


@pytest.mark.parametrize(("line", "first"), GOOD_CRON)
def test_standard_crontab_lines_are_accepted(admin_bot: Bot, line: str, first: str) -> None:
    answer = admin_bot.say(f"/nhaclap {line} Cập nhật tiến độ", user=ADMIN)
    assert answer.startswith("Đã đặt nhắc việc định kỳ") and first in answer
    assert _rules(admin_bot)[-1].cron == line


@pytest.mark.parametrize("line", BAD_CRON)
def test_invalid_crontab_lines_are_explained_in_vietnamese(admin_bot: Bot, line: str) -> None:
    answer = admin_bot.say(f"/nhaclap {line} Cập nhật tiến độ", user=ADMIN)
    assert answer.startswith("Chưa đặt được nhắc việc") and "5 trường" in answer
    assert not any(word in answer for word in ENGLISH), answer
    assert not _rules(admin_bot)


# -- /nhacviec reads only ----------------------------------------------------------------------


def test_listing_writes_nothing_and_runs_few_statements(admin_bot: Bot) -> None:
    for number in range(20):
        admin_bot.say(f"/nhaclap * * * * * Nhắc mỗi phút {number}", user=ADMIN)
    admin_bot.say("/lienket so y te", group=True, user=ADMIN)
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, sql: str, *_args: Any) -> None:
        statements.append(sql.split(None, 1)[0].upper())

    engine = admin_bot.router.database.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        listed = admin_bot.say("/nhacviec", user=ADMIN)
        grouped = admin_bot.say("/nhacviec", group=True, user="someone")
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert "Nhắc báo cáo kết quả năm" in listed and "Lần nhắc sắp tới:" in listed
    assert grouped.startswith("Nhắc việc áp dụng cho Sở Y tế:")
    assert not {"INSERT", "UPDATE", "DELETE"} & set(statements), statements
    assert len(statements) <= 40, statements  # two answers: no query per rule or per reminder
    assert not _rules(admin_bot)[20:]  # the default rules were shown, not saved


# -- rule numbers ----------------------------------------------------------------------------------


def test_every_number_the_list_shows_is_one_the_commands_accept(admin_bot: Bot) -> None:
    _save_defaults(admin_bot)
    admin_bot.say("/hanchot 2.4 30/06/2027", user=ADMIN)
    listed = admin_bot.say("/nhacviec", user=ADMIN)
    numbers = [int(n) for n in re.findall(r"^#(\d+) ", listed, re.MULTILINE)]
    assert numbers[0] == 1 and numbers == sorted(numbers)  # the list starts at #1
    for number in numbers:
        answer = admin_bot.say(f"/tamdung {number}", user=ADMIN)
        assert "Không có" not in answer
        assert answer.startswith("Đã tạm dừng") or "cảnh báo của hệ thống" in answer


HUGE = ["999999999999999999999999999999", "2147483648", "#99999999999", "0", "00000000000000001"]


@pytest.mark.parametrize("command", ["/tamdung", "/tieptuc", "/huynhac"])
@pytest.mark.parametrize("number", HUGE)
def test_huge_rule_numbers_are_answered_politely(admin_bot: Bot, command: str, number: str) -> None:
    answer = admin_bot.say(f"{command} {number}", user=ADMIN)
    assert answer.startswith("Không có nhắc việc") and "/nhacviec" in answer


IMPOSSIBLE_DAYS = [
    ("30/02/2027", "Ngày 30/02/2027 không có thật: tháng 2/2027 chỉ có 28 ngày."),
    ("29/02/2027", "Ngày 29/02/2027 không có thật: tháng 2/2027 chỉ có 28 ngày."),
    ("30.02.2028", "Ngày 30/02/2028 không có thật: tháng 2/2028 chỉ có 29 ngày."),
    ("31/04/2027", "Ngày 31/04/2027 không có thật: tháng 4/2027 chỉ có 30 ngày."),
    ("32-01-2027", "Ngày 32/01/2027 không có thật: tháng 1/2027 chỉ có 31 ngày."),
    ("0/1/2027", "Ngày 00/01/2027 không có thật: tháng 1/2027 chỉ có 31 ngày."),
    ("15/13/2027", "Ngày 15/13/2027 không có thật: tháng chỉ từ 1 đến 12."),
    ("15/00/2027", "Ngày 15/00/2027 không có thật: tháng chỉ từ 1 đến 12."),
]


@pytest.mark.parametrize(("typed", "reason"), IMPOSSIBLE_DAYS)
@pytest.mark.parametrize("command", ["/hanchot 2.4 {}", "/nhacmot {} 09:00 Họp giao ban"])
def test_a_well_formed_date_that_does_not_exist_is_named(
    admin_bot: Bot, command: str, typed: str, reason: str
) -> None:
    answer = admin_bot.say(command.format(typed), user=ADMIN)
    assert answer.startswith(reason)
    assert "chưa đúng dạng" not in answer
    assert not _rules(admin_bot)  # nothing was set


@given(day=st.integers(0, 99), month=st.integers(0, 99), year=st.integers(2021, 2035))
def test_every_impossible_date_is_told_apart_from_a_bad_format(
    day: int, month: int, year: int
) -> None:
    typed = f"{day}/{month}/{year}"
    if parse_day(typed) is None:
        assert (impossible_day(typed) or "").startswith(
            f"Ngày {day:02d}/{month:02d}/{year} không có thật"
        )
    else:
        assert impossible_day(typed) is None
    assert impossible_day(f"{day}/{month}") is None  # not a date at all: the format message
