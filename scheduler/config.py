"""Reminder settings: calendar, default offsets, delivery pacing (from DAUMOI_* variables)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, time, timedelta

from core.limits import LIMITS, RateLimits
from core.settings import Settings
from core.textnorm import fold
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
        """Read DAUMOI_REMINDER_* / DAUMOI_WORKING_* variables, defaulting the rest."""
        env = settings.extra
        base = cls(timezone=settings.timezone or DEFAULT_TIMEZONE)
        hours = base.hours
        if env.get("DAUMOI_WORKING_HOURS") or env.get("DAUMOI_WORKING_DAYS"):
            hours = WorkingHours.parse(
                env.get("DAUMOI_WORKING_HOURS", "08:00-17:00"), env.get("DAUMOI_WORKING_DAYS", "")
            )
        rates = base.limits["telegram"]
        telegram = replace(
            rates,
            overall_per_second=_rate(
                env, "DAUMOI_TELEGRAM_RATE_PER_SECOND", rates.overall_per_second
            ),
            group_per_minute=_rate(env, "DAUMOI_TELEGRAM_GROUP_PER_MINUTE", rates.group_per_minute),
            chat_per_second=_rate(env, "DAUMOI_TELEGRAM_CHAT_PER_SECOND", rates.chat_per_second),
        )
        return replace(
            base,
            enabled=env.get("DAUMOI_REMINDERS", "1").strip().lower() not in ("0", "false", "no"),
            hours=hours,
            extra_holidays=frozenset(
                date.fromisoformat(part) for part in _parts(env.get("DAUMOI_EXTRA_HOLIDAYS", ""))
            ),
            reminder_time=parse_clock(env.get("DAUMOI_REMINDER_TIME", "08:30")),
            digest_weekday=parse_weekday(env.get("DAUMOI_DIGEST_DAY", "thu2")),
            digest_time=parse_clock(env.get("DAUMOI_DIGEST_TIME", "08:00")),
            days_before=_ints(env, "DAUMOI_REMINDER_DAYS_BEFORE", base.days_before),
            overdue_every=int(_float(env, "DAUMOI_REMINDER_OVERDUE_EVERY", base.overdue_every)),
            catch_up=timedelta(hours=_float(env, "DAUMOI_REMINDER_CATCH_UP_HOURS", 12)),
            tick_seconds=_float(env, "DAUMOI_REMINDER_TICK_SECONDS", base.tick_seconds),
            lease=timedelta(seconds=_float(env, "DAUMOI_REMINDER_LEASE_SECONDS", 120)),
            lease_margin=timedelta(seconds=_float(env, "DAUMOI_REMINDER_LEASE_MARGIN", 15)),
            concurrency=int(_float(env, "DAUMOI_REMINDER_CONCURRENCY", base.concurrency)),
            max_attempts=int(_float(env, "DAUMOI_REMINDER_MAX_ATTEMPTS", base.max_attempts)),
            backoff_base=_float(env, "DAUMOI_REMINDER_BACKOFF_SECONDS", base.backoff_base),
            max_wait=_float(env, "DAUMOI_REMINDER_MAX_WAIT_SECONDS", base.max_wait),
            limits={**base.limits, "telegram": telegram},
        )


_WEEKDAYS = {"mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6, "cn": 6}
_WEEKDAYS |= {f"thu{n}": n - 2 for n in range(2, 8)} | {f"t{n}": n - 2 for n in range(2, 8)}
_WEEKDAYS |= {f"thu{name}": n for n, name in enumerate(("hai", "ba", "tu", "nam", "sau", "bay"))}
_WEEKDAYS |= {"chunhat": 6}


def parse_weekday(text: str) -> int:
    """ "thu2"/"thứ hai"/"mon"/"monday" → 0 … "cn"/"chủ nhật"/"sun" → 6 (else ValueError)."""
    key = "".join(fold(text).split())
    found = _WEEKDAYS.get(key, _WEEKDAYS.get(key[:3]))
    if found is None:
        raise ValueError(f"unknown weekday: {text!r} (thu2…thu7, cn or mon…sun)")
    return found


def _parts(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    value = env.get(name, "").strip()
    return float(value) if value else float(default)


def _rate(env: Mapping[str, str], name: str, default: float | None) -> float | None:
    value = env.get(name, "").strip()
    return float(value) if value else default


def _ints(env: Mapping[str, str], name: str, default: tuple[int, ...]) -> tuple[int, ...]:
    value = env.get(name, "").strip()
    if not value:
        return default
    return tuple(sorted({int(part) for part in _parts(value)}, reverse=True))
