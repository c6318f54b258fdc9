"""Read-side helpers only tests need, built from the store's public functions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from data.store import people
from data.store import repositories as repo
from data.store import status as st
from data.store.models import Agency, Person, Role, StatusUpdate, Task
from data.store.succession import current_agency


def all_tasks(session: Session) -> list[Task]:
    """Every task of every programme, in table order."""
    query = select(Task).order_by(Task.programme_id, Task.position)
    return list(session.scalars(query))


def register(
    session: Session,
    *,
    platform: str,
    user: str,
    role: Role,
    agency: str | None,
    display_name: str,
    private_chat_id: str,
    now: datetime,
) -> Person:
    """A registered person: an invitation made and redeemed, as /moi and /dangky would."""
    found = repo.agency_by_name(session, agency) if agency else None
    _invitation, code = people.create_invitation(
        session, role=role, agency=found, created_by=None, now=now
    )
    done = people.redeem(
        session,
        code,
        platform=platform,
        user_id=user,
        display_name=display_name,
        private_chat_id=private_chat_id,
        now=now,
    )
    assert done.person is not None, done
    return done.person


def focal_private_chats(session: Session, agency: Agency) -> list[tuple[str, str]]:
    """(platform, private chat id) of every active focal point of the agency (or its successor)."""
    target = current_agency(agency).id
    chats: list[tuple[str, str]] = []
    for person in people.people(session):
        if person.role != Role.FOCAL.value or person.agency is None:
            continue
        if current_agency(person.agency).id != target:
            continue
        for account in sorted(person.identities, key=lambda i: i.id):
            if account.private_chat_id:
                chats.append((account.platform, account.private_chat_id))
    return chats


@dataclass(frozen=True)
class AgencyStatus:
    """One row of a task's status for a year: an agency today, its role, its latest update."""

    agency: Agency  # today's agency
    role: st.Role
    latest: StatusUpdate | None  # newest active or returned update
    classification: st.Classification | None


def task_statuses(
    session: Session, task: Task, year: int, now: datetime, timezone: str = st.DEFAULT_TIMEZONE
) -> list[AgencyStatus]:
    """Each responsible agency of today with its latest update and classification."""
    updates = st.history(session, task.id, year)
    due = st.deadline(task, year)
    today = st.local(now, timezone).date()
    rows: list[AgencyStatus] = []
    for item in st.responsible_today(task):
        ids = st.family_ids(session, item.current)
        latest = st.latest_of(updates, ids)
        classification = st.classify(latest, st.done_since(updates, ids), due, today, timezone)
        rows.append(AgencyStatus(item.current, item.role, latest, classification))
    return rows
