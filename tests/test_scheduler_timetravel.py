"""A whole reporting year with a fake clock: what goes out, when, and to whom."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from core.limits import RateLimits
from core.settings import Settings
from data.store.db import Database
from data.store.models import OutboxStatus, ReminderKind, ReminderOutbox, ReminderRule, Task
from scheduler.calendar import WorkCalendar
from scheduler.config import ReminderConfig
from scheduler.rules import set_task_deadline
from scheduler.service import ReminderService
from tests.databases import Template
from tests.scheduler_support import (
    VN,
    FakeClock,
    ScriptedClient,
    Sent,
    add_person,
    day_of,
    link_chat,
    report,
    vn,
)

pytest_plugins = ("tests.bot_harness",)

HEALTH, FINANCE, BUILD = "-1001", "-1002", "-1003"  # Sở Y tế, Sở Tài chính, Sở Xây dựng
TRADE_FOCAL, ADMIN = "5001", "9001"
YEAR = 2029  # 15/12/2029 is a Saturday


def _setup(database: Database, clock: FakeClock) -> None:
    now = clock()
    with database.unit_of_work() as session:
        link_chat(session, "Sở Y tế", HEALTH)
        link_chat(session, "Sở Kế hoạch và Đầu tư", FINANCE)  # → Sở Tài chính today
        link_chat(session, "Sở Giao thông vận tải", BUILD)  # → Sở Xây dựng today
        add_person(session, "focal", TRADE_FOCAL, agency_name="Sở Công Thương")
        add_person(session, "admin", ADMIN)
        task = session.scalars(select(Task).where(Task.code == "3.2")).one()
        set_task_deadline(session, task, date(YEAR, 6, 30), by="test", now=now)  # a Saturday
        for kind, extra in (
            (ReminderKind.RECURRING, {"cron": "30 8 * * mon"}),
            # Sunday before the 3-4/9 holidays (stored in UTC: SQLite keeps no offset).
            (ReminderKind.ONCE, {"fire_at": vn(YEAR, 9, 2, 9, 0).astimezone(UTC)}),
        ):
            session.add(
                ReminderRule(
                    kind=kind.value,
                    platform="telegram",
                    chat_id=HEALTH,
                    text="Cập nhật tiến độ nhiệm vụ",
                    params={},
                    created_by="test",
                    created_at=now,
                    updated_at=now,
                    **extra,
                )
            )


async def _travel(service: ReminderService, clock: FakeClock, until: datetime) -> None:
    """Jump from one planned instant to the next, ticking at each; Sở Y tế reports on 5/12."""
    reported = False
    while (upcoming := service.next_due(clock())) is not None and upcoming <= until:
        if not reported and upcoming >= vn(YEAR, 12, 5, 0, 0):
            with service.database.unit_of_work() as session:
                codes = ["3.1", "3.2", "3.3", "3.4", "3.5", "3.6", "3.7"]
                report(session, "Sở Y tế", codes, YEAR)
            reported = True
        clock.set(upcoming)
        await service.tick()


@pytest.fixture(scope="module")
def year_run(
    tmp_path_factory: pytest.TempPathFactory, seeded_template: Template
) -> Iterator[tuple[list[Sent], dict[str, int], WorkCalendar]]:
    """Run the year once for all the assertions below."""
    with seeded_template.clone(tmp_path_factory.mktemp("year")) as database:
        yield _run_year(database)


def _run_year(database: Database) -> tuple[list[Sent], dict[str, int], WorkCalendar]:
    clock = FakeClock()
    clock.set(vn(YEAR, 1, 1, 0, 0))
    _setup(database, clock)
    sender = ScriptedClient(clock=clock)
    config = ReminderConfig().with_limits("telegram", RateLimits())  # no real-time pacing
    service = ReminderService(
        database, Settings(), {"telegram": sender}, config=config, clock=clock
    )
    try:
        asyncio.run(_travel(service, clock, vn(YEAR + 1, 1, 31, 23, 0)))
        with database.session() as session:
            counts = dict(
                session.execute(
                    select(ReminderOutbox.status, func.count()).group_by(ReminderOutbox.status)
                ).all()
            )
    finally:
        service.shutdown()
    return sender.sent, counts, config.calendar()


def _days(sent: list[Sent], chat: str, needle: str) -> list[date]:
    return sorted({day_of(s.at) for s in sent if s.chat_id == chat and needle in s.text})


def test_every_message_goes_out_in_working_time(year_run: tuple) -> None:  # type: ignore[type-arg]
    sent, counts, calendar = year_run
    assert len(sent) > 50
    for message in sent:
        assert calendar.is_working_time(message.at), (message.at, message.text[:60])
    assert counts.get(OutboxStatus.SENT.value, 0) >= len(sent)
    assert set(counts) == {OutboxStatus.SENT.value}


def test_yearly_cycle_before_a_saturday_deadline(year_run: tuple) -> None:  # type: ignore[type-arg]
    sent, _, _ = year_run
    before = _days(sent, BUILD, "đến hạn báo cáo kết quả thực hiện năm 2029")
    # D-30 Thu 15/11; D-14 Sat 1/12 → Fri 30/11; D-7 Sat 8/12 → Fri 7/12; D-3 Wed 12/12;
    # D-1 Fri 14/12 and D (Sat 15/12) collapse onto Friday 14/12.
    assert before == [date(2029, 11, d) for d in (15, 30)] + [
        date(2029, 12, d) for d in (7, 12, 14)
    ]
    friday = [s for s in sent if s.chat_id == BUILD and day_of(s.at) == date(2029, 12, 14)]
    assert len(friday) == 1 and "ngày nghỉ" in friday[0].text and "Thứ Bảy" in friday[0].text
    assert "Kính gửi Sở Xây dựng: còn 1 ngày đến hạn" in friday[0].text
    assert "2.4 (chủ trì)" in friday[0].text and "2.2 (phối hợp)" in friday[0].text


def test_overdue_every_three_working_days_until_the_year_report(year_run: tuple) -> None:  # type: ignore[type-arg]
    sent, _, _ = year_run
    overdue = _days(sent, BUILD, "đã quá hạn báo cáo")
    assert overdue == [date(2029, 12, d) for d in (17, 20, 25, 28)]
    late_before = [
        s for s in sent if "đến hạn báo cáo" in s.text and day_of(s.at) > date(2029, 12, 15)
    ]
    assert late_before == []


def test_reported_agency_stops_being_reminded(year_run: tuple) -> None:  # type: ignore[type-arg]
    sent, _, _ = year_run
    cycle = _days(sent, HEALTH, "báo cáo kết quả thực hiện năm 2029")
    assert cycle and max(cycle) < date(2029, 12, 5)
    escalations = [s for s in sent if s.chat_id == FINANCE and "chưa báo cáo đầy đủ" in s.text]
    assert escalations
    for message in escalations:
        assert "• Sở Y tế" not in message.text and "• Sở Xây dựng" in message.text
    # Sở Tài chính gets its own reminders and, in the same message, the escalation.
    assert any("Kính gửi Sở Tài chính: đã quá hạn" in m.text for m in escalations)


def test_coordinating_agency_is_reminded_to_compile(year_run: tuple) -> None:  # type: ignore[type-arg]
    sent, _, _ = year_run
    compile_days = _days(sent, FINANCE, "tổng hợp, báo cáo UBND tỉnh")
    # 31/12/2029 is a Monday; D-14 Mon 17/12, D-7 Mon 24/12, D-3 Fri 28/12, D-1 Sun 30/12 →
    # Fri 28/12 (merged), D Mon 31/12.
    assert compile_days == [date(2029, 12, d) for d in (17, 24, 28, 31)]


def test_focal_point_and_gap_report(year_run: tuple) -> None:  # type: ignore[type-arg]
    sent, _, _ = year_run
    assert _days(sent, TRADE_FOCAL, "Kính gửi Sở Công Thương")
    gaps = [s for s in sent if s.chat_id == ADMIN and "chưa gửi được" in s.text]
    assert gaps and "Sở Văn hóa Thể thao và Du lịch" in gaps[0].text
    assert "Sở Công Thương" not in gaps[0].text  # reachable through its focal point


def test_recurring_and_one_off_move_before_holidays(year_run: tuple) -> None:  # type: ignore[type-arg]
    sent, _, _ = year_run
    weekly = [s.at for s in sent if s.chat_id == HEALTH and "Cập nhật tiến độ" in s.text]
    days = {day_of(at) for at in weekly}
    assert date(2029, 2, 9) in days and date(2029, 2, 12) not in days  # Tết Monday → Friday
    assert date(2029, 4, 27) in days and date(2029, 4, 30) not in days  # 30/4 Monday
    assert date(2029, 9, 3) not in days  # Quốc khánh (observed) Monday
    one_off = [at for at in weekly if day_of(at) == date(2029, 8, 31)]
    # The weekly one (Monday 3/9 is a holiday) at 08:30 and the one-off (Sunday 2/9) at 09:00.
    assert sorted(at.astimezone(VN).strftime("%H:%M") for at in one_off) == ["08:30", "09:00"]


def test_task_deadline_on_a_saturday(year_run: tuple) -> None:  # type: ignore[type-arg]
    sent, _, _ = year_run
    task = [s for s in sent if s.chat_id == HEALTH and "hoàn thành nhiệm vụ 3.2" in s.text]
    days = [day_of(s.at) for s in task]
    assert date(2029, 6, 29) in days  # D (Sat 30/6) and D-1 both on Friday 29/6
    ahead = [day_of(s.at) for s in task if "đến hạn hoàn thành" in s.text]
    assert ahead and max(ahead) == date(2029, 6, 29)
    assert any("đã quá hạn hoàn thành nhiệm vụ 3.2" in s.text for s in task)
