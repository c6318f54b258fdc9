"""Who reminders can reach today: agencies as they exist now, their obligations and chats."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.settings import Settings
from data.store.models import (
    Agency,
    ChatRecord,
    Person,
    PersonIdentity,
    Role,
    StatusUpdate,
    Task,
    TaskPartner,
    TaskStatus,
    UpdateState,
)
from data.store.succession import today_ids

LEAD = "lead"
PARTNER = "partner"


@dataclass(frozen=True)
class AgencyRef:
    """An agency as it exists today, with the 2021 names it stands for."""

    id: int
    name: str
    names_2021: tuple[str, ...]


@dataclass(frozen=True)
class TaskRef:
    """A task an agency owes a report on, and whether it leads or cooperates."""

    id: int
    code: str
    title: str
    role: str
    position: int = 0


@dataclass(frozen=True)
class Destination:
    """A chat a reminder goes to; via says why (group, focal point, the rule's chat, admin).

    thread_id is the forum topic a group was linked from (None: the chat itself, or General).
    """

    platform: str
    chat_id: str
    via: str
    thread_id: str | None = None


@dataclass(frozen=True)
class Missing:
    """One agency that has not reported, with the tasks it still owes."""

    agency: AgencyRef
    tasks: tuple[TaskRef, ...]


@dataclass
class Directory:
    """A snapshot of agencies, obligations, reports, chats and admins, read once per pass."""

    agencies: dict[int, Agency]
    current: dict[int, int]  # agency id -> id of the agency that exists today
    groups: dict[int, list[Destination]]  # current agency id -> linked active chats
    focal: dict[int, list[Destination]]  # current agency id -> focal points' private chats
    admins: list[Destination]
    reported: set[tuple[int, int, int]]  # (task id, current agency id, year)
    done: set[tuple[int, int]]  # (task id, current agency id)
    inactive: set[tuple[str, str]] = field(default_factory=set)  # chats the bot lost
    # (platform, chat id) -> the forum topic a linked group was linked from
    topics: dict[tuple[str, str], str] = field(default_factory=dict)
    obligations: dict[int, dict[int, list[TaskRef]]] = field(default_factory=dict)
    # (programme id, current agency id) -> names under which it appears in that programme
    names: dict[tuple[int, int], list[str]] = field(default_factory=dict)
    _missing: dict[tuple[int, int], tuple[list[Missing], int]] = field(default_factory=dict)

    @classmethod
    def load(cls, session: Session, settings: Settings | None = None) -> Directory:
        """Read everything the occurrences of one pass depend on."""
        agencies = {a.id: a for a in session.scalars(select(Agency))}
        current = today_ids({a.id: a.successor_id for a in agencies.values()})
        groups: dict[int, list[Destination]] = defaultdict(list)
        topics: dict[tuple[str, str], str] = {}
        for chat in session.scalars(
            select(ChatRecord)
            .where(ChatRecord.active.is_(True), ChatRecord.agency_id.is_not(None))
            .order_by(ChatRecord.id)
        ):
            assert chat.agency_id is not None
            groups[current.get(chat.agency_id, chat.agency_id)].append(
                Destination(chat.platform, chat.chat_id, "group", chat.thread_id)
            )
            if chat.thread_id is not None:
                topics[(chat.platform, chat.chat_id)] = chat.thread_id
        focal: dict[int, list[Destination]] = defaultdict(list)
        for person, identity in _people(session, Role.FOCAL):
            if person.agency_id is not None and identity.private_chat_id:
                home = current.get(person.agency_id, person.agency_id)
                focal[home].append(
                    Destination(identity.platform, identity.private_chat_id, "focal")
                )
        reported: set[tuple[int, int, int]] = set()
        done: set[tuple[int, int]] = set()
        for task_id, agency_id, year, status in session.execute(
            select(
                StatusUpdate.task_id, StatusUpdate.agency_id, StatusUpdate.year, StatusUpdate.status
            ).where(StatusUpdate.state == UpdateState.ACTIVE.value)
        ):
            home = current.get(agency_id, agency_id)
            reported.add((task_id, home, year))
            if status == TaskStatus.DONE.value:
                done.add((task_id, home))
        inactive = {
            (platform, chat_id)
            for platform, chat_id in session.execute(
                select(ChatRecord.platform, ChatRecord.chat_id).where(ChatRecord.active.is_(False))
            )
        }
        return cls(
            inactive=inactive,
            topics=topics,
            agencies=agencies,
            current=current,
            groups=dict(groups),
            focal=dict(focal),
            admins=admin_destinations(session, settings),
            reported=reported,
            done=done,
        )

    # -- agencies ---------------------------------------------------------------------------

    def ref(self, current_id: int, names_2021: Iterable[str] = ()) -> AgencyRef:
        """The AgencyRef of an agency existing today."""
        names = tuple(dict.fromkeys(names_2021)) or (self.agencies[current_id].name,)
        return AgencyRef(current_id, self.agencies[current_id].name, names)

    def reachable(self, agency: Agency) -> bool:
        """Whether the agency (as it is today) is a single body that can be reminded."""
        today = self.agencies.get(self.current.get(agency.id, agency.id), agency)
        return not (agency.is_collective or today.is_collective)

    def destinations(self, current_id: int) -> list[Destination]:
        """Linked group chats, else focal points' private chats, else nothing."""
        return self.groups.get(current_id) or self.focal.get(current_id) or []

    # -- obligations ------------------------------------------------------------------------

    def obligations_of(self, session: Session, programme_id: int) -> dict[int, list[TaskRef]]:
        """Tasks each agency of today reports on in a programme (lead or cooperating)."""
        cached = self.obligations.get(programme_id)
        if cached is not None:
            return cached
        owed: dict[int, dict[int, TaskRef]] = defaultdict(dict)
        # Plain column queries: agencies are already in self.agencies, and ORM eager loading
        # cost more than the rest of /nhacviec together.
        partners: dict[int, list[int]] = defaultdict(list)
        for task_id, agency_id in session.execute(
            select(TaskPartner.task_id, TaskPartner.agency_id)
            .join(Task, Task.id == TaskPartner.task_id)
            .where(Task.programme_id == programme_id)
            .order_by(TaskPartner.task_id, TaskPartner.position)
        ):
            partners[task_id].append(agency_id)
        tasks = session.execute(
            select(Task.id, Task.code, Task.title, Task.position, Task.lead_agency_id)
            .where(Task.programme_id == programme_id)
            .order_by(Task.position)
        )
        for task_id, code, title, position, lead_id in tasks:
            named: list[tuple[Agency, str]] = []
            if lead_id is not None:
                named.append((self.agencies[lead_id], LEAD))
            named += [(self.agencies[agency_id], PARTNER) for agency_id in partners[task_id]]
            for agency, role in named:
                if not self.reachable(agency):
                    continue
                home = self.current[agency.id]
                self.names.setdefault((programme_id, home), []).append(agency.name)
                if task_id in owed[home] and owed[home][task_id].role == LEAD:
                    continue
                owed[home][task_id] = TaskRef(task_id, code, title, role, position)
        result = {
            home: sorted(refs.values(), key=lambda ref: ref.position) for home, refs in owed.items()
        }
        self.obligations[programme_id] = result
        return result

    def names_2021(self, programme_id: int, current_id: int) -> list[str]:
        """Names (as in the decision) under which today's agency appears in a programme."""
        return list(dict.fromkeys(self.names.get((programme_id, current_id), [])))

    def missing(self, session: Session, programme_id: int, year: int) -> tuple[list[Missing], int]:
        """Agencies with tasks not yet reported for year, and how many agencies report at all."""
        cached = self._missing.get((programme_id, year))
        if cached is None:
            cached = self._missing[(programme_id, year)] = self._find_missing(
                session, programme_id, year
            )
        found, total = cached
        return list(found), total

    def _find_missing(
        self, session: Session, programme_id: int, year: int
    ) -> tuple[list[Missing], int]:
        owed = self.obligations_of(session, programme_id)
        found: list[Missing] = []
        for home, refs in owed.items():
            left = tuple(ref for ref in refs if (ref.id, home, year) not in self.reported)
            if left:
                found.append(Missing(self.ref(home, self.names_2021(programme_id, home)), left))
        found.sort(key=lambda item: item.tasks[0].position)
        return found, len(owed)


def _people(session: Session, role: Role) -> list[tuple[Person, PersonIdentity]]:
    query = (
        select(Person, PersonIdentity)
        .join(PersonIdentity, PersonIdentity.person_id == Person.id)
        .where(Person.active.is_(True), Person.role == role.value)
        .order_by(Person.id, PersonIdentity.id)
    )
    return [(person, identity) for person, identity in session.execute(query)]


def admin_destinations(session: Session, settings: Settings | None) -> list[Destination]:
    """Private chats of admins: persons with role admin, and settings.admins ("platform:id")."""
    found = [
        Destination(identity.platform, identity.private_chat_id, "admin")
        for _person, identity in _people(session, Role.ADMIN)
        if identity.private_chat_id
    ]
    for entry in settings.admins if settings is not None else ():
        platform, _, user_id = entry.strip().partition(":")
        if platform and user_id:
            # On Telegram (and Zalo) the private chat with a user has the user's id.
            found.append(Destination(platform, user_id, "admin"))
    return _unique(found)


def _unique(destinations: Sequence[Destination]) -> list[Destination]:
    seen: dict[tuple[str, str], Destination] = {}
    for destination in destinations:
        seen.setdefault((destination.platform, destination.chat_id), destination)
    return list(seen.values())
