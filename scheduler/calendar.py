"""Working calendar: Asia/Ho_Chi_Minh time, office hours, weekends and Vietnamese holidays."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays

DEFAULT_TIMEZONE = "Asia/Ho_Chi_Minh"
WEEKDAY_NAMES = ("Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ nhật")
_MAX_SEARCH_DAYS = 60  # longest run of days off we step over (Tết is about 9)


class OutOfRange(ValueError):
    """A calendar step would leave the dates Python can represent (years 1…9999)."""


def add_days(day: date, days: int) -> date:
    """day + days, raising OutOfRange (never OverflowError) at the ends of the calendar."""
    try:
        return day + timedelta(days=days)
    except OverflowError:
        raise OutOfRange(f"{day} {days:+d} days is outside years 1-9999") from None


def as_utc(moment: datetime) -> datetime:
    """An aware UTC datetime (SQLite hands back naive values, stored as UTC)."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        raise OutOfRange(f"{moment} is outside years 1-9999 in UTC") from None


def parse_clock(text: str) -> time:
    """Parse "8:30" / "08h30" / "8" into a time of day."""
    cleaned = text.strip().lower().replace("h", ":").replace(".", ":")
    hour, _, minute = cleaned.partition(":")
    return time(int(hour), int(minute or 0))


@dataclass(frozen=True)
class WorkingHours:
    """Office hours: [start, end) on the given weekdays (0 = Monday)."""

    start: time = time(8, 0)
    end: time = time(17, 0)
    weekdays: frozenset[int] = frozenset(range(5))
    # A reminder pulled back to the end of a day goes out this long before closing time.
    last_slot_margin: timedelta = timedelta(minutes=30)

    @classmethod
    def parse(cls, text: str, weekdays: str = "") -> WorkingHours:
        """Build from "08:00-17:00" and an optional "0-4" / "0,1,2,3,4" weekday list."""
        start_text, _, end_text = text.partition("-")
        days = frozenset(range(5))
        if weekdays.strip():
            days = frozenset(_parse_days(weekdays))
        return cls(start=parse_clock(start_text), end=parse_clock(end_text), weekdays=days)

    @property
    def last_slot(self) -> time:
        """The latest time of day a reminder is sent."""
        moment = datetime.combine(date(2000, 1, 1), self.end) - self.last_slot_margin
        return max(moment.time(), self.start)


def _parse_days(text: str) -> Iterable[int]:
    for part in text.split(","):
        low, _, high = part.strip().partition("-")
        yield from range(int(low), int(high or low) + 1)


@dataclass
class WorkCalendar:
    """Which instants are working time, and the nearest working slot before or after one."""

    timezone: str = DEFAULT_TIMEZONE
    hours: WorkingHours = field(default_factory=WorkingHours)
    country: str = "VN"
    extra_holidays: frozenset[date] = frozenset()

    def __post_init__(self) -> None:
        self.tz = ZoneInfo(self.timezone)
        # observed=True adds the substitute days off when a holiday falls on a weekend.
        self._holidays = holidays.country_holidays(self.country, observed=True)

    # -- days -----------------------------------------------------------------------------

    def holiday_name(self, day: date) -> str | None:
        """The public holiday on day, if any."""
        if day in self.extra_holidays:
            return "Ngày nghỉ bổ sung"
        name = self._holidays.get(day)
        return str(name) if name else None

    def is_working_day(self, day: date) -> bool:
        """A weekday of the office week that is not a public holiday."""
        return day.weekday() in self.hours.weekdays and self.holiday_name(day) is None

    def working_day_at_or_before(self, day: date) -> date:
        """day itself if it is a working day, else the closest working day before it."""
        for _ in range(_MAX_SEARCH_DAYS):
            if self.is_working_day(day):
                return day
            day = add_days(day, -1)
        raise ValueError("no working day found")

    def working_day_at_or_after(self, day: date) -> date:
        """day itself if it is a working day, else the closest working day after it."""
        for _ in range(_MAX_SEARCH_DAYS):
            if self.is_working_day(day):
                return day
            day = add_days(day, 1)
        raise ValueError("no working day found")

    def add_working_days(self, day: date, count: int) -> date:
        """The working day count working days after day (count ≥ 1)."""
        for _ in range(count):
            day = self.working_day_at_or_after(add_days(day, 1))
        return day

    # -- instants -------------------------------------------------------------------------

    def local(self, moment: datetime) -> datetime:
        """moment in the calendar's time zone (OutOfRange past 31/12/9999 local time)."""
        try:
            return as_utc(moment).astimezone(self.tz)
        except OverflowError:
            raise OutOfRange(f"{moment} is outside years 1-9999 in {self.timezone}") from None

    def at(self, day: date, clock: time) -> datetime:
        """The aware local datetime of day at clock."""
        return datetime.combine(day, clock, tzinfo=self.tz)

    def today(self, moment: datetime) -> date:
        """The local date of moment."""
        return self.local(moment).date()

    def is_working_time(self, moment: datetime) -> bool:
        """Within office hours of a working day."""
        local = self.local(moment)
        clock = local.time().replace(tzinfo=None)
        return self.is_working_day(local.date()) and self.hours.start <= clock < self.hours.end

    def _clamp(self, clock: time) -> time:
        return min(max(clock, self.hours.start), self.hours.last_slot)

    def slot_at_or_before(self, moment: datetime) -> datetime:
        """The working slot to use instead of moment, never later than it.

        Within office hours: moment itself; after closing: the day's last slot; on a day off
        (or before opening): the previous working day at the same time of day, kept inside
        office hours, so a reminder planned for a Saturday 08:30 goes out on Friday 08:30.
        """
        local = self.local(moment)
        day, clock = local.date(), local.time().replace(tzinfo=None)
        if self.is_working_day(day) and clock >= self.hours.start:
            return local if clock <= self.hours.last_slot else self.at(day, self.hours.last_slot)
        previous = self.working_day_at_or_before(add_days(day, -1))
        return self.at(previous, self._clamp(clock))

    def slot_at_or_after(self, moment: datetime) -> datetime:
        """The working slot to use instead of moment, never earlier than it (after deadlines)."""
        local = self.local(moment)
        day, clock = local.date(), local.time().replace(tzinfo=None)
        if self.is_working_day(day):
            if clock < self.hours.start:
                return self.at(day, self.hours.start)
            if clock <= self.hours.last_slot:
                return local
            return self.at(self.working_day_at_or_after(add_days(day, 1)), self.hours.start)
        following = self.working_day_at_or_after(add_days(day, 1))
        return self.at(following, self._clamp(clock))

    def describe_day(self, day: date) -> str:
        """ "Thứ Ba, 15/12/2026"."""
        return f"{WEEKDAY_NAMES[day.weekday()]}, {day:%d/%m/%Y}"
