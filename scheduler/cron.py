"""Standard 5-field crontab lines: parsed here, fired by APScheduler, explained in Vietnamese,
and moved onto working slots (working_slots) for recurring reminders.

APScheduler 3 numbers weekdays from Monday = 0, while crontab uses Sunday = 0 (or 7), and its
own field syntax differs from crontab's (`*/tue`, `last`, `1st mon`). So each field is parsed
here into explicit values with crontab's rules and handed to APScheduler as names and lists.
Like Vixie cron, when both day of month and day of week are restricted (neither starts with
`*`), a day matches if EITHER matches.
"""

from __future__ import annotations

import heapq
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from itertools import islice
from typing import Any

from scheduler.calendar import WorkCalendar, add_days, as_utc

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
MAX_FIRES = 5000  # per planning window; guards against "every minute" rules
_TICK = timedelta(microseconds=1)


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


@lru_cache(maxsize=256)
def cron_trigger(expression: str, timezone: str) -> Any:
    """An APScheduler trigger for a standard 5-field crontab line (CronError when invalid).

    Cached: building one costs more than computing a few fire times, and a trigger keeps no
    state between get_next_fire_time calls.
    """
    return trigger(expression, timezone)


def cron_fire_times(
    expression: str, timezone: str, start: datetime, end: datetime
) -> list[datetime]:
    """Fire times of a crontab line with start ≤ t ≤ end (at most a few thousand)."""
    return list(islice(_fires(cron_trigger(expression, timezone), start, end), MAX_FIRES))


def _fires(trigger: Any, start: datetime, end: datetime) -> Iterator[datetime]:
    """Fire times with start ≤ t ≤ end, earliest first, computed one at a time."""
    moment: datetime | None = trigger.get_next_fire_time(None, start)
    while moment is not None and moment <= end:
        yield moment
        moment = trigger.get_next_fire_time(moment, moment + timedelta(seconds=1))


def _first_fire(trigger: Any, start: datetime, before: datetime) -> datetime | None:
    return next(_fires(trigger, start, before - _TICK), None)


def working_slots(
    trigger: Any, calendar: WorkCalendar, start: datetime, end: datetime
) -> Iterator[datetime]:
    """The distinct working slots (slot_at_or_before) of a trigger's fire times, earliest first.

    Lazy and cheap however often the trigger fires: every slot lies on a working day P, and the
    fire times that move onto P are those from P's opening to the next working day's opening.
    Those are read as a few ordered streams (P's own office hours, each day off's office hours)
    and single probes (any fire after hours, or before opening), merged in order; so the first
    few slots of an every-minute rule cost a few dozen trigger calls, not thousands.
    """
    start, end = as_utc(start), as_utc(end)
    hours = calendar.hours
    day = calendar.working_day_at_or_before(calendar.today(start))
    cursor = calendar.at(day, hours.start)
    last_day = calendar.today(end)
    while (fire := trigger.get_next_fire_time(None, cursor)) is not None:
        day = calendar.slot_at_or_before(fire).date()
        if day > last_day:
            return
        following = calendar.working_day_at_or_after(add_days(day, 1))
        previous: datetime | None = None
        for slot in heapq.merge(*_streams(trigger, calendar, day, following, start)):
            if slot == previous:
                continue
            previous = slot
            if as_utc(slot) > end:
                return
            if as_utc(slot) > start:
                yield slot
        cursor = calendar.at(following, hours.start)


def _streams(
    trigger: Any, calendar: WorkCalendar, day: date, following: date, start: datetime
) -> list[Iterator[datetime]]:
    """Ordered streams of the slots on working day `day` later than start (see working_slots)."""
    hours = calendar.hours
    floor = hours.start  # the earliest time of day worth reading on `day`
    if calendar.today(start) == day:
        floor = max(floor, calendar.local(start).time().replace(tzinfo=None))

    def later(clock: time) -> bool:
        return calendar.at(day, clock) > start

    def moved(fires: Iterator[datetime]) -> Iterator[datetime]:
        for fire in fires:
            yield calendar.at(day, calendar.local(fire).time().replace(tzinfo=None))

    def probe(begin: datetime, before: datetime, slot: time) -> Iterator[datetime]:
        if later(slot) and _first_fire(trigger, begin, before) is not None:
            yield calendar.at(day, slot)

    def after_hours(on: date) -> Iterator[datetime]:
        begin = calendar.at(on, hours.last_slot) + _TICK
        return probe(begin, calendar.at(add_days(on, 1), time(0)), hours.last_slot)

    found = [
        _fires(trigger, calendar.at(day, floor), calendar.at(day, hours.last_slot)),
        after_hours(day),
    ]
    off = add_days(day, 1)
    while off < following:
        opening, last = calendar.at(off, hours.start), calendar.at(off, hours.last_slot)
        found.append(probe(calendar.at(off, time(0)), opening, hours.start))
        found.append(moved(_fires(trigger, calendar.at(off, floor), last)))
        found.append(after_hours(off))
        off = add_days(off, 1)
    found.append(
        probe(calendar.at(following, time(0)), calendar.at(following, hours.start), hours.start)
    )
    return found
