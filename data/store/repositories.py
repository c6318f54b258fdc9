"""Read-side queries over programmes, sectors, tasks, agencies and chats (never commit)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from core.textnorm import fold
from data.importing.agency_names import find_agency
from data.store.models import Agency, ChatRecord, Programme, Sector, Task, TaskPartner
from data.store.succession import current_agency

_TASK_LOADS = (
    selectinload(Task.programme),
    selectinload(Task.sector),
    selectinload(Task.lead_agency).selectinload(Agency.successor),
    selectinload(Task.partners).selectinload(TaskPartner.agency).selectinload(Agency.successor),
    selectinload(Task.measures),
)


def programmes(session: Session) -> list[Programme]:
    """All imported programmes, oldest first."""
    return list(session.scalars(select(Programme).order_by(Programme.id)))


def programme_by_number(session: Session, decision: str) -> Programme | None:
    """The programme whose decision number is decision (or starts with its number part)."""
    wanted = fold(decision)
    found = programmes(session)
    for programme in found:
        if fold(programme.decision_number) == wanted:
            return programme
    for programme in found:
        if fold(programme.decision_number).split("/")[0] == wanted.split("/")[0]:
            return programme
    return None


def sectors(session: Session, programme_id: int | None = None) -> list[Sector]:
    """Sectors (with their tasks loaded), by programme then number."""
    query = select(Sector).options(selectinload(Sector.tasks), selectinload(Sector.programme))
    if programme_id is not None:
        query = query.where(Sector.programme_id == programme_id)
    return list(session.scalars(query.order_by(Sector.programme_id, Sector.number)))


def sectors_by_number(session: Session, number: int) -> list[Sector]:
    """The sectors numbered number, one per programme that has it."""
    query = (
        select(Sector)
        .options(selectinload(Sector.programme), selectinload(Sector.tasks).options(*_TASK_LOADS))
        .where(Sector.number == number)
        .order_by(Sector.programme_id)
    )
    return list(session.scalars(query))


def tasks_by_code(session: Session, code: str, programme_id: int | None = None) -> list[Task]:
    """Tasks with this code, one per programme (or only the given programme's)."""
    query = select(Task).options(*_TASK_LOADS).where(Task.code == code)
    if programme_id is not None:
        query = query.where(Task.programme_id == programme_id)
    return list(session.scalars(query.order_by(Task.programme_id)))


def all_agencies(session: Session) -> list[Agency]:
    """Every agency, with aliases and successor loaded."""
    query = select(Agency).options(selectinload(Agency.aliases), selectinload(Agency.successor))
    return list(session.scalars(query.order_by(Agency.id)))


def agency_by_name(session: Session, name: str) -> Agency | None:
    """The agency named name, or written as one of its spelling variants."""
    exact = session.scalars(select(Agency).where(Agency.name == name).limit(1)).first()
    return exact if exact is not None else find_agency(session, name)


def led_tasks(session: Session, agency_ids: list[int]) -> list[Task]:
    """Tasks led by any of the agencies, in table order."""
    query = (
        select(Task)
        .options(*_TASK_LOADS)
        .where(Task.lead_agency_id.in_(agency_ids))
        .order_by(Task.programme_id, Task.position)
    )
    return list(session.scalars(query))


def partner_tasks(session: Session, agency_ids: list[int]) -> list[Task]:
    """Tasks on which any of the agencies is a named cooperating agency."""
    # EXISTS rather than JOIN + DISTINCT: PostgreSQL cannot compare the JSON column target_years.
    named = (
        select(TaskPartner.task_id)
        .where(TaskPartner.task_id == Task.id, TaskPartner.agency_id.in_(agency_ids))
        .exists()
    )
    query = (
        select(Task).options(*_TASK_LOADS).where(named).order_by(Task.programme_id, Task.position)
    )
    return list(session.scalars(query))


def collective_task_counts(session: Session) -> list[tuple[Agency, int]]:
    """Each collective ("Các sở, ban ngành", …) with the number of tasks naming it."""
    counts: dict[int, int] = {}
    rows = session.execute(
        select(TaskPartner.agency_id, Task.id)
        .join(Task, Task.id == TaskPartner.task_id)
        .join(Agency, Agency.id == TaskPartner.agency_id)
        .where(Agency.is_collective.is_(True))
    )
    for agency_id, _task_id in rows:
        counts[agency_id] = counts.get(agency_id, 0) + 1
    agencies = {a.id: a for a in all_agencies(session) if a.id in counts}
    return [(agencies[i], n) for i, n in sorted(counts.items()) if i in agencies]


def predecessors(session: Session, agency: Agency) -> list[Agency]:
    """Agencies whose succession chain ends at agency (not agency itself)."""
    # Every agency is loaded, so following successors hits the identity map, not the database.
    everyone = session.scalars(select(Agency).order_by(Agency.id)).all()
    return [
        other
        for other in everyone
        if other.id != agency.id and current_agency(other).id == agency.id
    ]


def chats(
    session: Session, platform: str | None = None, *, active: bool = True
) -> list[ChatRecord]:
    """Known chats, optionally of one platform; only active ones unless active=False."""
    query = select(ChatRecord).options(selectinload(ChatRecord.agency))
    if platform is not None:
        query = query.where(ChatRecord.platform == platform)
    if active:
        query = query.where(ChatRecord.active.is_(True))
    return list(session.scalars(query.order_by(ChatRecord.id)))


def chat(session: Session, platform: str, chat_id: str) -> ChatRecord | None:
    """The chat record of one platform chat, if the bot has seen it."""
    query = select(ChatRecord).where(ChatRecord.platform == platform, ChatRecord.chat_id == chat_id)
    return session.scalars(query).first()


def chats_of_agency(session: Session, agency_id: int) -> list[ChatRecord]:
    """Active chats linked to an agency."""
    query = select(ChatRecord).where(ChatRecord.agency_id == agency_id, ChatRecord.active.is_(True))
    return list(session.scalars(query.order_by(ChatRecord.id)))
