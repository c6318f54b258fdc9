"""The registry of reminder rule kinds: one registration line per kind, in defaults order."""

from __future__ import annotations

from data.store.models import ReminderRule
from scheduler.kinds import (
    alerts,
    compilation,
    cycle,
    digest,
    escalation,
    once,
    recurring,
    task_deadline,
)
from scheduler.kinds.base import DefaultScope, RuleKind

KINDS: dict[str, RuleKind] = {}
_UNKNOWN = RuleKind()  # a stored kind no module handles: never fires, reaches nobody


def register(kind: RuleKind) -> RuleKind:
    """Add a kind to the registry (under its stored name) and return it."""
    KINDS[kind.name] = kind
    return kind


register(cycle.Cycle())
register(escalation.Escalation())
register(compilation.Compile())
register(task_deadline.TaskDeadline())
register(once.Once())
register(recurring.Recurring())
register(alerts.Alerts())
register(digest.Digest())


def kind_of(rule: ReminderRule) -> RuleKind:
    """The kind of a stored rule."""
    return KINDS.get(rule.kind, _UNKNOWN)


def producing(occurrence_kind: str) -> RuleKind:
    """The kind whose rules produce occurrences of this kind ("before" → the cycle)."""
    for kind in KINDS.values():
        if occurrence_kind in kind.labels:
            return kind
    return _UNKNOWN


def label(occurrence_kind: str) -> str:
    """What listings and admin notices call an occurrence kind ("nhắc việc" when unknown)."""
    return producing(occurrence_kind).labels.get(occurrence_kind, "nhắc việc")


def stale_after_deadline() -> frozenset[str]:
    """Occurrence kinds not sent once their deadline has passed (caught up too late)."""
    return frozenset().union(*(kind.stale_after_deadline for kind in KINDS.values()))


def defaults(scope: DefaultScope) -> list[RuleKind]:
    """The kinds ensure_defaults creates one rule of per programme ("programme") or overall."""
    return [kind for kind in KINDS.values() if kind.default == scope]
