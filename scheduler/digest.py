"""The weekly digest's text: what changed, who has not reported, new blockers.

A digest is a reminder rule of kind "digest" (one per programme, created with the defaults;
see scheduler.kinds.digest), so it shares the outbox, leases, retries, pausing (/tamdung) and
previews of every other reminder.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload

from core.labels import TASK_STATUS
from core.render import shorten
from data.reports.summary import AgencyTally, Summary, summarise
from data.reports.task_reports import Scope, agency_label, iter_task_reports
from data.reports.text import day
from data.store import status as st
from data.store.models import Programme, StatusUpdate, Task, UpdateState
from scheduler.calendar import as_utc

WEEK = timedelta(days=7)
MAX_CHANGES = 15
MAX_BLOCKERS = 10
MAX_AGENCIES = 30
MAX_TEXT = 100


def _phrase(update: StatusUpdate) -> str:
    label = TASK_STATUS.get(update.status, update.status)
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
                f": {shorten(update.returned_reason or '', 60)}" if update.returned_reason else ""
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
            and shorten(before.blocker_text, 10**6) == shorten(update.blocker_text, 10**6)
        )
        if not same:
            fresh.append(
                f"• {update.task.code} — {agency_label(update.agency)}: "
                f"{shorten(update.blocker_text, MAX_TEXT)}"
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
