"""The registry of reminder rule kinds: a new kind is one module plus one registration line."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any, ClassVar

import pytest
from sqlalchemy.orm import Session

from bot.router import Router
from core.limits import LIMITS as CAPABILITIES
from core.markup import plain
from core.settings import Settings
from data.store.db import Database
from data.store.models import ReminderKind, ReminderRule
from scheduler import messages
from scheduler.calendar import WorkCalendar, as_utc
from scheduler.config import ReminderConfig
from scheduler.directory import Directory
from scheduler.kinds import registry
from scheduler.kinds.base import Kind, Occurrence, Plan, RuleKind
from scheduler.kinds.targets import in_chat
from scheduler.kinds.timing import in_window
from scheduler.preview import preview
from scheduler.rules import plans
from tests.bot_harness import Bot, Clock

pytest_plugins = ("tests.bot_harness", "tests.scheduler_support")

ADMIN = "admin-1"
CHAT = f"private-{ADMIN}"


# -- a throwaway kind: everything a new kind needs is in this class -----------------------------


class Ping(RuleKind):
    """A test kind: fires at fire_at as typed (no working-slot rules), in its own chat."""

    name = "ping"
    labels: ClassVar[Mapping[str, str]] = {"ping": "nhắc thử"}

    def plans(
        self,
        rule: ReminderRule,
        calendar: WorkCalendar,
        config: ReminderConfig,
        start: datetime,
        end: datetime,
        *,
        limit: int | None = None,
    ) -> list[Plan]:
        """Once, at fire_at."""
        if rule.fire_at is None:
            return []
        return in_window([Plan(rule.id, as_utc(rule.fire_at), "ping")], start, end, limit)

    def resolve(
        self,
        session: Session,
        rule: ReminderRule,
        plan: Plan,
        directory: Directory,
        *,
        texts: bool = True,
    ) -> list[Occurrence]:
        """The chat the rule names."""
        return in_chat(rule, plan, directory)

    def describe(self, rule: ReminderRule, calendar: WorkCalendar) -> str:
        """ "Nhắc thử: <text>"."""
        return f"Nhắc thử: {rule.text}"

    def render(self, occ: Occurrence, today: date, calendar: WorkCalendar) -> str:
        """ "Thử — <text>"."""
        return f"Thử — {occ.text}"


# -- tests ---------------------------------------------------------------------------------------

NOW = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)  # Thursday 26/11/2026 09:00 in Vietnam
FIRE_AT = datetime(2026, 11, 27, 3, 15, tzinfo=UTC)  # Friday 10:15 in Vietnam


@pytest.fixture
def ping(monkeypatch: pytest.MonkeyPatch) -> None:
    """The registration line of the new kind (undone after the test)."""
    monkeypatch.setitem(registry.KINDS, Ping.name, Ping())


@pytest.fixture
def admin_bot(seeded_db: Database, search_engine: Any) -> Bot:
    """The router with one admin (from settings), on 26/11/2026 09:00 in Vietnam."""
    clock = Clock(NOW)
    settings = Settings(admins=(f"console:{ADMIN}",))
    return Bot(Router(seeded_db, search_engine, settings, CAPABILITIES, now=clock), clock)


def _ping_rule(session: Session) -> ReminderRule:
    rule = ReminderRule(
        kind="ping",
        platform="console",
        chat_id=CHAT,
        text="Họp thử",
        fire_at=FIRE_AT,
        params={},
        created_by="test",
        created_at=NOW,
        updated_at=NOW,
    )
    session.add(rule)
    session.flush()
    return rule


@pytest.mark.usefixtures("ping")
def test_a_registered_kind_is_planned_described_and_listed(admin_bot: Bot) -> None:
    config = ReminderConfig()
    calendar = config.calendar()
    with admin_bot.router.database.unit_of_work() as session:
        rule = _ping_rule(session)
        rule_id = rule.id
        planned = plans(rule, calendar, config, NOW, NOW + timedelta(days=7))
        assert planned == [Plan(rule_id, FIRE_AT, "ping")]
        found = [
            occ
            for occ in preview(session, Settings(), date(2026, 11, 27), date(2026, 11, 27))
            if occ.rule_id == rule_id
        ]
        assert [(occ.kind, occ.text) for occ in found] == [("ping", "Họp thử")]
        assert [target.chat_id for target in found[0].destinations] == [CHAT]
        text = messages.render(found[0], date(2026, 11, 27), calendar)
        assert plain(text) == "Thử — Họp thử"
        assert "(nhắc thử)" in messages.gap_text(rule_id, found)
    listing = admin_bot.say("/nhacviec", user=ADMIN)
    assert f"#{rule_id} Nhắc thử: Họp thử — đang bật" in listing
    assert f"• Thứ Sáu, 27/11/2026 10:15 — #{rule_id} nhắc thử" in listing
    assert f"Đã tạm dừng nhắc việc #{rule_id}: Nhắc thử: Họp thử." in admin_bot.say(
        f"/tamdung {rule_id}", user=ADMIN
    )


def test_an_unregistered_kind_never_fires() -> None:
    config = ReminderConfig()
    rule = ReminderRule(id=5, kind="ping", fire_at=FIRE_AT, params={})
    assert plans(rule, config.calendar(), config, NOW, NOW + timedelta(days=7)) == []
    assert registry.kind_of(rule).describe(rule, config.calendar()) == "Thông báo hệ thống"
    assert registry.label("ping") == "nhắc việc"


def test_every_stored_kind_has_a_module() -> None:
    assert {kind.value for kind in ReminderKind} <= set(registry.KINDS)
    programme = [kind.name for kind in registry.defaults("programme")]
    assert programme == ["cycle", "escalation", "compile", "digest"]
    assert [kind.name for kind in registry.defaults("system")] == ["alerts"]


def test_kinds_not_sent_once_their_deadline_passed() -> None:
    stale = {Kind.BEFORE, Kind.DUE, Kind.TASK_BEFORE, Kind.TASK_DUE}
    assert registry.stale_after_deadline() == stale


def test_every_occurrence_kind_has_one_label() -> None:
    labels = [key for kind in registry.KINDS.values() for key in kind.labels]
    assert len(labels) == len(set(labels))
    assert registry.label(Kind.OVERDUE) == "nhắc báo cáo quá hạn"
    assert registry.label(Kind.GAP) == "nhắc việc"
