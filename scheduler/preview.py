"""Preview: the occurrences the rules would produce between two dates, without sending."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy.orm import Session

from core.settings import Settings
from scheduler.config import ReminderConfig
from scheduler.directory import Destination
from scheduler.occurrences import Directory, Occurrence, active_rules, occurrences
from scheduler.rules import ensure_defaults


def preview(
    session: Session,
    settings: Settings,
    start: date,
    end: date,
    *,
    config: ReminderConfig | None = None,
    now: datetime | None = None,
) -> list[Occurrence]:
    """Occurrences due on days start…end (local time), from the rules and today's reports.

    Creates the default rules in the session if they are missing; the caller decides whether
    to commit (the CLI does not).
    """
    config = config or ReminderConfig.from_settings(settings)
    calendar = config.calendar()
    first = calendar.at(start, time(0)) - timedelta(microseconds=1)
    last = calendar.at(end + timedelta(days=1), time(0)) - timedelta(microseconds=1)
    ensure_defaults(session, config, now or datetime.now(calendar.tz))
    session.flush()
    directory = Directory.load(session, settings)
    return occurrences(session, active_rules(session), directory, calendar, config, first, last)


def as_json(found: list[Occurrence], config: ReminderConfig) -> list[dict[str, Any]]:
    """One object per occurrence and chat (`"chat": null` when nobody can be reached)."""
    calendar = config.calendar()
    objects: list[dict[str, Any]] = []
    for occ in found:
        base: dict[str, Any] = {
            "due": calendar.local(occ.due).isoformat(),
            "agency": occ.agency.name if occ.agency else None,
            "agency_2021": list(occ.agency.names_2021) if occ.agency else [],
            "chat": None,
            "via": None,
            "kind": occ.kind,
            "tasks": [task.code for task in occ.tasks],
            "rule": occ.rule_id,
        }
        plan = occ.plan
        if plan is not None and plan.deadline is not None:
            base["deadline"] = plan.deadline.isoformat()
        if occ.missing:
            base["not_reported"] = [item.agency.name for item in occ.missing]
        if occ.text:
            base["text"] = occ.text
        if not occ.destinations:
            objects.append(base)
        for target in occ.destinations:
            objects.append({**base, "chat": chat_label(target), "via": target.via})
    return objects


def chat_label(target: Destination) -> str:
    """ "platform:chat id", once: the console's chat ids already carry "console:"."""
    prefix = f"{target.platform}:"
    if target.chat_id.startswith(prefix):
        return target.chat_id
    return prefix + target.chat_id


def as_text(found: list[Occurrence], config: ReminderConfig) -> str:
    """A readable table of the preview (Vietnamese headings)."""
    calendar = config.calendar()
    lines = []
    for item in as_json(found, config):
        moment = datetime.fromisoformat(item["due"])
        chat = item["chat"] or "(chưa có nơi nhận)"
        tasks = ", ".join(item["tasks"])
        lines.append(
            f"{calendar.describe_day(moment.date())} {moment:%H:%M}  {item['kind']:<12} "
            f"#{item['rule']:<3} {item['agency'] or '-'} → {chat}"
            + (f"  [{tasks}]" if tasks else "")
        )
    return "\n".join(lines) if lines else "Không có nhắc việc nào trong khoảng thời gian này."
