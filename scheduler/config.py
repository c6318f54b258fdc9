"""Reminder settings: calendar, default offsets, delivery pacing (from DAUMOI_* variables)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, time, timedelta

from core.config import parse_weekday
from core.limits import LIMITS, RateLimits
from core.settings import Settings
from scheduler.calendar import DEFAULT_TIMEZONE, WorkCalendar, WorkingHours, parse_clock


def _platform_rates() -> dict[str, RateLimits]:
    return {platform: limits.rates for platform, limits in LIMITS.items()}


@dataclass(frozen=True)
class ReminderConfig:
    """Everything the scheduler needs besides the database and the chat clients."""

    enabled: bool = True
    timezone: str = DEFAULT_TIMEZONE
    hours: WorkingHours = field(default_factory=WorkingHours)
    extra_holidays: frozenset[date] = frozenset()
    reminder_time: time = time(8, 30)
    days_before: tuple[int, ...] = (30, 14, 7, 3, 1, 0)  # 0 = on the day
    overdue_every: int = 3  # working days between overdue reminders
    escalation_every: int = 3  # working days between escalations to the coordinating agency
    compile_month_day: tuple[int, int] = (12, 31)  # yearly report due to the UBND
    compile_days_before: tuple[int, ...] = (14, 7, 3, 1, 0)
    task_overdue_limit: int = 5  # overdue reminders after a per-task deadline
    digest_weekday: int = 0  # weekly digest to the coordinating agency: Monday (0) …
    digest_time: time = time(8, 0)  # … at 08:00 local time
    catch_up: timedelta = timedelta(hours=12)  # occurrences missed while down are still sent
    expire_after: timedelta = timedelta(days=3)  # unsent rows older than this are skipped
    tick_seconds: float = 30.0
    lease: timedelta = timedelta(seconds=120)
    lease_margin: timedelta = timedelta(seconds=15)  # never start a send this close to expiry
    claim_limit: int = 500  # chats per claim at most
    claim_seconds: float = 2.0  # … and about this many seconds of sending at the overall rate
    concurrency: int = 32
    max_attempts: int = 6
    backoff_base: float = 30.0
    backoff_max: float = 900.0
    max_wait: float = 120.0  # run-once waits this long for retries that are due soon
    limits: Mapping[str, RateLimits] = field(default_factory=_platform_rates)  # core.limits

    def calendar(self) -> WorkCalendar:
        """The working calendar these settings describe."""
        return WorkCalendar(self.timezone, self.hours, extra_holidays=self.extra_holidays)

    def backoff(self, attempts: int) -> float:
        """Seconds to wait after the attempts-th transient failure."""
        return float(min(self.backoff_max, self.backoff_base * 2 ** max(0, attempts - 1)))

    def with_limits(self, platform: str, limits: RateLimits) -> ReminderConfig:
        """A copy with other limits for one platform (tests and the bench scale them)."""
        return replace(self, limits={**self.limits, platform: limits})

    @classmethod
    def from_settings(cls, settings: Settings) -> ReminderConfig:
        """The DAUMOI_REMINDER_* / DAUMOI_WORKING_* / rate settings, defaulting the rest."""
        config = settings.config
        base = cls(timezone=settings.timezone or DEFAULT_TIMEZONE)
        rates = base.limits["telegram"]
        telegram = replace(
            rates,
            overall_per_second=config.telegram_rate_per_second or rates.overall_per_second,
            group_per_minute=config.telegram_group_per_minute or rates.group_per_minute,
            chat_per_second=config.telegram_chat_per_second or rates.chat_per_second,
        )
        return replace(
            base,
            enabled=config.reminders,
            hours=WorkingHours.parse(config.working_hours, config.working_days),
            extra_holidays=frozenset(
                date.fromisoformat(part) for part in _parts(config.extra_holidays)
            ),
            reminder_time=parse_clock(config.reminder_time),
            digest_weekday=parse_weekday(config.digest_day),
            digest_time=parse_clock(config.digest_time),
            days_before=tuple(
                sorted({int(part) for part in _parts(config.reminder_days_before)}, reverse=True)
            ),
            overdue_every=config.reminder_overdue_every,
            catch_up=timedelta(hours=config.reminder_catch_up_hours),
            tick_seconds=config.reminder_tick_seconds,
            lease=timedelta(seconds=config.reminder_lease_seconds),
            lease_margin=timedelta(seconds=config.reminder_lease_margin),
            concurrency=config.reminder_concurrency,
            max_attempts=config.reminder_max_attempts,
            backoff_base=config.reminder_backoff_seconds,
            max_wait=config.reminder_max_wait_seconds,
            limits={**base.limits, "telegram": telegram},
        )


def _parts(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]
