"""SQLAlchemy 2.0 typed models: programmes, sectors, tasks, agencies and chat state."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from data.store.enums import (
    AgencyKind,
    AliasKind,
    OutboxStatus,
    ReminderKind,
    Role,
    RuleStatus,
    TaskStatus,
    UpdateState,
)

# Models and the vocabularies they store are all named here (the enums live in data.store.enums).
__all__ = [
    "NAMING_CONVENTION",
    "Agency",
    "AgencyAlias",
    "AgencyKind",
    "AliasKind",
    "Base",
    "ChatLinkChange",
    "ChatRecord",
    "FailedAttempt",
    "Flow",
    "Invitation",
    "Measure",
    "OutboxStatus",
    "PendingChoice",
    "Person",
    "PersonIdentity",
    "ProcessedUpdate",
    "Programme",
    "ProgrammeFact",
    "ReminderKind",
    "ReminderOutbox",
    "ReminderRule",
    "Role",
    "RuleStatus",
    "Sector",
    "StatusUpdate",
    "Task",
    "TaskPartner",
    "TaskStatus",
    "UpdateState",
]

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base with stable constraint names for Alembic."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: dict[Any, Any] = {  # noqa: RUF012 - SQLAlchemy reads it on the class
        datetime: DateTime(timezone=True),
        date: Date,
    }


class Programme(Base):
    """One decision (action programme) whose tables were imported."""

    __tablename__ = "programme"

    id: Mapped[int] = mapped_column(primary_key=True)
    decision_number: Mapped[str] = mapped_column(String(64), unique=True)
    issued_on: Mapped[date | None]
    issuer: Mapped[str] = mapped_column(String(255), default="")
    signer: Mapped[str | None] = mapped_column(String(255))
    title: Mapped[str] = mapped_column(Text, default="")
    report_month: Mapped[int] = mapped_column(Integer, default=12)
    report_day: Mapped[int] = mapped_column(Integer, default=15)
    coordinating_agency_id: Mapped[int | None] = mapped_column(ForeignKey("agency.id"))
    source_name: Mapped[str] = mapped_column(String(255), default="")
    imported_at: Mapped[datetime | None]

    sectors: Mapped[list[Sector]] = relationship(
        back_populates="programme", order_by="Sector.number", cascade="all, delete-orphan"
    )
    tasks: Mapped[list[Task]] = relationship(
        back_populates="programme", order_by="Task.position", cascade="all, delete-orphan"
    )
    coordinating_agency: Mapped[Agency | None] = relationship()
    facts: Mapped[list[ProgrammeFact]] = relationship(
        order_by="ProgrammeFact.kind", cascade="all, delete-orphan"
    )


class ProgrammeFact(Base):
    """A sentence of a decision that states one fact about it (deadline, period, …)."""

    __tablename__ = "programme_fact"
    __table_args__ = (UniqueConstraint("programme_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programme.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    sentence: Mapped[str] = mapped_column(Text, default="")


class Sector(Base):
    """A service sector of a programme (1 CNTT-TT … 9 hỗ trợ kinh doanh)."""

    __tablename__ = "sector"
    __table_args__ = (UniqueConstraint("programme_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programme.id", ondelete="CASCADE"))
    number: Mapped[int]
    name: Mapped[str] = mapped_column(String(255))

    programme: Mapped[Programme] = relationship(back_populates="sectors")
    tasks: Mapped[list[Task]] = relationship(back_populates="sector", order_by="Task.position")


class Agency(Base):
    """An agency as named in a decision, with its aliases and 2025 successor."""

    __tablename__ = "agency"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    folded_name: Mapped[str] = mapped_column(String(255), unique=True)
    kind: Mapped[str] = mapped_column(String(32), default=AgencyKind.OTHER.value)
    is_collective: Mapped[bool] = mapped_column(Boolean, default=False)
    successor_id: Mapped[int | None] = mapped_column(ForeignKey("agency.id"))
    successor_effective_on: Mapped[date | None]
    successor_basis: Mapped[str | None] = mapped_column(Text)
    successor_confirmed: Mapped[bool] = mapped_column(Boolean, default=True)

    aliases: Mapped[list[AgencyAlias]] = relationship(
        back_populates="agency", cascade="all, delete-orphan", order_by="AgencyAlias.id"
    )
    successor: Mapped[Agency | None] = relationship(remote_side="Agency.id")


class AgencyAlias(Base):
    """Another way of writing an agency's name (spelling variant or abbreviation)."""

    __tablename__ = "agency_alias"
    __table_args__ = (UniqueConstraint("folded", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id", ondelete="CASCADE"))
    text: Mapped[str] = mapped_column(String(255))
    folded: Mapped[str] = mapped_column(String(255), index=True)
    kind: Mapped[str] = mapped_column(String(16), default=AliasKind.VARIANT.value)

    agency: Mapped[Agency] = relationship(back_populates="aliases")


class Task(Base):
    """A task of a programme's appendix table, with its narrative measures."""

    __tablename__ = "task"
    __table_args__ = (UniqueConstraint("programme_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programme.id", ondelete="CASCADE"))
    sector_id: Mapped[int] = mapped_column(ForeignKey("sector.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(16))
    position: Mapped[int] = mapped_column(Integer, default=0)
    title: Mapped[str] = mapped_column(Text)
    lead_agency_id: Mapped[int | None] = mapped_column(ForeignKey("agency.id"))
    target_years: Mapped[list[int]] = mapped_column(JSON, default=list)
    deadline: Mapped[date | None]

    programme: Mapped[Programme] = relationship(back_populates="tasks")
    sector: Mapped[Sector] = relationship(back_populates="tasks")
    lead_agency: Mapped[Agency | None] = relationship()
    partners: Mapped[list[TaskPartner]] = relationship(
        back_populates="task", cascade="all, delete-orphan", order_by="TaskPartner.position"
    )
    measures: Mapped[list[Measure]] = relationship(
        back_populates="task", cascade="all, delete-orphan", order_by="Measure.position"
    )


class TaskPartner(Base):
    """A cooperating agency (or collective) of a task."""

    __tablename__ = "task_partner"

    task_id: Mapped[int] = mapped_column(
        ForeignKey("task.id", ondelete="CASCADE"), primary_key=True
    )
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, default=0)

    task: Mapped[Task] = relationship(back_populates="partners")
    agency: Mapped[Agency] = relationship()


class Measure(Base):
    """A concrete measure (`+ ` line, or a bare `- ` heading) from section II."""

    __tablename__ = "measure"

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("task.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer, default=0)
    heading: Mapped[str] = mapped_column(Text, default="")
    text: Mapped[str] = mapped_column(Text)

    task: Mapped[Task] = relationship(back_populates="measures")


class ChatRecord(Base):
    """A chat the bot has seen on some platform (ids 64-bit safe as strings)."""

    __tablename__ = "chat"
    __table_args__ = (UniqueConstraint("platform", "chat_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    chat_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16), default="private")
    title: Mapped[str | None] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agency.id"))
    linked_at: Mapped[datetime | None]
    thread_id: Mapped[str | None] = mapped_column(String(64))  # forum topic linked; None: General

    agency: Mapped[Agency | None] = relationship()


class PendingChoice(Base):
    """Choices offered to one user in one chat, answered later by a digit or a button."""

    __tablename__ = "pending_choice"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    chat_id: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[str] = mapped_column(String(64))
    token: Mapped[str] = mapped_column(String(32), unique=True)
    actions: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[datetime]


class Person(Base):
    """Someone the bot knows, with one role (and an agency for focal points/observers)."""

    __tablename__ = "person"

    id: Mapped[int] = mapped_column(primary_key=True)
    display_name: Mapped[str] = mapped_column(String(255), default="")
    role: Mapped[str] = mapped_column(String(16))
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agency.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]

    agency: Mapped[Agency | None] = relationship()
    identities: Mapped[list[PersonIdentity]] = relationship(
        back_populates="person", cascade="all, delete-orphan"
    )


class PersonIdentity(Base):
    """A person's account on one platform (a person may be known on several)."""

    __tablename__ = "person_identity"
    __table_args__ = (UniqueConstraint("platform", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"))
    platform: Mapped[str] = mapped_column(String(16))
    user_id: Mapped[str] = mapped_column(String(64))
    private_chat_id: Mapped[str | None] = mapped_column(String(64))

    person: Mapped[Person] = relationship(back_populates="identities")


class Invitation(Base):
    """A one-time join code (stored hashed) for an agency and role."""

    __tablename__ = "invitation"

    id: Mapped[int] = mapped_column(primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(128), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agency.id"))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))  # links a platform
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    used_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    cancelled_at: Mapped[datetime | None]  # voided, e.g. when its person or creator was revoked

    agency: Mapped[Agency | None] = relationship()


class StatusUpdate(Base):
    """One report of one agency on one task for one reporting year; never overwritten."""

    __tablename__ = "status_update"

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("task.id", ondelete="CASCADE"), index=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    year: Mapped[int] = mapped_column(Integer, index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    status: Mapped[str] = mapped_column(String(16))
    progress: Mapped[int] = mapped_column(Integer, default=0)
    result: Mapped[str] = mapped_column(Text, default="")
    blocker: Mapped[bool] = mapped_column(Boolean, default=False)
    blocker_text: Mapped[str] = mapped_column(Text, default="")
    proposal: Mapped[str] = mapped_column(Text, default="")
    file_platform: Mapped[str | None] = mapped_column(String(16))
    file_ref: Mapped[str | None] = mapped_column(String(255))
    state: Mapped[str] = mapped_column(String(16), default=UpdateState.ACTIVE.value)
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("status_update.id"))
    returned_reason: Mapped[str | None] = mapped_column(Text)
    returned_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    returned_at: Mapped[datetime | None]
    source_key: Mapped[str | None] = mapped_column(String(128), unique=True)  # platform:update_id
    created_at: Mapped[datetime]

    task: Mapped[Task] = relationship()
    agency: Mapped[Agency] = relationship()
    author: Mapped[Person] = relationship(foreign_keys=[author_id])


class ProcessedUpdate(Base):
    """A platform update already handled, so a redelivery is answered but not re-applied."""

    __tablename__ = "processed_update"
    __table_args__ = (UniqueConstraint("platform", "update_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    update_id: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]


class Flow(Base):
    """State of a guided multi-step conversation (survives restarts, expires when idle)."""

    __tablename__ = "flow"
    __table_args__ = (UniqueConstraint("platform", "chat_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    chat_id: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32))
    step: Mapped[str] = mapped_column(String(32))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime]
    expires_at: Mapped[datetime]


class ReminderRule(Base):
    """A stored reminder rule; the scheduler derives occurrences from it."""

    __tablename__ = "reminder_rule"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str | None] = mapped_column(String(64), unique=True)  # default rules: idempotent
    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default=RuleStatus.ACTIVE.value)
    programme_id: Mapped[int | None] = mapped_column(ForeignKey("programme.id", ondelete="CASCADE"))
    task_id: Mapped[int | None] = mapped_column(ForeignKey("task.id", ondelete="CASCADE"))
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agency.id"))
    platform: Mapped[str | None] = mapped_column(String(16))
    chat_id: Mapped[str | None] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text, default="")
    fire_at: Mapped[datetime | None]
    cron: Mapped[str | None] = mapped_column(String(120))
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_by: Mapped[str] = mapped_column(String(96), default="")
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    programme: Mapped[Programme | None] = relationship()
    task: Mapped[Task | None] = relationship()
    agency: Mapped[Agency | None] = relationship()


class ReminderOutbox(Base):
    """One reminder for one chat at one due time: the delivery source of truth."""

    __tablename__ = "reminder_outbox"
    __table_args__ = (UniqueConstraint("rule_id", "platform", "chat_id", "due_at"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    rule_id: Mapped[int] = mapped_column(
        ForeignKey("reminder_rule.id", ondelete="CASCADE"), index=True
    )
    platform: Mapped[str] = mapped_column(String(16))
    chat_id: Mapped[str] = mapped_column(String(64))
    thread_id: Mapped[str | None] = mapped_column(String(64))  # the forum topic to post in
    due_at: Mapped[datetime]
    kind: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16), default=OutboxStatus.PENDING.value, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(index=True)
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_expires_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    sent_chat_id: Mapped[str | None] = mapped_column(String(64))  # differs after a migration
    message_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]

    rule: Mapped[ReminderRule] = relationship()


class ChatLinkChange(Base):
    """One change of a chat's agency link: who, when, which chat, agency before and after."""

    __tablename__ = "chat_link_change"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    chat_id: Mapped[str] = mapped_column(String(64), index=True)
    chat_title: Mapped[str | None] = mapped_column(String(255))
    agency_before_id: Mapped[int | None] = mapped_column(ForeignKey("agency.id"))
    agency_after_id: Mapped[int | None] = mapped_column(ForeignKey("agency.id"))
    by_user_id: Mapped[str] = mapped_column(String(64))
    by_name: Mapped[str] = mapped_column(String(255), default="")
    by_person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    by_role: Mapped[str] = mapped_column(String(16))  # "admin" or "focal"
    by_chat_admin: Mapped[bool | None] = mapped_column(Boolean)  # None: platform cannot tell
    thread_before: Mapped[str | None] = mapped_column(String(64))  # linked forum topics
    thread_after: Mapped[str | None] = mapped_column(String(64))
    changed_at: Mapped[datetime]

    agency_before: Mapped[Agency | None] = relationship(foreign_keys=[agency_before_id])
    agency_after: Mapped[Agency | None] = relationship(foreign_keys=[agency_after_id])


class FailedAttempt(Base):
    """One failed guess (of an invitation code) by an account or in a chat, for throttling."""

    __tablename__ = "failed_attempt"
    __table_args__ = (Index("ix_failed_attempt_key", "action", "scope", "platform", "key", "at"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    action: Mapped[str] = mapped_column(String(16))  # "register"
    scope: Mapped[str] = mapped_column(String(8))  # "user" or "chat"
    platform: Mapped[str] = mapped_column(String(16))
    key: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime]
