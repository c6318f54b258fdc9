"""What /nhacviec shows: who is asking, which rules reach the chat, the next reminders."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from core.model import ChatKind, Incoming
from data.store.models import ChatRecord, Person, PersonIdentity, ReminderRule, RuleStatus
from data.store.people import is_admin
from data.store.succession import current_agency
from handlers.context import Context
from scheduler.calendar import WorkCalendar
from scheduler.config import ReminderConfig
from scheduler.kinds.registry import kind_of, label
from scheduler.occurrences import Directory, Occurrence
from scheduler.rules import unsaved_defaults

UPCOMING_SHOWN = 6
STATUS_LABEL = {
    RuleStatus.ACTIVE.value: "đang bật",
    RuleStatus.PAUSED.value: "đang tạm dừng",
    RuleStatus.CANCELLED.value: "đã hủy",
}


@dataclass(frozen=True)
class Audience:
    """Who is asking: the agency of the chat (or of the focal point), and admin rights."""

    agency_id: int | None
    agency_name: str
    admin: bool


def audience(ctx: Context, msg: Incoming) -> Audience:
    """The agency of the chat (linked group, else the focal point's own) and admin rights."""
    admin = is_admin(ctx.session, ctx.settings, msg.platform, msg.user.id)
    record = ctx.session.scalars(
        select(ChatRecord).where(
            ChatRecord.platform == msg.platform,
            ChatRecord.chat_id == msg.chat.id,
            ChatRecord.active.is_(True),
        )
    ).first()
    agency = record.agency if record is not None else None
    if agency is None and msg.chat.kind is ChatKind.PRIVATE:
        person = ctx.session.scalars(
            select(Person)
            .join(PersonIdentity, PersonIdentity.person_id == Person.id)
            .where(
                PersonIdentity.platform == msg.platform,
                PersonIdentity.user_id == msg.user.id,
                Person.active.is_(True),
            )
        ).first()
        agency = person.agency if person is not None else None
    if agency is None:
        return Audience(None, "", admin)
    today = current_agency(agency)
    return Audience(today.id, today.name, admin)


def shown_to(
    session: Session, rule: ReminderRule, directory: Directory, asking: Audience, chat: str
) -> bool:
    """Whether /nhacviec lists the rule: admins see all; others what reaches their chat."""
    if asking.admin:
        return True
    kind = kind_of(rule)
    if kind.system:
        return False
    if rule.platform and rule.chat_id and f"{rule.platform}:{rule.chat_id}" == chat:
        return True
    if asking.agency_id is None:
        return False
    return kind.reaches(session, rule, directory, asking.agency_id)


def describe_rule(rule: ReminderRule, calendar: WorkCalendar) -> str:
    """One line saying what a rule does."""
    return kind_of(rule).describe(rule, calendar)


def number(rule_id: int) -> str:
    """ "#12 " — or nothing for a default rule the reminder service has not saved yet."""
    return f"#{rule_id} " if rule_id > 0 else ""


def listed_rules(ctx: Context, config: ReminderConfig, now: datetime) -> list[ReminderRule]:
    """Rules not cancelled, then the defaults the reminder service has yet to save."""
    stored = ctx.session.scalars(
        select(ReminderRule)
        .options(selectinload(ReminderRule.programme), selectinload(ReminderRule.task))
        .where(ReminderRule.status != RuleStatus.CANCELLED.value)
        .order_by(ReminderRule.id)
    ).all()
    return [*stored, *unsaved_defaults(ctx.session, config, now)]


def _occurrence_line(occ: Occurrence, calendar: WorkCalendar, count: int = 1) -> str:
    moment = calendar.local(occ.due)
    what = label(occ.kind)
    when = f"{calendar.describe_day(moment.date())} {moment:%H:%M}"
    if count > 1:
        return f"• {when} — {number(occ.rule_id)}{what}: {count} đơn vị"
    detail = f" ({len(occ.tasks)} nhiệm vụ)" if occ.tasks else ""
    who = f" cho {occ.agency.name}" if occ.agency else ""
    return f"• {when} — {number(occ.rule_id)}{what}{who}{detail}"


def upcoming_lines(
    found: list[Occurrence], calendar: WorkCalendar, *, summarise: bool
) -> list[str]:
    """The next reminders, one line each (summarise: one line per rule and instant)."""
    if not summarise:
        return [_occurrence_line(occ, calendar) for occ in found[:UPCOMING_SHOWN]]
    groups: dict[tuple[datetime, int], list[Occurrence]] = defaultdict(list)
    for occ in found:
        groups[(occ.due, occ.rule_id)].append(occ)
    return [
        _occurrence_line(items[0], calendar, len(items))
        for _, items in sorted(groups.items())[:UPCOMING_SHOWN]
    ]
