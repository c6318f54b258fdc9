"""The system rule that owns admin alerts (delivery problems, agencies nobody can reach)."""

from __future__ import annotations

from data.store.models import ReminderKind, ReminderRule
from scheduler.calendar import WorkCalendar
from scheduler.kinds.base import RuleKind


class Alerts(RuleKind):
    """Never planned: delivery and service queue its rows when something goes wrong."""

    name = ReminderKind.ALERTS.value
    default = "system"
    system = True

    def describe(self, rule: ReminderRule, calendar: WorkCalendar) -> str:
        """What the rule is for."""
        return "Cảnh báo cho quản trị viên khi nhắc việc gửi không được (của hệ thống)"
