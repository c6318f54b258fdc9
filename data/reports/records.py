"""People and status history as flat records, for the coordinating agency's own files.

Never holds invitation codes, tokens, platform user ids or file references: only what an
agency's register of focal points and its report history need.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased, selectinload

from core.labels import PERSON_ROLE, TASK_STATUS
from data.store.models import Agency, Person, Programme, StatusUpdate, Task
from data.store.succession import current_agency

UPDATE_STATE = {
    "active": "Hiện hành",
    "superseded": "Đã được thay bằng bản sau",
    "returned": "Bị trả lại",
}


@dataclass(frozen=True)
class Field:
    """One column: its JSON key and the Vietnamese header of the CSV file."""

    key: str
    header: str


PEOPLE_FIELDS = (
    Field("id", "Số"),
    Field("name", "Họ tên"),
    Field("role", "Mã vai trò"),
    Field("role_label", "Vai trò"),
    Field("agency", "Đơn vị (tên hiện nay)"),
    Field("agency_recorded", "Đơn vị (tên khi đăng ký)"),
    Field("platforms", "Nền tảng đã liên kết"),
    Field("active", "Đang hoạt động"),
    Field("revoked_at", "Thu hồi lúc"),
    Field("created_at", "Tạo lúc"),
)

HISTORY_FIELDS = (
    Field("id", "Số"),
    Field("programme", "Quyết định"),
    Field("task", "Nhiệm vụ"),
    Field("task_title", "Tên nhiệm vụ"),
    Field("agency", "Đơn vị (tên hiện nay)"),
    Field("agency_recorded", "Đơn vị (tên trong quyết định)"),
    Field("year", "Năm báo cáo"),
    Field("status", "Mã trạng thái"),
    Field("status_label", "Trạng thái"),
    Field("progress", "Tiến độ (%)"),
    Field("result", "Kết quả"),
    Field("blocker", "Vướng mắc"),
    Field("blocker_text", "Nội dung vướng mắc"),
    Field("proposal", "Đề xuất"),
    Field("author", "Người cập nhật"),
    Field("created_at", "Thời gian"),
    Field("state", "Mã tình trạng"),
    Field("state_label", "Tình trạng"),
    Field("supersedes", "Thay cho bản số"),
    Field("returned_reason", "Lý do trả lại"),
    Field("returned_by", "Người trả lại"),
    Field("returned_at", "Trả lại lúc"),
)


def _when(moment: datetime | None, zone: ZoneInfo) -> str | None:
    if moment is None:
        return None
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return aware.astimezone(zone).isoformat(timespec="seconds")


def _names(agency: Agency | None) -> tuple[str | None, str | None]:
    if agency is None:
        return None, None
    return current_agency(agency).name, agency.name


def people_records(session: Session, timezone: str) -> Iterator[dict[str, Any]]:
    """Every person, active or revoked, in the order they were added."""
    zone = ZoneInfo(timezone)
    people = session.scalars(
        select(Person)
        .options(selectinload(Person.identities), selectinload(Person.agency))
        .order_by(Person.id)
    )
    for person in people:
        current, recorded = _names(person.agency)
        yield {
            "id": person.id,
            "name": person.display_name,
            "role": person.role,
            "role_label": PERSON_ROLE.get(person.role, person.role),
            "agency": current,
            "agency_recorded": recorded,
            "platforms": sorted({identity.platform for identity in person.identities}),
            "active": bool(person.active),
            "revoked_at": _when(person.revoked_at, zone),
            "created_at": _when(person.created_at, zone),
        }


def history_records(session: Session, timezone: str) -> Iterator[dict[str, Any]]:
    """Every status update ever recorded (corrected and returned ones too), oldest first."""
    zone = ZoneInfo(timezone)
    returner = aliased(Person)
    rows = session.execute(
        select(StatusUpdate, Task, Programme.decision_number, returner.display_name)
        .join(Task, StatusUpdate.task_id == Task.id)
        .join(Programme, Task.programme_id == Programme.id)
        .outerjoin(returner, StatusUpdate.returned_by_id == returner.id)
        .options(selectinload(StatusUpdate.author), selectinload(StatusUpdate.agency))
        .order_by(StatusUpdate.created_at, StatusUpdate.id)
        .execution_options(yield_per=500)
    )
    for update, task, decision, returned_by in rows:
        current, recorded = _names(update.agency)
        yield {
            "id": update.id,
            "programme": decision,
            "task": task.code,
            "task_title": task.title,
            "agency": current,
            "agency_recorded": recorded,
            "year": update.year,
            "status": update.status,
            "status_label": TASK_STATUS.get(update.status, update.status),
            "progress": update.progress,
            "result": update.result,
            "blocker": bool(update.blocker),
            "blocker_text": update.blocker_text,
            "proposal": update.proposal,
            "author": update.author.display_name if update.author is not None else None,
            "created_at": _when(update.created_at, zone),
            "state": update.state,
            "state_label": UPDATE_STATE.get(update.state, update.state),
            "supersedes": update.supersedes_id,
            "returned_reason": update.returned_reason,
            "returned_by": returned_by,
            "returned_at": _when(update.returned_at, zone),
        }
