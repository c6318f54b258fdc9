"""Standard 5-field crontab lines: parsed here, fired by APScheduler, explained in Vietnamese.

APScheduler 3 numbers weekdays from Monday = 0, while crontab uses Sunday = 0 (or 7), and its
own field syntax differs from crontab's (`*/tue`, `last`, `1st mon`). So each field is parsed
here into explicit values with crontab's rules and handed to APScheduler as names and lists.
Like Vixie cron, when both day of month and day of week are restricted (neither starts with
`*`), a day matches if EITHER matches.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

EXAMPLE = "30 8 * * 1-5 (8:30 từ thứ Hai đến thứ Sáu)"
HELP = (
    "Lịch cron gồm 5 trường cách nhau bởi dấu cách: phút (0-59), giờ (0-23), ngày trong tháng "
    "(1-31), tháng (1-12), thứ trong tuần (0-7; 0 và 7 là Chủ nhật, 1 là thứ Hai). Mỗi trường "
    f"có thể là *, một số, khoảng a-b, danh sách a,b và bước /n; ví dụ: {EXAMPLE}."
)
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_ITEM = re.compile(r"^(?:(\*)|([0-9a-z]+)(?:-([0-9a-z]+))?)(?:/([0-9]+))?$")
_MAX_DIGITS = 4  # longer numbers are never valid and are refused before int()
_LONGEST_MONTH = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


class CronError(ValueError):
    """A crontab line that is not valid; str() is a Vietnamese sentence for the user."""


@dataclass(frozen=True)
class _Field:
    label: str
    low: int
    high: int
    names: tuple[str, ...] = ()
    name_base: int = 0  # the number of the first name

    def value(self, text: str, *, range_end: bool = False) -> int:
        if text.isdigit():
            if len(text) > _MAX_DIGITS or not self.low <= int(text) <= self.high:
                raise CronError(f"{self.label} “{text}” phải từ {self.low} đến {self.high}")
            return int(text)
        if text in self.names:
            number = self.names.index(text) + self.name_base
            # "fri-sun": Sunday closing a range is 7, as in crontab
            return 7 if range_end and number == 0 and self.high == 7 else number
        raise CronError(f"{self.label} không hiểu “{text}”")

    def parse(self, text: str) -> frozenset[int]:
        found: set[int] = set()
        for item in text.lower().split(","):
            match = _ITEM.match(item)
            if match is None:
                raise CronError(f"{self.label} không hiểu “{item or text}”")
            star, first, last, step_text = match.groups()
            if star:
                low, high = self.low, self.high
            else:
                low = self.value(first)
                # "5/15" means 5, 20, 35, 50 (from 5 to the end), as most crons read it
                high = (
                    self.value(last, range_end=True) if last else (self.high if step_text else low)
                )
            if low > high:
                raise CronError(f"{self.label} có khoảng “{item}” ngược chiều")
            step = 1
            if step_text is not None:
                if len(step_text) > _MAX_DIGITS or not 1 <= int(step_text) <= self.high:
                    raise CronError(f"{self.label} có bước “/{step_text}” không hợp lệ")
                step = int(step_text)
            found.update(range(low, high + 1, step))
        return frozenset(found)


_FIELDS = (
    _Field("phút", 0, 59),
    _Field("giờ", 0, 23),
    _Field("ngày trong tháng", 1, 31),
    _Field("tháng", 1, 12, _MONTHS, name_base=1),
    _Field("thứ trong tuần", 0, 7, _DAYS),
)


@dataclass(frozen=True)
class Cron:
    """A parsed crontab line (weekdays 0 = Sunday … 6 = Saturday)."""

    expression: str
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]
    days_restricted: bool
    weekdays_restricted: bool

    def trigger(self, timezone: str) -> Any:
        """An APScheduler 3 trigger firing exactly when crontab would."""
        from apscheduler.triggers.combining import OrTrigger
        from apscheduler.triggers.cron import CronTrigger

        def build(day: str, day_of_week: str) -> Any:
            return CronTrigger(
                minute=_listed(self.minutes, 0, 59),
                hour=_listed(self.hours, 0, 23),
                day=day,
                month=_listed(self.months, 1, 12),
                day_of_week=day_of_week,
                timezone=timezone,
            )

        days = _listed(self.days, 1, 31)
        weekdays = "*" if self.weekdays == frozenset(range(7)) else _weekday_names(self.weekdays)
        if self.days_restricted and self.weekdays_restricted:
            return OrTrigger([build(days, "*"), build("*", weekdays)])
        return build(days, weekdays)


def _listed(values: frozenset[int], low: int, high: int) -> str:
    if values == frozenset(range(low, high + 1)):
        return "*"
    return ",".join(str(value) for value in sorted(values))


def _weekday_names(weekdays: frozenset[int]) -> str:
    # Names, not numbers: APScheduler 3 reads 0 as Monday.
    return ",".join(_DAYS[day] for day in sorted(weekdays))


def parse(expression: str) -> Cron:
    """Parse a 5-field crontab line; CronError (Vietnamese) when it is not one."""
    fields = expression.split()
    if len(fields) != len(_FIELDS):
        raise CronError(f"lịch cron cần đúng 5 trường, “{expression.strip()}” có {len(fields)}")
    values = [spec.parse(text) for spec, text in zip(_FIELDS, fields, strict=True)]
    minutes, hours, days, months, weekdays = values
    possible = any(day <= _LONGEST_MONTH[month - 1] for day in days for month in months)
    if not possible and fields[4].startswith("*"):  # no weekday alternative: it never fires
        raise CronError(f"lịch “{' '.join(fields)}” không bao giờ đến (tháng không có ngày đó)")
    return Cron(
        expression=" ".join(fields),
        minutes=minutes,
        hours=hours,
        days=days,
        months=months,
        weekdays=frozenset(day % 7 for day in weekdays),
        days_restricted=not fields[2].startswith("*"),
        weekdays_restricted=not fields[4].startswith("*"),
    )


def trigger(expression: str, timezone: str) -> Any:
    """The APScheduler trigger of a crontab line (CronError when invalid)."""
    return parse(expression).trigger(timezone)
