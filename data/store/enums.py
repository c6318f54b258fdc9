"""The stored vocabularies: agency kinds, roles, task statuses, reminder kinds and states."""

from __future__ import annotations

from enum import StrEnum


class AgencyKind(StrEnum):
    """Broad kind of an agency, used for display and routing."""

    DEPARTMENT = "department"  # Sở
    BOARD = "board"  # Ban quản lý
    OFFICE = "office"  # Văn phòng
    BANK = "bank"
    INSURANCE = "insurance"
    MEDIA = "media"
    LOCAL = "local"  # UBND cấp huyện/xã
    COLLECTIVE = "collective"  # "Các sở, ban ngành"
    ENTERPRISE = "enterprise"
    OTHER = "other"


class AliasKind(StrEnum):
    """How an alias of an agency came about."""

    VARIANT = "variant"  # spelling seen in a decision
    ABBREVIATION = "abbreviation"  # what people type: SKHĐT, VHTTDL


class Role(StrEnum):
    """What a person may do."""

    ADMIN = "admin"  # coordinating agency staff
    FOCAL = "focal"  # cán bộ đầu mối of one agency
    OBSERVER = "observer"  # leaders: read-only


class TaskStatus(StrEnum):
    """Status vocabulary of Vietnamese task-tracking systems."""

    NOT_STARTED = "not_started"  # Chưa triển khai
    IN_PROGRESS = "in_progress"  # Đang thực hiện
    DONE = "done"  # Hoàn thành


class UpdateState(StrEnum):
    """Lifecycle of one status update (history is never overwritten)."""

    ACTIVE = "active"
    SUPERSEDED = "superseded"  # corrected by a newer version from its author
    RETURNED = "returned"  # sent back for rework by an admin


class ReminderKind(StrEnum):
    """What a reminder rule produces."""

    CYCLE = "cycle"  # every agency reports before the programme's yearly deadline
    ESCALATION = "escalation"  # coordinating agency: who has not reported yet
    COMPILE = "compile"  # coordinating agency: compile the yearly report
    TASK_DEADLINE = "task_deadline"  # a deadline an admin set on one task
    ONCE = "once"  # a one-off reminder
    RECURRING = "recurring"  # a cron-like reminder
    ALERTS = "alerts"  # system rule owning admin alerts (delivery problems, coverage gaps)
    DIGEST = "digest"  # coordinating agency: weekly digest (changes, silent agencies, blockers)


class RuleStatus(StrEnum):
    """Whether a rule currently produces reminders."""

    ACTIVE = "active"
    PAUSED = "paused"
    CANCELLED = "cancelled"


class OutboxStatus(StrEnum):
    """Lifecycle of one materialised reminder."""

    PENDING = "pending"
    SENT = "sent"
    DEAD = "dead"  # gave up (chat gone, refused, retries exhausted); admins were told
    SKIPPED = "skipped"  # its rule was paused or cancelled before it went out
