"""The weekly digest to the coordinating agency: when it goes out, what it says, where."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from core.config import parse_weekday
from core.limits import RateLimits
from core.settings import Settings
from data.store.db import Database
from data.store.models import Programme, ReminderKind, ReminderRule, RuleStatus
from scheduler.config import ReminderConfig
from scheduler.digest import digest_text
from scheduler.kinds.digest import weekly_plans
from scheduler.rules import ensure_defaults
from scheduler.service import ReminderService
from tests.report_support import seed_reports
from tests.scheduler_support import VN, FakeClock, ScriptedClient, add_person, link_chat, vn

pytest_plugins = ("tests.bot_harness",)
FINANCE = "-1002"  # the group of Sở Tài chính, successor of the coordinating Sở KH&ĐT


@pytest.fixture
def digest_db(seeded_db: Database) -> Database:
    """A private seeded copy with the mix of reports."""
    with seeded_db.unit_of_work() as session:
        seed_reports(session)
    return seeded_db


def _rule(session: object, config: ReminderConfig) -> ReminderRule:
    ensure_defaults(session, config, datetime(2026, 1, 1, tzinfo=UTC))  # type: ignore[arg-type]
    return session.scalars(  # type: ignore[attr-defined,no-any-return]
        select(ReminderRule).where(ReminderRule.kind == ReminderKind.DIGEST.value)
    ).one()


def _local(plans: list) -> list[datetime]:  # type: ignore[type-arg]
    return [plan.due.astimezone(VN).replace(tzinfo=None) for plan in plans]


def test_default_is_monday_eight_and_a_holiday_moves_it(digest_db: Database) -> None:
    config = ReminderConfig()
    with digest_db.unit_of_work() as session:
        rule = _rule(session, config)
        found = weekly_plans(rule, config.calendar(), config, vn(2026, 4, 1, 0, 0), vn(2026, 5, 1))
    assert _local(found) == [
        datetime(2026, 4, 6, 8, 0),
        datetime(2026, 4, 13, 8, 0),
        datetime(2026, 4, 20, 8, 0),
        datetime(2026, 4, 28, 8, 0),  # Monday 27/4 is the Hùng Kings holiday (observed)
    ]
    assert all(plan.kind == "digest" and plan.year == 2026 for plan in found)


def test_day_and_hour_are_configurable(digest_db: Database) -> None:
    settings = Settings(extra={"DAUMOI_DIGEST_DAY": "thứ sáu", "DAUMOI_DIGEST_TIME": "16:00"})
    config = ReminderConfig.from_settings(settings)
    assert (config.digest_weekday, config.digest_time.hour) == (4, 16)
    with digest_db.unit_of_work() as session:
        rule = _rule(session, config)
        fridays = weekly_plans(rule, config.calendar(), config, vn(2026, 11, 1), vn(2026, 11, 30))
        rule.params = {**rule.params, "digest_day": "thu4", "digest_time": "09:15"}
        wednesdays = weekly_plans(
            rule, config.calendar(), config, vn(2026, 11, 1), vn(2026, 11, 12)
        )
    assert _local(fridays) == [datetime(2026, 11, d, 16, 0) for d in (6, 13, 20, 27)]
    assert _local(wednesdays) == [datetime(2026, 11, d, 9, 15) for d in (4, 11)]
    with pytest.raises(ValueError):
        parse_weekday("someday")


def _text(database: Database, until: datetime) -> str:
    with database.session() as session:
        programme = session.scalars(select(Programme)).one()
        return digest_text(
            session,
            programme,
            since=until - timedelta(days=7),
            until=until,
            timezone="Asia/Ho_Chi_Minh",
            coordinator="Sở Tài chính",
        )


def test_digest_says_what_changed_and_who_is_silent(digest_db: Database) -> None:
    text = _text(digest_db, vn(2026, 12, 21, 8, 0))
    assert text.startswith("📰 Bản tin tuần 14/12–21/12/2026 — Quyết định 1731/QĐ-UBND, năm 2026")
    assert "Kính gửi Sở Tài chính: tình hình thực hiện đến ngày 21/12/2026." in text
    assert "Cập nhật mới trong tuần (2):" in text
    assert "• 2.4 — Sở Xây dựng: Hoàn thành (trước đó: đang thực hiện (70%))" in text
    assert "• 5.1 — Sở Công Thương: Đang thực hiện (10%) (báo cáo đầu tiên trong năm)" in text
    assert "Không có vướng mắc mới." in text
    assert "• Sở Giáo dục và Đào tạo: 4/4 nhiệm vụ — chưa báo cáo nhiệm vụ nào" in text
    assert "• Sở Y tế: 4/7 nhiệm vụ" in text
    # Phrases other reminders are recognised by stay out of the digest.
    assert "chưa báo cáo đầy đủ" not in text and "đến hạn báo cáo" not in text


def test_digest_reports_new_blockers_and_returned_reports(digest_db: Database) -> None:
    blocked = _text(digest_db, vn(2026, 11, 16, 8, 0))
    assert "Vướng mắc mới (1):\n• 3.1 — Sở Y tế: Chưa có mặt bằng xây dựng bệnh viện" in blocked
    returned = _text(digest_db, vn(2026, 10, 19, 8, 0))
    assert "• 3.3 — Sở Y tế: báo cáo bị trả lại để bổ sung: Thiếu số liệu" in returned
    quiet = _text(digest_db, vn(2026, 7, 6, 8, 0))
    assert "Không có cập nhật mới trong tuần." in quiet


def _service(database: Database, clock: FakeClock, sender: ScriptedClient) -> ReminderService:
    config = ReminderConfig().with_limits("telegram", RateLimits())
    return ReminderService(database, Settings(), {"telegram": sender}, config=config, clock=clock)


def test_service_sends_the_digest_once_to_the_coordinating_group(digest_db: Database) -> None:
    with digest_db.unit_of_work() as session:
        link_chat(session, "Sở Kế hoạch và Đầu tư", FINANCE)  # linked as Sở Tài chính today
    clock = FakeClock()
    clock.set(vn(2026, 11, 23, 8, 0))  # a Monday, 08:00
    sender = ScriptedClient(clock=clock)
    service = _service(digest_db, clock, sender)
    try:
        asyncio.run(service.tick())
        clock.advance(minutes=5)
        asyncio.run(service.tick())  # idempotent: the outbox key holds
    finally:
        service.shutdown()
    (text,) = [t for t in sender.texts(FINANCE) if t.startswith("📰")]
    assert "Bản tin tuần 16/11–23/11/2026" in text
    assert "• 2.2 — Sở Văn hóa Thể thao và Du lịch: Đang thực hiện (60%)" in text


def test_without_a_group_admins_get_it_and_pausing_stops_it(digest_db: Database) -> None:
    with digest_db.unit_of_work() as session:
        add_person(session, "admin", "9001")
    clock = FakeClock()
    clock.set(vn(2026, 11, 30, 8, 1))
    sender = ScriptedClient(clock=clock)
    service = _service(digest_db, clock, sender)
    try:
        asyncio.run(service.tick())
        assert [t for t in sender.texts("9001") if t.startswith("📰 Bản tin tuần 23/11–30/11")]
        with digest_db.unit_of_work() as session:
            rule = session.scalars(
                select(ReminderRule).where(ReminderRule.kind == ReminderKind.DIGEST.value)
            ).one()
            rule.status = RuleStatus.PAUSED.value
        clock.set(vn(2026, 12, 7, 8, 1))
        asyncio.run(service.tick())
    finally:
        service.shutdown()
    assert not [t for t in sender.texts("9001") if "Bản tin tuần 30/11–07/12" in t]


def test_nhacviec_lists_the_digest(digest_db: Database, search_engine: object) -> None:
    from bot.router import Router
    from core.limits import LIMITS as CAPABILITIES
    from core.model import Chat, Incoming, User

    router = Router(
        digest_db,
        search_engine,
        Settings(admins=("console:admin",)),
        CAPABILITIES,
        now=lambda: vn(2026, 11, 20, 9, 0),
    )
    replies = router.handle(
        Incoming(platform="console", chat=Chat(id="c"), user=User(id="admin"), text="/nhacviec")
    )
    text = "\n".join(reply.text for reply in replies)
    assert "Bản tin tuần gửi đơn vị tổng hợp" in text
    assert date(2026, 11, 23).strftime("%d/%m/%Y") in text  # the next digest is listed
