"""Report data: each task's per-agency latest status and classification for a year, streamed."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from functools import cached_property
from typing import Any, NamedTuple

from sqlalchemy import Row, select
from sqlalchemy.orm import Session

from core.labels import UNREPORTED
from data.store import status as st
from data.store.models import (
    Agency,
    Programme,
    Sector,
    StatusUpdate,
    Task,
    TaskPartner,
    TaskStatus,
    UpdateState,
)
from data.store.succession import current_agency, today_ids

BATCH = 500  # tasks per round trip: bounds memory, keeps the number of queries low
STATUS_KEYS = (
    TaskStatus.DONE.value,
    TaskStatus.IN_PROGRESS.value,
    TaskStatus.NOT_STARTED.value,
    UNREPORTED,
)
CLASS_KEYS = (
    st.Classification.DONE_ON_TIME.value,
    st.Classification.DONE_LATE.value,
    st.Classification.ON_TIME.value,
    st.Classification.OVERDUE.value,
    UNREPORTED,
)


def agency_label(agency: Agency) -> str:
    """Today's name with the 2021 name in brackets: "Sở Tài chính (Sở Kế hoạch và Đầu tư)"."""
    today = current_agency(agency)
    return today.name if today is agency else f"{today.name} ({agency.name})"


@dataclass(frozen=True)
class Scope:
    """Which report: the reporting year, the clock it is judged on, optionally one programme."""

    year: int
    now: datetime
    timezone: str = st.DEFAULT_TIMEZONE
    programme_id: int | None = None

    @cached_property
    def today(self) -> date:
        """The province's calendar day at `now`."""
        return st.local(self.now, self.timezone).date()


@dataclass(frozen=True)
class AgencyPart:
    """One agency's part of a task: role, its latest update and the official classification."""

    agency_id: int  # the agency of today
    name: str  # today's name
    label: str  # today's name (2021 name as on the task)
    name_2021: str
    role: str
    classification: str | None
    status: str | None = None  # None: nothing reported (or only returned reports)
    progress: int | None = None
    result: str = ""
    blocker_text: str = ""
    proposal: str = ""
    updated_at: datetime | None = None
    update_id: int | None = None
    returned: bool = False
    returned_reason: str = ""

    @property
    def reported(self) -> bool:
        """Whether the agency has an active report for the year."""
        return self.status is not None and not self.returned

    @property
    def blocker(self) -> bool:
        """An open blocker: the active report describes one."""
        return self.reported and bool(self.blocker_text.strip())

    @property
    def status_key(self) -> str:
        """The status, or "unreported"."""
        return self.status if self.reported and self.status else UNREPORTED

    @property
    def class_key(self) -> str:
        """The classification, or "unreported" when none applies yet."""
        return self.classification or UNREPORTED


@dataclass(frozen=True)
class TaskReport:
    """One task with its lead and partners (named as today) and each agency's part."""

    programme_id: int
    programme: str
    sector_number: int
    sector_name: str
    code: str
    title: str
    position: int
    deadline: date
    lead: str  # label; "" when the table names none
    partners: tuple[str, ...]  # labels, collectives ("Các sở, ban ngành") included
    parts: tuple[AgencyPart, ...]  # lead first

    @property
    def main(self) -> AgencyPart | None:
        """The part that speaks for the task: the lead's, else the first named agency's."""
        return self.parts[0] if self.parts else None

    @property
    def status_key(self) -> str:
        """The task's status: its lead agency's."""
        main = self.main
        return main.status_key if main is not None else UNREPORTED

    @property
    def class_key(self) -> str:
        """The task's official classification: its lead agency's."""
        main = self.main
        return main.class_key if main is not None else UNREPORTED

    @property
    def blockers(self) -> tuple[AgencyPart, ...]:
        """Parts with an open blocker."""
        return tuple(part for part in self.parts if part.blocker)


# --- reading ------------------------------------------------------------------------------------
# Plain column rows, not ORM objects: a report reads every task, and ORM instances and their
# lazy many-to-one look-ups cost ten times more than the arithmetic. The rules are those of
# data.store.status (tests/test_reports_data.py checks both agree on every task).


_ACTIVE = UpdateState.ACTIVE.value  # plain strings: enum attribute access is slow in loops
_RETURNED = UpdateState.RETURNED.value
_SUPERSEDED = UpdateState.SUPERSEDED.value
_DONE = TaskStatus.DONE.value
_DONE_ON_TIME = st.Classification.DONE_ON_TIME.value
_DONE_LATE = st.Classification.DONE_LATE.value
_ON_TIME = st.Classification.ON_TIME.value
_OVERDUE = st.Classification.OVERDUE.value
_LEAD = st.Role.LEAD.value
_PARTNER = st.Role.PARTNER.value


class _Update(NamedTuple):
    id: int
    agency_id: int
    status: str
    progress: int
    result: str | None
    blocker: bool
    blocker_text: str | None
    proposal: str | None
    state: str
    created_at: datetime
    returned_reason: str | None


_UPDATE_COLUMNS = (
    StatusUpdate.id,
    StatusUpdate.agency_id,
    StatusUpdate.status,
    StatusUpdate.progress,
    StatusUpdate.result,
    StatusUpdate.blocker,
    StatusUpdate.blocker_text,
    StatusUpdate.proposal,
    StatusUpdate.state,
    StatusUpdate.created_at,
    StatusUpdate.returned_reason,
)


@dataclass
class _Directory:
    """Agencies (today's of each, labels, families), programmes and sectors, read once."""

    names: dict[int, str]
    collective: set[int]
    current: dict[int, int]
    families: dict[int, list[int]]
    programmes: dict[int, tuple[str, int, int]]  # id -> (decision, report month, report day)
    sectors: dict[int, tuple[int, str]]  # id -> (number, name)

    @classmethod
    def load(cls, session: Session) -> _Directory:
        rows = session.execute(
            select(Agency.id, Agency.name, Agency.is_collective, Agency.successor_id).order_by(
                Agency.id
            )
        ).all()
        names = {row.id: row.name for row in rows}
        current = today_ids({row.id: row.successor_id for row in rows})
        families: dict[int, list[int]] = defaultdict(list)
        for agency_id, today in current.items():
            families[today].append(agency_id)
        programmes = {
            row.id: (row.decision_number, row.report_month or 12, row.report_day or 15)
            for row in session.execute(
                select(
                    Programme.id,
                    Programme.decision_number,
                    Programme.report_month,
                    Programme.report_day,
                )
            )
        }
        sectors = {
            row.id: (row.number, row.name)
            for row in session.execute(select(Sector.id, Sector.number, Sector.name))
        }
        return cls(
            names,
            {row.id for row in rows if row.is_collective},
            current,
            dict(families),
            programmes,
            sectors,
        )

    def label(self, agency_id: int) -> str:
        """Today's name, with the name as recorded in brackets when it changed."""
        today = self.current[agency_id]
        name = self.names[agency_id]
        return name if today == agency_id else f"{self.names[today]} ({name})"


def _latest(updates: list[_Update], ids: set[int]) -> _Update | None:
    """Newest active or returned update of the agencies (st.latest_of)."""
    shown = [u for u in updates if u.agency_id in ids and u.state != _SUPERSEDED]
    return max(shown, key=lambda u: u.id, default=None)


def _done_since(updates: list[_Update], ids: set[int]) -> datetime | None:
    """When the current run of "done" began (st.done_since); updates are sorted by id."""
    since: datetime | None = None
    for u in updates:
        if u.agency_id in ids and u.state != _RETURNED:
            done = u.status == _DONE
            since = (since or st.aware(u.created_at)) if done else None
    return since


def _classify(
    latest: _Update | None, done_at: datetime | None, due: date, scope: Scope
) -> str | None:
    """The official split for one agency (st.classify)."""
    active = latest is not None and latest.state == _ACTIVE
    if active and latest is not None and latest.status == _DONE:
        finished = st.local(done_at or latest.created_at, scope.timezone).date()
        return _DONE_ON_TIME if finished <= due else _DONE_LATE
    if scope.today > due:
        return _OVERDUE
    return _ON_TIME if active else None


def _part(
    directory: _Directory,
    recorded_id: int,
    role: str,
    updates: list[_Update],
    due: date,
    scope: Scope,
) -> AgencyPart:
    today = directory.current[recorded_id]
    ids = set(directory.families.get(today, [today]))
    latest = _latest(updates, ids)
    common: dict[str, Any] = {
        "agency_id": today,
        "name": directory.names[today],
        "label": directory.label(recorded_id),
        "name_2021": directory.names[recorded_id],
        "role": role,
        "classification": _classify(latest, _done_since(updates, ids), due, scope),
    }
    if latest is None:
        return AgencyPart(**common)
    return AgencyPart(
        **common,
        status=latest.status,
        progress=latest.progress,
        result=latest.result or "",
        blocker_text=(latest.blocker_text or "") if latest.blocker else "",
        proposal=latest.proposal or "",
        updated_at=st.aware(latest.created_at),
        update_id=latest.id,
        returned=latest.state == _RETURNED,
        returned_reason=latest.returned_reason or "",
    )


def _task_report(
    task: Row[Any] | Any,
    partners: list[int],
    updates: list[_Update],
    directory: _Directory,
    scope: Scope,
) -> TaskReport:
    decision, month, day = directory.programmes[task.programme_id]
    due = task.deadline or date(scope.year, month, day)
    named: list[tuple[int, str]] = []
    if task.lead_agency_id is not None and task.lead_agency_id not in directory.collective:
        named.append((task.lead_agency_id, _LEAD))
    named += [(p, _PARTNER) for p in partners if p not in directory.collective]
    parts: list[AgencyPart] = []
    seen: set[int] = set()
    for recorded_id, role in named:  # one part per agency of today, lead first
        today = directory.current[recorded_id]
        if today not in seen:
            seen.add(today)
            parts.append(_part(directory, recorded_id, role, updates, due, scope))
    number, name = directory.sectors[task.sector_id]
    return TaskReport(
        programme_id=task.programme_id,
        programme=decision,
        sector_number=number,
        sector_name=name,
        code=task.code,
        title=task.title,
        position=task.position,
        deadline=due,
        lead=directory.label(task.lead_agency_id) if task.lead_agency_id is not None else "",
        partners=tuple(directory.label(p) for p in partners),
        parts=tuple(parts),
    )


def iter_task_reports(
    session: Session, scope: Scope, batch: int = BATCH, task_ids: Collection[int] | None = None
) -> Iterator[TaskReport]:
    """Every task of the scope (or only `task_ids`) in table order, streamed.

    Tasks come from one result read `batch` rows at a time (yield_per); each batch fetches its
    partners and status updates, so memory stays bounded by the batch, whatever the task count.
    """
    directory = _Directory.load(session)
    query = (
        select(
            Task.id,
            Task.programme_id,
            Task.sector_id,
            Task.code,
            Task.title,
            Task.position,
            Task.lead_agency_id,
            Task.deadline,
        )
        .join(Sector, Sector.id == Task.sector_id)
        .order_by(Task.programme_id, Sector.number, Task.position, Task.id)
        .execution_options(yield_per=batch)
    )
    if scope.programme_id is not None:
        query = query.where(Task.programme_id == scope.programme_id)
    if task_ids is not None:
        query = query.where(Task.id.in_(list(task_ids)))
    for tasks in session.execute(query).partitions():
        ids = [task.id for task in tasks]
        partners: dict[int, list[int]] = defaultdict(list)
        for task_id, agency_id in session.execute(
            select(TaskPartner.task_id, TaskPartner.agency_id)
            .where(TaskPartner.task_id.in_(ids))
            .order_by(TaskPartner.task_id, TaskPartner.position)
        ):
            partners[task_id].append(agency_id)
        updates: dict[int, list[_Update]] = defaultdict(list)
        for row in session.execute(
            select(StatusUpdate.task_id, *_UPDATE_COLUMNS)
            .where(StatusUpdate.task_id.in_(ids), StatusUpdate.year == scope.year)
            .order_by(StatusUpdate.id)
        ):
            updates[row[0]].append(_Update._make(row[1:]))
        for task in tasks:
            yield _task_report(
                task, partners.get(task.id, []), updates.get(task.id, []), directory, scope
            )
