"""Status updates per (task, agency, year): record, correct, return, history, classification."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from data.store import repositories as repo
from data.store.models import (
    Agency,
    Person,
    StatusUpdate,
    Task,
    TaskStatus,
    UpdateState,
)
from data.store.succession import current_agency

DEFAULT_TIMEZONE = "Asia/Ho_Chi_Minh"
MAX_RESULT = 2000
MAX_BLOCKER = 1000
MAX_PROPOSAL = 1000
MAX_REASON = 500


class Classification(StrEnum):
    """The split used in official reports."""

    DONE_ON_TIME = "done_on_time"  # hoàn thành đúng hạn
    DONE_LATE = "done_late"  # hoàn thành quá hạn
    ON_TIME = "on_time"  # đang thực hiện trong hạn
    OVERDUE = "overdue"  # quá hạn


class Role(StrEnum):
    """How an agency is named on a task."""

    LEAD = "lead"
    PARTNER = "partner"


@dataclass(frozen=True)
class Report:
    """The content of one status update, already validated."""

    status: TaskStatus
    progress: int
    result: str = ""
    blocker_text: str = ""
    proposal: str = ""
    file_platform: str | None = None
    file_ref: str | None = None

    @property
    def blocker(self) -> bool:
        """A blocker is flagged by describing it."""
        return bool(self.blocker_text.strip())


@dataclass(frozen=True)
class Recorded:
    """The outcome of recording an update."""

    update: StatusUpdate
    previous: StatusUpdate | None
    duplicate: bool = False  # the same platform update was recorded before

    @property
    def new_blocker(self) -> bool:
        """Whether this update raises a blocker that was not already open."""
        if self.duplicate or not self.update.blocker:
            return False
        previous = self.previous
        if previous is None or not previous.blocker:
            return True
        return " ".join(previous.blocker_text.split()) != " ".join(self.update.blocker_text.split())


@dataclass(frozen=True)
class Responsibility:
    """An agency named on a task (as written in 2021), with its role and today's agency."""

    agency: Agency  # as on the task record
    role: Role

    @property
    def current(self) -> Agency:
        """The agency that holds this responsibility today."""
        return current_agency(self.agency)


def aware(moment: datetime) -> datetime:
    """A datetime with a timezone (SQLite returns naive UTC)."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def local(moment: datetime, timezone: str = DEFAULT_TIMEZONE) -> datetime:
    """The moment on the province's wall clock."""
    return aware(moment).astimezone(ZoneInfo(timezone))


def reporting_year(now: datetime, timezone: str = DEFAULT_TIMEZONE) -> int:
    """The reporting year: the calendar year in Asia/Ho_Chi_Minh."""
    return local(now, timezone).year


def deadline(task: Task, year: int) -> date:
    """The task's own deadline, else the programme's yearly reporting day (15/12)."""
    if task.deadline is not None:
        return task.deadline
    programme = task.programme
    return date(year, programme.report_month or 12, programme.report_day or 15)


# --- who is responsible -------------------------------------------------------------------------


def responsibilities(task: Task) -> list[Responsibility]:
    """Named agencies of a task (lead first), without collectives like "Các sở, ban ngành"."""
    found: list[Responsibility] = []
    if task.lead_agency is not None and not task.lead_agency.is_collective:
        found.append(Responsibility(task.lead_agency, Role.LEAD))
    for partner in task.partners:
        if not partner.agency.is_collective:
            found.append(Responsibility(partner.agency, Role.PARTNER))
    return found


def responsible_today(task: Task) -> list[Responsibility]:
    """One responsibility per agency of today (lead wins over partner, first mention wins)."""
    seen: set[int] = set()
    rows: list[Responsibility] = []
    for item in responsibilities(task):
        if item.current.id not in seen:
            seen.add(item.current.id)
            rows.append(item)
    return rows


def acting_for(task: Task, agency: Agency) -> Responsibility | None:
    """The task record a focal point of agency acts for (its own name before a predecessor's)."""
    today = current_agency(agency).id
    candidates = [item for item in responsibilities(task) if item.current.id == today]
    if not candidates:
        return None
    candidates.sort(key=lambda item: (item.role is not Role.LEAD, item.agency.id != today))
    return candidates[0]


def family_ids(session: Session, agency: Agency) -> list[int]:
    """Today's agency and every agency it took over."""
    today = current_agency(agency)
    return [today.id, *(other.id for other in repo.predecessors(session, today))]


def agency_tasks(session: Session, agency: Agency) -> list[tuple[Task, Role]]:
    """Tasks the agency (with its predecessors) leads or is named on, in table order."""
    ids = family_ids(session, agency)
    led = repo.led_tasks(session, ids)
    led_ids = {task.id for task in led}
    rows = [(task, Role.LEAD) for task in led]
    rows += [
        (task, Role.PARTNER) for task in repo.partner_tasks(session, ids) if task.id not in led_ids
    ]
    rows.sort(key=lambda row: (row[0].programme_id, row[0].position))
    return rows


# --- writing ------------------------------------------------------------------------------------


def _lock_task(session: Session, task_id: int) -> None:
    """Serialise writers of one task (PostgreSQL row lock; SQLite already has one writer)."""
    session.execute(select(Task.id).where(Task.id == task_id).with_for_update())


def _active(
    session: Session, task_id: int, year: int, agency_ids: Iterable[int]
) -> StatusUpdate | None:
    query = (
        select(StatusUpdate)
        .where(
            StatusUpdate.task_id == task_id,
            StatusUpdate.year == year,
            StatusUpdate.agency_id.in_(list(agency_ids)),
            StatusUpdate.state == UpdateState.ACTIVE.value,
        )
        .order_by(StatusUpdate.id.desc())
        .execution_options(populate_existing=True)
    )
    return session.scalars(query).first()


def by_source(session: Session, source_key: str) -> StatusUpdate | None:
    """The update recorded from one platform update ("telegram:123"), if any."""
    query = select(StatusUpdate).where(StatusUpdate.source_key == source_key)
    return session.scalars(query).first()


def record(
    session: Session,
    *,
    task: Task,
    agency: Agency,
    year: int,
    author: Person,
    report: Report,
    now: datetime,
    source_key: str | None = None,
) -> Recorded:
    """Add an update; the agency's previous active one for the year becomes superseded."""
    _lock_task(session, task.id)
    if source_key is not None:
        seen = by_source(session, source_key)
        if seen is not None:
            return Recorded(seen, None, duplicate=True)
    previous = _active(session, task.id, year, family_ids(session, agency))
    update = StatusUpdate(
        task_id=task.id,
        agency_id=agency.id,
        year=year,
        author_id=author.id,
        status=report.status.value,
        progress=report.progress,
        result=report.result,
        blocker=report.blocker,
        blocker_text=report.blocker_text.strip(),
        proposal=report.proposal,
        file_platform=report.file_platform,
        file_ref=report.file_ref,
        state=UpdateState.ACTIVE.value,
        supersedes_id=previous.id if previous is not None else None,
        source_key=source_key,
        created_at=now,
    )
    if previous is not None:
        previous.state = UpdateState.SUPERSEDED.value
    session.add(update)
    session.flush()
    return Recorded(update, previous)


def return_for_rework(
    session: Session, update: StatusUpdate, *, by: Person, reason: str, now: datetime
) -> StatusUpdate:
    """Send an active update back to its agency; it stays in the history."""
    _lock_task(session, update.task_id)
    session.refresh(update)
    if update.state != UpdateState.ACTIVE.value:
        raise ValueError("only the active update can be returned")
    update.state = UpdateState.RETURNED.value
    update.returned_reason = reason
    update.returned_by_id = by.id
    update.returned_at = now
    session.flush()
    return update


# --- reading ------------------------------------------------------------------------------------

_UPDATE_LOADS = (
    selectinload(StatusUpdate.author).selectinload(Person.identities),
    selectinload(StatusUpdate.agency).selectinload(Agency.successor),
)


def get(session: Session, update_id: int) -> StatusUpdate | None:
    """One update by id, with author and agency loaded."""
    query = select(StatusUpdate).options(*_UPDATE_LOADS).where(StatusUpdate.id == update_id)
    return session.scalars(query).first()


def history(session: Session, task_id: int, year: int | None = None) -> list[StatusUpdate]:
    """Every update of a task (optionally of one year), oldest first."""
    query = select(StatusUpdate).options(*_UPDATE_LOADS).where(StatusUpdate.task_id == task_id)
    if year is not None:
        query = query.where(StatusUpdate.year == year)
    return list(session.scalars(query.order_by(StatusUpdate.id)))


def latest_of(updates: Iterable[StatusUpdate], agency_ids: Iterable[int]) -> StatusUpdate | None:
    """The newest update of the agencies that is active or returned (not superseded)."""
    ids = set(agency_ids)
    shown = [u for u in updates if u.agency_id in ids and u.state != UpdateState.SUPERSEDED.value]
    return max(shown, key=lambda u: u.id, default=None)


def done_since(updates: list[StatusUpdate], agency_ids: Iterable[int]) -> datetime | None:
    """When the agency's current run of "done" updates began (None if not done now)."""
    ids = set(agency_ids)
    chain = [u for u in updates if u.agency_id in ids and u.state != UpdateState.RETURNED.value]
    chain.sort(key=lambda u: u.id)
    since: datetime | None = None
    for u in chain:
        done = u.status == TaskStatus.DONE.value
        since = (since or aware(u.created_at)) if done else None
    return since


def classify(
    latest: StatusUpdate | None,
    done_at: datetime | None,
    due: date,
    today: date,
    timezone: str = DEFAULT_TIMEZONE,
) -> Classification | None:
    """Official split for one agency; None when nothing is reported and the deadline is ahead."""
    active = latest is not None and latest.state == UpdateState.ACTIVE.value
    if active and latest is not None and latest.status == TaskStatus.DONE.value:
        finished = local(done_at or latest.created_at, timezone).date()
        return Classification.DONE_ON_TIME if finished <= due else Classification.DONE_LATE
    if today > due:
        return Classification.OVERDUE
    return Classification.ON_TIME if active else None


def missing_tasks(session: Session, agency: Agency, year: int) -> list[Task]:
    """Tasks the agency (incl. predecessors) leads or partners on, without an active update."""
    ids = family_ids(session, agency)
    tasks = [task for task, _role in agency_tasks(session, agency)]
    if not tasks:
        return []
    reported = set(
        session.scalars(
            select(StatusUpdate.task_id).where(
                StatusUpdate.task_id.in_([t.id for t in tasks]),
                StatusUpdate.year == year,
                StatusUpdate.agency_id.in_(ids),
                StatusUpdate.state == UpdateState.ACTIVE.value,
            )
        )
    )
    return [task for task in tasks if task.id not in reported]
