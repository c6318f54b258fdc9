"""The weekly digest to the coordinating agency: what changed, who has not reported, new blockers.

A digest is a reminder rule of kind "digest" (one per programme, created with the defaults), so
it shares the outbox, leases, retries, pausing (/tamdung) and previews of every other reminder.
Its day and hour come from DAUMOI_DIGEST_DAY / DAUMOI_DIGEST_TIME (Monday 08:00, Asia/Ho_Chi_Minh)
unless the rule's params set "digest_day" / "digest_time".
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload

from data.reports.summary import (
    STATUS_LABELS,
    AgencyTally,
    Scope,
    Summary,
    agency_label,
    iter_task_reports,
    summarise,
)
from data.reports.text import day
from data.store import status as st
from data.store.models import Programme, ReminderRule, StatusUpdate, Task, UpdateState
from scheduler.calendar import WorkCalendar, as_utc, parse_clock
from scheduler.config import ReminderConfig, parse_weekday
from scheduler.occurrences import Directory, Occurrence
from scheduler.rules import Kind, Plan

WEEK = timedelta(days=7)
MAX_CHANGES = 15
MAX_BLOCKERS = 10
MAX_AGENCIES = 30
MAX_TEXT = 100


def schedule(rule: ReminderRule, config: ReminderConfig) -> tuple[int, time]:
    """(weekday, time of day) of a digest rule: its params, else the configuration."""
    params = rule.params or {}
    weekday = config.digest_weekday
    clock = config.digest_time
    if params.get("digest_day"):
        weekday = parse_weekday(str(params["digest_day"]))
    if params.get("digest_time"):
        clock = parse_clock(str(params["digest_time"]))
    return weekday, clock


def weekly_plans(
    rule: ReminderRule,
    calendar: WorkCalendar,
    config: ReminderConfig,
    start: datetime,
    end: datetime,
) -> list[Plan]:
    """The digest's instants with start < due ≤ end; a day off moves it to the next working slot."""
    start, end = as_utc(start), as_utc(end)
    weekday, clock = schedule(rule, config)
    first = calendar.local(start).date() - WEEK - timedelta(days=21)  # Tết may push a week on
    last = calendar.local(end).date()
    found: dict[datetime, Plan] = {}
    current = first + timedelta(days=(weekday - first.weekday()) % 7)
    while current <= last:
        due = calendar.slot_at_or_after(calendar.at(current, clock)).astimezone(UTC)
        if start < due <= end:
            found[due] = Plan(rule.id, due, Kind.DIGEST, None, calendar.local(due).year)
        current += WEEK
    return [found[due] for due in sorted(found)]


def resolve_digest(
    session: Session,
    rule: ReminderRule,
    plan: Plan,
    directory: Directory,
    timezone: str = st.DEFAULT_TIMEZONE,
    *,
    texts: bool = True,
) -> list[Occurrence]:
    """The digest of one week for the coordinating agency (its group, else admins).

    texts=False: without the digest's text (costly), for listings of what comes next.
    """
    programme = rule.programme
    if programme is None:
        return []
    coordinator = None
    if programme.coordinating_agency_id in directory.agencies:
        agency = directory.agencies[programme.coordinating_agency_id]
        coordinator = directory.ref(directory.current[agency.id], [agency.name])
    destinations = directory.destinations(coordinator.id) if coordinator else []
    text = (
        digest_text(
            session,
            programme,
            since=plan.due - WEEK,
            until=plan.due,
            timezone=timezone,
            coordinator=coordinator.name if coordinator else "",
        )
        if texts
        else ""
    )
    return [
        Occurrence(
            rule_id=rule.id,
            due=plan.due,
            kind=Kind.DIGEST,
            programme=programme.decision_number,
            plan=plan,
            agency=coordinator,
            text=text,
            destinations=tuple(destinations or directory.admins),
        )
    ]


def _short(text: str, limit: int = MAX_TEXT) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _phrase(update: StatusUpdate) -> str:
    label = STATUS_LABELS.get(update.status, update.status)
    return f"{label} ({update.progress}%)" if update.status == "in_progress" else label


def _week_updates(
    session: Session, programme_id: int, year: int, since: datetime, until: datetime
) -> list[StatusUpdate]:
    """Updates written, or returned for rework, in the week (the audit trail is never edited)."""
    since, until = as_utc(since), as_utc(until)
    query = (
        select(StatusUpdate)
        .join(Task, Task.id == StatusUpdate.task_id)
        .options(selectinload(StatusUpdate.task), selectinload(StatusUpdate.agency))
        .where(
            Task.programme_id == programme_id,
            StatusUpdate.year == year,
            or_(
                (StatusUpdate.created_at > since) & (StatusUpdate.created_at <= until),
                (StatusUpdate.returned_at > since) & (StatusUpdate.returned_at <= until),
            ),
        )
        .order_by(Task.position, StatusUpdate.id)
    )
    return list(session.scalars(query))


def _in_week(moment: datetime | None, since: datetime, until: datetime) -> bool:
    return moment is not None and as_utc(since) < st.aware(moment) <= as_utc(until)


def digest_text(
    session: Session,
    programme: Programme,
    *,
    since: datetime,
    until: datetime,
    timezone: str,
    coordinator: str = "",
) -> str:
    """The digest message for the week (since, until]."""
    year = st.reporting_year(until, timezone)
    scope = Scope(year, until, timezone, programme.id)
    summary = summarise(iter_task_reports(session, scope), scope)
    updates = _week_updates(session, programme.id, year, since, until)
    previous_ids = {u.supersedes_id for u in updates if u.supersedes_id is not None}
    previous = {
        u.id: u
        for u in session.scalars(select(StatusUpdate).where(StatusUpdate.id.in_(previous_ids)))
    }
    end_day = st.local(until, timezone).date()
    start_day = st.local(since, timezone).date()
    lines = [
        f"📰 Bản tin tuần {start_day:%d/%m}–{end_day:%d/%m/%Y} — Quyết định "
        f"{programme.decision_number}, năm {year}",
    ]
    if coordinator:
        lines.append(f"Kính gửi {coordinator}: tình hình thực hiện đến ngày {day(end_day)}.")
    lines.append(_overview(summary))
    lines += ["", *_change_lines(updates, previous, since, until)]
    lines += ["", *_blocker_lines(updates, previous, since, until)]
    lines += ["", *_silent_lines(summary)]
    lines += ["", "Gõ /baocao để xem tóm tắt, /baocao xlsx để tải bảng tổng hợp."]
    return "\n".join(lines)


def _overview(summary: Summary) -> str:
    overall = summary.overall
    classes = overall.by_class
    return (
        f"• {overall.total} nhiệm vụ: hoàn thành {overall.done} "
        f"({overall.percent(overall.done)}%), đang thực hiện trong hạn {classes['on_time']}, "
        f"quá hạn {classes['overdue']}, chưa có báo cáo (còn trong hạn) {classes['unreported']};"
        f" {overall.blocked} nhiệm vụ có vướng mắc."
    )


def _change_lines(
    updates: list[StatusUpdate],
    previous: dict[int, StatusUpdate],
    since: datetime,
    until: datetime,
) -> list[str]:
    lines: list[str] = []
    for update in updates:
        head = f"• {update.task.code} — {agency_label(update.agency)}: "
        if _in_week(update.created_at, since, until):
            before = previous.get(update.supersedes_id or 0)
            change = _phrase(update)
            if before is not None and _phrase(before) != change:
                change += f" (trước đó: {_phrase(before).lower()})"
            elif before is None:
                change += " (báo cáo đầu tiên trong năm)"
            lines.append(head + change)
        if update.state == UpdateState.RETURNED.value and _in_week(
            update.returned_at, since, until
        ):
            reason = (
                f": {_short(update.returned_reason or '', 60)}" if update.returned_reason else ""
            )
            lines.append(head + f"báo cáo bị trả lại để bổ sung{reason}")
    if not lines:
        return ["Không có cập nhật mới trong tuần."]
    shown = [f"Cập nhật mới trong tuần ({len(lines)}):", *lines[:MAX_CHANGES]]
    if len(lines) > MAX_CHANGES:
        shown.append(f"… và {len(lines) - MAX_CHANGES} cập nhật khác.")
    return shown


def _blocker_lines(
    updates: list[StatusUpdate],
    previous: dict[int, StatusUpdate],
    since: datetime,
    until: datetime,
) -> list[str]:
    fresh = []
    for update in updates:
        if not update.blocker or not _in_week(update.created_at, since, until):
            continue
        before = previous.get(update.supersedes_id or 0)
        same = (
            before is not None
            and before.blocker
            and _short(before.blocker_text, 10**6) == (_short(update.blocker_text, 10**6))
        )
        if not same:
            fresh.append(
                f"• {update.task.code} — {agency_label(update.agency)}: "
                f"{_short(update.blocker_text)}"
            )
    if not fresh:
        return ["Không có vướng mắc mới."]
    lines = [f"Vướng mắc mới ({len(fresh)}):", *fresh[:MAX_BLOCKERS]]
    if len(fresh) > MAX_BLOCKERS:
        lines.append(f"… và {len(fresh) - MAX_BLOCKERS} vướng mắc khác.")
    return lines


def _silent_lines(summary: Summary) -> list[str]:
    owing: list[AgencyTally] = [a for a in summary.agency_list() if a.missing]
    if not owing:
        return [f"Tất cả {len(summary.agencies)} đơn vị đã có báo cáo năm {summary.scope.year}."]
    lines = [
        f"Đơn vị còn nhiệm vụ chưa có báo cáo năm {summary.scope.year} "
        f"({len(owing)}/{len(summary.agencies)}):"
    ]
    owing.sort(key=lambda a: (a.reported > 0, a.label))
    for agency in owing[:MAX_AGENCIES]:
        note = " — chưa báo cáo nhiệm vụ nào" if agency.reported == 0 else ""
        lines.append(f"• {agency.label}: {len(agency.missing)}/{agency.total} nhiệm vụ{note}")
    if len(owing) > MAX_AGENCIES:
        lines.append(f"… và {len(owing) - MAX_AGENCIES} đơn vị khác.")
    return lines
