"""Status texts: the task card's section, history entries, summaries and blocker notices."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import and_, bindparam, select
from sqlalchemy.orm import Session

from core import labels
from core.render import shorten
from data.store import status as st
from data.store.catalog import AgencyEntry, Catalog, TaskEntry
from data.store.models import Agency, Person, StatusUpdate, Task, UpdateState
from data.store.succession import current_agency, display_name
from handlers.context import Context
from handlers.status_text import classification_label, status_label, status_phrase

_PREVIEW = 160


def when(moment: datetime, timezone: str) -> str:
    """ "26/11/2026 16:05" on the province's clock."""
    return f"{st.local(moment, timezone):%d/%m/%Y %H:%M}"


def person_label(person: Person | None) -> str:
    """A person's name as shown to others."""
    if person is None:
        return "(không rõ)"
    return person.display_name.strip() or f"Người dùng #{person.id}"


def _short(text: str) -> str:
    return shorten(text, _PREVIEW)


def content_lines(update: StatusUpdate, *, indent: str = "   ", full: bool = True) -> list[str]:
    """Result, blocker, proposal and file of one update, one per line."""
    fit = (lambda text: " ".join(text.split())) if full else _short
    lines = []
    if update.result:
        lines.append(f"{indent}Kết quả: {fit(update.result)}")
    if update.blocker:
        lines.append(f"{indent}Khó khăn, vướng mắc: {fit(update.blocker_text)}")
    if update.proposal:
        lines.append(f"{indent}Đề xuất: {fit(update.proposal)}")
    if update.file_ref:
        lines.append(f"{indent}Có tệp đính kèm ({update.file_platform or 'tệp'}).")
    return lines


# The task's deadline with each of its updates of one year (built once, bound per card).
_CARD_COLUMNS = (
    StatusUpdate.id,
    StatusUpdate.agency_id,
    StatusUpdate.status,
    StatusUpdate.progress,
    StatusUpdate.result,
    StatusUpdate.blocker,
    StatusUpdate.blocker_text,
    StatusUpdate.state,
    StatusUpdate.returned_reason,
    StatusUpdate.created_at,
)
_CARD_QUERY = (
    select(Task.deadline, *_CARD_COLUMNS)
    .outerjoin(
        StatusUpdate,
        and_(StatusUpdate.task_id == Task.id, StatusUpdate.year == bindparam("year")),
    )
    .where(Task.id == bindparam("task_id"))
    .order_by(StatusUpdate.id)
)
_CARD_FIELDS = tuple(column.key for column in _CARD_COLUMNS)


@dataclass(frozen=True)
class CardStatus:
    """What a task card reads from the database: the deadline and this year's status lines."""

    deadline: date | None  # the task's own deadline as stored now (admins change it)
    lines: list[str]


def card_status(
    session: Session, catalog: Catalog, task: TaskEntry, now: datetime, timezone: str
) -> CardStatus:
    """The task's deadline and the card's status lines, read in one query."""
    year = st.reporting_year(now, timezone)
    session.flush()  # plain rows below: make this unit of work's own changes visible first
    # Plain columns on the session's connection: most cards have no update, and loading
    # entities through the ORM costs more than the query.
    rows = session.connection().execute(_CARD_QUERY, {"task_id": task.id, "year": year}).all()
    deadline = rows[0][0] if rows else None
    updates = [
        StatusUpdate(**dict(zip(_CARD_FIELDS, row[1:], strict=True)))  # detached, read-only
        for row in rows
        if row[1] is not None
    ]
    due = deadline or date(year, task.programme.report_month or 12, task.programme.report_day or 15)
    return CardStatus(deadline, card_lines(catalog, task, updates, year, due, now, timezone))


def card_lines(
    catalog: Catalog,
    task: TaskEntry,
    updates: list[StatusUpdate],
    year: int,
    due: date,
    now: datetime,
    timezone: str,
) -> list[str]:
    """The task card's lines: each agency's status this year, classification, open blockers."""
    responsible = _responsible_today(catalog, task)
    if not responsible:
        return []
    today = st.local(now, timezone).date()
    lines = [f"Tình hình thực hiện năm {year} (hạn báo cáo {due:%d/%m/%Y}):"]
    blockers: list[str] = []
    for agency, role in responsible:
        ids = catalog.family_ids(agency)
        latest = st.latest_of(updates, ids)
        classification = st.classify(latest, st.done_since(updates, ids), due, today, timezone)
        head = f"• {agency.name} ({labels.TASK_ROLE[role]}): "
        if latest is None:
            lines.append(head + classification_label(classification, None))
            continue
        if latest.state == UpdateState.RETURNED.value:
            lines.append(
                head + f"cập nhật ngày {when(latest.created_at, timezone)[:10]} bị trả lại "
                f"để bổ sung ({shorten(latest.returned_reason or '', 80)}) — "
                + classification_label(classification, None)
            )
            continue
        lines.append(
            head
            + f"{status_phrase(latest.status, latest.progress)} · "
            + f"{classification_label(classification, latest.status)} "
            + f"(cập nhật {when(latest.created_at, timezone)[:10]})"
        )
        if latest.result:
            lines.append(f"   {_short(latest.result)}")
        if latest.blocker:
            blockers.append(f"• {agency.name}: {_short(latest.blocker_text)}")
    if blockers:
        lines += ["Khó khăn, vướng mắc chưa giải quyết:", *blockers]
    lines.append(f"Gõ /lichsu {task.code} để xem lịch sử, /capnhat {task.code} để cập nhật.")
    return lines


def _responsible_today(catalog: Catalog, task: TaskEntry) -> list[tuple[AgencyEntry, st.Role]]:
    """Today's agency of each named agency (lead first; lead wins, first mention wins)."""
    named: list[tuple[AgencyEntry, st.Role]] = []
    if task.lead is not None and not task.lead.is_collective:
        named.append((task.lead, st.Role.LEAD))
    named += [(p, st.Role.PARTNER) for p in task.partners if not p.is_collective]
    seen: set[int] = set()
    rows: list[tuple[AgencyEntry, st.Role]] = []
    for agency, role in named:
        today = catalog.current(agency)
        if today.id not in seen:
            seen.add(today.id)
            rows.append((today, role))
    return rows


def for_card(ctx: Context, task: TaskEntry) -> CardStatus:
    """The deadline and status section of a task card, on the context's clock."""
    return card_status(ctx.session, ctx.catalog, task, ctx.now(), ctx.settings.timezone)


def history_entry(update: StatusUpdate, timezone: str) -> list[str]:
    """One update in /lichsu: number, when, who, what, and what became of it."""
    agency = update.agency
    lines = [
        f"#{update.id} · {when(update.created_at, timezone)} · {person_label(update.author)} "
        f"({current_agency(agency).name if agency is not None else '?'})",
        f"   {status_phrase(update.status, update.progress)}",
        *content_lines(update),
    ]
    if update.supersedes_id is not None:
        lines.append(f"   (bản cập nhật mới thay cho #{update.supersedes_id})")
    if update.state == UpdateState.SUPERSEDED.value:
        lines.append("   Đã được thay bằng bản cập nhật sau.")
    elif update.state == UpdateState.RETURNED.value:
        returned = when(update.returned_at, timezone) if update.returned_at else ""
        lines.append(f"   Bị trả lại {returned}: {update.returned_reason or ''}".rstrip())
    return lines


def summary(task: Task, agency: Agency, report: st.Report) -> str:
    """What is about to be recorded, for the confirmation step."""
    lines = [
        f"Nhiệm vụ {task.code} — {display_name(agency)}",
        f"Trạng thái: {status_label(report.status.value)}",
        f"Tiến độ: {report.progress}%",
    ]
    if report.result:
        lines.append(f"Kết quả: {report.result}")
    if report.blocker:
        lines.append(f"Khó khăn, vướng mắc: {report.blocker_text}")
    if report.proposal:
        lines.append(f"Đề xuất: {report.proposal}")
    if report.file_ref:
        lines.append("Có tệp đính kèm.")
    return "\n".join(lines)


def blocker_notice(update: StatusUpdate, task: Task, author: Person, timezone: str) -> str:
    """The message the coordinating agency's group gets when a blocker is raised."""
    lines = [
        f"⚠️ Vướng mắc mới ở nhiệm vụ {task.code}: {shorten(task.title, 100)}",
        f"Đơn vị: {display_name(update.agency)}",
        f"Người báo: {person_label(author)}, lúc {when(update.created_at, timezone)}",
        f"Khó khăn, vướng mắc: {update.blocker_text}",
    ]
    if update.proposal:
        lines.append(f"Đề xuất: {update.proposal}")
    lines.append(f"Xem chi tiết: /nhiemvu {task.code} · lịch sử: /lichsu {task.code}")
    return "\n".join(lines)
