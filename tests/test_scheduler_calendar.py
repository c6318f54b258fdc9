"""Working calendar and rule planning: holidays, working slots, deadlines on weekends."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from core.settings import Settings
from data.store.models import Programme, ReminderKind, ReminderRule, Task
from handlers.reminder_input import Schedule
from scheduler.calendar import WorkCalendar, WorkingHours
from scheduler.config import ReminderConfig
from scheduler.cron import cron_fire_times
from scheduler.rules import Kind, plans
from tests.scheduler_support import VN, vn

CAL = WorkCalendar()
CONFIG = ReminderConfig()


@pytest.mark.parametrize(
    ("day", "why"),
    [
        (date(2029, 2, 12), "Tết 2029 (29 Tết)"),
        (date(2029, 2, 16), "Tết 2029 (mùng 4)"),
        (date(2025, 1, 29), "mùng 1 Tết 2025"),
        (date(2029, 9, 3), "Quốc khánh 2029"),
        (date(2029, 9, 4), "Quốc khánh 2/9/2029 is a Sunday: observed on Tuesday"),
        (date(2024, 9, 2), "Quốc khánh 2024"),
        (date(2026, 4, 27), "Giỗ Tổ 2026 falls on a Sunday: observed on Monday"),
        (date(2027, 5, 3), "1/5/2027 is a Saturday: observed on Monday"),
        (date(2026, 1, 1), "Tết Dương lịch"),
    ],
)
def test_vietnamese_public_holidays_are_days_off(day: date, why: str) -> None:
    assert CAL.holiday_name(day) is not None, why
    assert not CAL.is_working_day(day)


def test_weekends_are_off_and_ordinary_days_are_not() -> None:
    assert not CAL.is_working_day(date(2029, 12, 15))  # Saturday
    assert not CAL.is_working_day(date(2024, 12, 15))  # Sunday
    assert CAL.is_working_day(date(2026, 12, 15))  # Tuesday


def test_working_time_uses_vietnam_time() -> None:
    assert CAL.is_working_time(vn(2026, 12, 1, 8, 0))
    assert not CAL.is_working_time(vn(2026, 12, 1, 17, 0))
    assert not CAL.is_working_time(vn(2026, 12, 1, 7, 59))
    # 01:30 UTC is 08:30 in Hồ Chí Minh City.
    assert CAL.is_working_time(datetime(2026, 12, 1, 1, 30, tzinfo=UTC))


def test_slot_before_moves_to_the_previous_working_day_at_the_same_time() -> None:
    assert CAL.slot_at_or_before(vn(2029, 12, 15, 8, 30)) == vn(2029, 12, 14, 8, 30)  # Sat → Fri
    assert CAL.slot_at_or_before(vn(2029, 2, 12, 8, 30)) == vn(2029, 2, 9, 8, 30)  # over Tết
    assert CAL.slot_at_or_before(vn(2026, 12, 1, 18, 0)) == vn(2026, 12, 1, 16, 30)  # closing
    assert CAL.slot_at_or_before(vn(2026, 12, 1, 6, 0)) == vn(2026, 11, 30, 8, 0)  # too early
    inside = vn(2026, 12, 1, 10, 15)
    assert CAL.slot_at_or_before(inside) == inside


def test_slot_after_moves_forward() -> None:
    assert CAL.slot_at_or_after(vn(2029, 12, 15, 8, 30)) == vn(2029, 12, 17, 8, 30)
    assert CAL.slot_at_or_after(vn(2026, 12, 1, 6, 0)) == vn(2026, 12, 1, 8, 0)
    assert CAL.slot_at_or_after(vn(2026, 12, 1, 17, 30)) == vn(2026, 12, 2, 8, 0)


def test_working_days_skip_tet() -> None:
    assert CAL.add_working_days(date(2029, 2, 9), 1) == date(2029, 2, 19)  # Fri → after Tết


def test_hours_and_days_are_configurable() -> None:
    settings = Settings(
        extra={
            "DAUMOI_WORKING_HOURS": "07:30-16:30",
            "DAUMOI_WORKING_DAYS": "0-5",
            "DAUMOI_EXTRA_HOLIDAYS": "2026-12-24",
            "DAUMOI_REMINDER_DAYS_BEFORE": "10,2,0",
            "DAUMOI_REMINDER_TIME": "7h45",
        }
    )
    config = ReminderConfig.from_settings(settings)
    calendar = config.calendar()
    assert config.hours == WorkingHours.parse("07:30-16:30", "0-5")
    assert calendar.is_working_day(date(2026, 12, 5))  # a Saturday, now a working day
    assert not calendar.is_working_day(date(2026, 12, 24))
    assert config.days_before == (10, 2, 0) and config.reminder_time == time(7, 45)


# -- planning --------------------------------------------------------------------------------


def _cycle(kind: ReminderKind = ReminderKind.CYCLE) -> ReminderRule:
    programme = Programme(
        id=1,
        decision_number="1731/QĐ-UBND",
        issued_on=date(2021, 11, 4),
        report_month=12,
        report_day=15,
    )
    rule = ReminderRule(id=7, kind=kind.value, params={})
    rule.programme = programme
    return rule


def _local(found: list) -> list[tuple[str, str]]:  # type: ignore[type-arg]
    return [(p.due.astimezone(VN).strftime("%d/%m %H:%M"), p.kind) for p in found]


def test_sunday_deadline_2024() -> None:
    found = plans(_cycle(), CAL, CONFIG, vn(2024, 11, 1, 0, 0), vn(2024, 12, 16, 0, 0))
    # 15/12/2024 is a Sunday; D-1 (Saturday) and D both land on Friday 13/12.
    assert _local(found) == [
        ("15/11 08:30", Kind.BEFORE),
        ("29/11 08:30", Kind.BEFORE),  # D-14 is Sunday 1/12
        ("06/12 08:30", Kind.BEFORE),  # D-7 is Sunday 8/12
        ("12/12 08:30", Kind.BEFORE),
        ("13/12 08:30", Kind.DUE),
    ]


def test_no_before_reminder_falls_after_the_deadline() -> None:
    for year in range(2022, 2036):
        deadline_end = datetime.combine(date(year, 12, 15), time(23, 59), tzinfo=VN)
        found = plans(_cycle(), CAL, CONFIG, vn(year, 11, 1, 0, 0), vn(year, 12, 31, 23, 0))
        for plan in found:
            assert CAL.is_working_time(plan.due), (year, plan)
            if plan.kind in (Kind.BEFORE, Kind.DUE):
                assert plan.due <= deadline_end
            else:
                assert plan.due > deadline_end


def test_escalation_and_compile_plans_2026() -> None:
    start, end = vn(2026, 12, 1, 0, 0), vn(2026, 12, 31, 23, 0)
    escalation = plans(_cycle(ReminderKind.ESCALATION), CAL, CONFIG, start, end)
    assert [d for d, _ in _local(escalation)] == [
        "16/12 08:30",
        "21/12 08:30",
        "24/12 08:30",
        "29/12 08:30",
    ]
    compile_ = plans(_cycle(ReminderKind.COMPILE), CAL, CONFIG, start, end)
    assert [d for d, _ in _local(compile_)] == [
        "17/12 08:30",
        "24/12 08:30",
        "28/12 08:30",
        "30/12 08:30",
        "31/12 08:30",
    ]


def test_task_deadline_plans_then_a_few_overdue() -> None:
    rule = ReminderRule(id=9, kind=ReminderKind.TASK_DEADLINE.value, params={})
    rule.task = Task(code="2.4", title="", deadline=date(2027, 6, 30))
    found = plans(rule, CAL, CONFIG, vn(2027, 1, 1, 0, 0), vn(2027, 12, 31, 0, 0))
    kinds = [p.kind for p in found]
    assert kinds.count(Kind.TASK_OVERDUE) == CONFIG.task_overdue_limit
    assert kinds[kinds.index(Kind.TASK_DUE) - 1] == Kind.TASK_BEFORE
    assert _local(found)[kinds.index(Kind.TASK_DUE)][0] == "30/06 08:30"


def test_cron_rules_use_standard_weekday_numbers() -> None:
    from handlers.reminder_input import parse_schedule

    fires = cron_fire_times("30 8 * * 1", "Asia/Ho_Chi_Minh", vn(2026, 12, 1), vn(2026, 12, 15))
    assert [f.astimezone(VN).date() for f in fires] == [date(2026, 12, 7), date(2026, 12, 14)]
    schedule = parse_schedule("thu2 08:30 Cập nhật tiến độ")
    assert not isinstance(schedule, str) and schedule.cron == "30 8 * * mon"
    assert parse_schedule("ngay5 9h Nộp số liệu").cron == "0 9 5 * *"  # type: ignore[union-attr]
    assert parse_schedule("0 9 * * 0,7 Họp").cron == "0 9 * * 0,7"  # type: ignore[union-attr]
    assert isinstance(parse_schedule("thu9 08:30 x"), str)
    assert isinstance(parse_schedule("hangngay 8 Nhắc về báo cáo quý"), Schedule)


def test_one_off_on_a_sunday_moves_to_friday() -> None:
    rule = ReminderRule(id=3, kind=ReminderKind.ONCE.value, params={})
    rule.fire_at = vn(2029, 9, 2, 9, 0)
    (plan,) = plans(rule, CAL, CONFIG, vn(2029, 8, 1, 0, 0), vn(2029, 9, 30, 0, 0))
    assert plan.due == vn(2029, 8, 31, 9, 0)
    assert plan.due - vn(2029, 8, 31, 9, 0) == timedelta(0)


EDGE_DEADLINES = [date.max, date(9999, 12, 30), date(9999, 12, 24), date.min, date(1, 1, 2)]


@pytest.mark.parametrize("deadline", EDGE_DEADLINES, ids=str)
def test_deadlines_at_the_ends_of_the_calendar_never_overflow(deadline: date) -> None:
    """Dates already stored, however absurd, plan without OverflowError (defence in depth)."""
    rule = ReminderRule(id=9, kind=ReminderKind.TASK_DEADLINE.value, params={})
    rule.task = Task(code="2.4", title="", deadline=deadline)
    assert plans(rule, CAL, CONFIG, vn(2026, 11, 1, 0, 0), vn(2027, 2, 1, 0, 0)) == []
    low, high = datetime(1, 1, 2, tzinfo=UTC), datetime(9999, 12, 31, tzinfo=UTC)
    around = plans(rule, CAL, CONFIG, low, high)  # the whole calendar
    assert around and all(low < plan.due <= high for plan in around)
