"""What every reminder rule kind implements, and the values every kind works with.

A kind is one module under scheduler/kinds/ with one subclass of RuleKind, registered by one
line in scheduler/kinds/registry.py; planning (rules), resolving (occurrences), texts
(messages) and /nhacviec listings (handlers) all ask the registry, never the kind's name.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import ClassVar, Literal

from sqlalchemy.orm import Session

from data.store.models import ReminderRule
from scheduler.calendar import WorkCalendar
from scheduler.config import ReminderConfig
from scheduler.directory import AgencyRef, Destination, Directory, Missing, TaskRef

# "programme": ensure_defaults creates one rule per programme; "system": one rule overall.
DefaultScope = Literal["programme", "system"]


class Kind:
    """Kinds of occurrence (the "kind" field of the preview and of outbox rows)."""

    BEFORE = "before"
    DUE = "due"
    OVERDUE = "overdue"
    ESCALATION = "escalation"
    COMPILE = "compile"
    TASK_BEFORE = "task_before"
    TASK_DUE = "task_due"
    TASK_OVERDUE = "task_overdue"
    ONCE = "once"
    RECURRING = "recurring"
    GAP = "gap"  # admins: an agency nobody can be reminded in
    ALERT = "alert"  # admins: a delivery problem
    DIGEST = "digest"  # coordinating agency: the weekly digest


@dataclass(frozen=True)
class Plan:
    """One planned instant of a rule (who receives it is decided later, from the database)."""

    rule_id: int
    due: datetime  # aware, UTC
    kind: str
    deadline: date | None = None
    year: int | None = None


@dataclass(frozen=True)
class Occurrence:
    """One reminder of one rule for one agency (or chat) at one instant."""

    rule_id: int
    due: datetime
    kind: str
    programme: str = ""
    plan: Plan | None = None
    agency: AgencyRef | None = None
    tasks: tuple[TaskRef, ...] = ()
    missing: tuple[Missing, ...] = ()
    reporting_total: int = 0
    coordinator: str = ""
    text: str = ""
    destinations: tuple[Destination, ...] = ()


class RuleKind:
    """One kind of reminder rule: when it fires, whom it reaches, what it says (defaults: never)."""

    name: ClassVar[str] = ""  # the stored ReminderRule.kind
    # Occurrence kinds the rule produces → what listings and admin notices call them.
    labels: ClassVar[Mapping[str, str]] = {}
    # Occurrence kinds not sent once their deadline has passed (the overdue one speaks instead).
    stale_after_deadline: ClassVar[frozenset[str]] = frozenset()
    default: ClassVar[DefaultScope | None] = None  # made by ensure_defaults, else by admins
    system: ClassVar[bool] = False  # the system's own: admins only, never paused or cancelled

    def plans(
        self,
        rule: ReminderRule,
        calendar: WorkCalendar,
        config: ReminderConfig,
        start: datetime,
        end: datetime,
        *,
        limit: int | None = None,
    ) -> list[Plan]:
        """When it fires: instants with start < due ≤ end (aware, UTC), earliest first."""
        return []

    def resolve(
        self,
        session: Session,
        rule: ReminderRule,
        plan: Plan,
        directory: Directory,
        *,
        texts: bool = True,
    ) -> list[Occurrence]:
        """Who one planned instant reaches (texts=False: leave out texts costly to write)."""
        return []

    def describe(self, rule: ReminderRule, calendar: WorkCalendar) -> str:
        """One Vietnamese line saying what the rule does (/nhacviec, /tamdung answers)."""
        return "Thông báo hệ thống"

    def render(self, occ: Occurrence, today: date, calendar: WorkCalendar) -> str:
        """The Vietnamese text of one occurrence, as of the day it is sent."""
        return note(occ)

    def reaches(
        self, session: Session, rule: ReminderRule, directory: Directory, agency_id: int
    ) -> bool:
        """Whether the rule's reminders go to the agency (as it exists today)."""
        return own_agency(rule, directory, agency_id)


def note(occ: Occurrence) -> str:
    """A reminder an admin wrote: "Nhắc việc — Kính gửi …: <text>"."""
    name = occ.agency.name if occ.agency else ""
    greeting = f"Kính gửi {name}: " if name else ""
    return f"Nhắc việc — {greeting}{occ.text.strip()}"


def own_agency(rule: ReminderRule, directory: Directory, agency_id: int) -> bool:
    """Whether the agency the rule names is, today, the given one."""
    return rule.agency_id is not None and directory.current.get(rule.agency_id) == agency_id
