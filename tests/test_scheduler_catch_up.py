"""The catch-up window never reaches back before a recurring rule was created or resumed."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from core.limits import RateLimits
from core.settings import Settings
from data.store.db import Database
from data.store.models import ReminderKind, ReminderRule
from scheduler.config import ReminderConfig
from scheduler.rules import ensure_defaults, plans
from scheduler.service import ReminderService
from tests.scheduler_support import FakeClock, ScriptedClient, vn

pytest_plugins = ("tests.scheduler_support",)

CHAT = "-700"
# Tuesday 01/12/2026 10:57 in Vietnam: today's 08:00 and 09:00 have already passed.
NOW = vn(2026, 12, 1, 10, 57).astimezone(UTC)
# Lines that fire on a Tuesday morning before NOW (daily, every other weekday, every weekday).
LINES = ["0 9 * * mon-fri", "0 8 * * */2", "0 8 * * 0-6", "30 8 * * tue", "0 10 1 12 *"]
CONFIG = ReminderConfig()


def _rule(line: str, made: datetime, *, changed: datetime | None = None) -> ReminderRule:
    return ReminderRule(
        id=1,
        kind=ReminderKind.RECURRING.value,
        platform="telegram",
        chat_id=CHAT,
        text="Cập nhật tiến độ",
        cron=line,
        params={},
        created_by="test",
        created_at=made,
        updated_at=changed or made,
    )


def _catch_up(rule: ReminderRule, now: datetime) -> list[datetime]:
    calendar = CONFIG.calendar()
    return [plan.due for plan in plans(rule, calendar, CONFIG, now - CONFIG.catch_up, now)]


@pytest.mark.parametrize("line", LINES)
def test_a_rule_made_after_todays_instant_has_nothing_to_catch_up(line: str) -> None:
    assert _catch_up(_rule(line, NOW), NOW) == []
    assert _catch_up(_rule(line, NOW), NOW + timedelta(minutes=30)) == []


@pytest.mark.parametrize("line", LINES)
def test_a_resumed_rule_does_not_catch_up_what_passed_while_paused(line: str) -> None:
    rule = _rule(line, NOW - timedelta(days=30), changed=NOW)
    assert _catch_up(rule, NOW) == []


@pytest.mark.parametrize("line", LINES)
def test_an_older_rule_still_catches_up_a_missed_instant(line: str) -> None:
    # Made yesterday, the bot was down this morning: today's instant is still due at 10:57.
    found = _catch_up(_rule(line, NOW - timedelta(days=1)), NOW)
    assert len(found) == 1 and NOW - CONFIG.catch_up < found[0] < NOW
    # Made this morning before the instant: that instant counts too.
    assert _catch_up(_rule(line, vn(2026, 12, 1, 6, 0)), NOW) == found


@pytest.mark.parametrize("line", LINES)
def test_the_first_instant_after_creation_is_planned(line: str) -> None:
    calendar = CONFIG.calendar()
    later = plans(_rule(line, NOW), calendar, CONFIG, NOW, NOW + timedelta(days=400), limit=1)
    assert len(later) == 1 and later[0].due > NOW


def _service(database: Database, clock: FakeClock, sender: ScriptedClient) -> ReminderService:
    config = ReminderConfig().with_limits("telegram", RateLimits())
    return ReminderService(database, Settings(), {"telegram": sender}, config=config, clock=clock)


@pytest.mark.parametrize(("made", "sent"), [(NOW, 0), (NOW - timedelta(days=1), 1)])
def test_run_once_sends_only_instants_after_the_rule_was_made(
    seeded_db: Database, made: datetime, sent: int
) -> None:
    with seeded_db.unit_of_work() as session:
        ensure_defaults(session, CONFIG, NOW)
        rule = _rule("0 9 * * mon-fri", made)
        rule.id = None  # type: ignore[assignment]
        session.add(rule)
    clock = FakeClock(NOW)
    sender = ScriptedClient(clock=clock)
    service = _service(seeded_db, clock, sender)
    try:
        asyncio.run(service.run_once(max_wait=0))
    finally:
        service.shutdown()
    assert sender.texts(CHAT) == ["Nhắc việc — Cập nhật tiến độ"] * sent
