"""What admins type to reminder commands: days, times of day and recurring schedules."""

from __future__ import annotations

import re
from calendar import monthrange
from dataclasses import dataclass
from datetime import date, time

from core.textnorm import fold
from scheduler import cron
from scheduler.horizon import Horizon

_DATE_RE = re.compile(r"^([0-9]{1,2})[/.-]([0-9]{1,2})[/.-]([0-9]{4})$")
_TIME_RE = re.compile(r"^([0-9]{1,2})(?:[:hg]([0-9]{2})?)?$", re.IGNORECASE)
_CRON_START = re.compile(r"^[0-9*][0-9*/,\-]*$")  # a minute field: the line is crontab
_WEEKDAYS = {"thu2": "mon", "thu3": "tue", "thu4": "wed", "thu5": "thu", "thu6": "fri"}
_WEEKDAYS |= {"thu7": "sat", "cn": "sun", "chunhat": "sun"}
_WEEKDAY_LABEL = {"mon": "thứ Hai", "tue": "thứ Ba", "wed": "thứ Tư", "thu": "thứ Năm"}
_WEEKDAY_LABEL |= {"fri": "thứ Sáu", "sat": "thứ Bảy", "sun": "Chủ nhật"}


def parse_day(text: str) -> date | None:
    """dd/mm/yyyy (or with . or -) as a date, None when it is not one."""
    match = _DATE_RE.match(text.strip())
    if match is None:
        return None
    day, month, year = (int(part) for part in match.groups())
    try:
        return date(year, month, day)
    except ValueError:
        return None


def impossible_day(text: str) -> str | None:
    """Why a well-formed dd/mm/yyyy is no real date (30/02/2027), None when it is fine."""
    match = _DATE_RE.match(text.strip())
    if match is None or parse_day(text) is not None:
        return None
    day, month, year = (int(part) for part in match.groups())
    stamp = f"{day:02d}/{month:02d}/{year:04d}"
    if not 1 <= month <= 12:
        return f"Ngày {stamp} không có thật: tháng chỉ từ 1 đến 12."
    if year < 1:
        return f"Ngày {stamp} không có thật: năm phải từ 0001 trở đi."
    last = monthrange(year, month)[1]
    return f"Ngày {stamp} không có thật: tháng {month}/{year} chỉ có {last} ngày."


def parse_time(text: str) -> time | None:
    """HH:MM, 8h30, 8g, 14 as a time of day, None when it is not one."""
    match = _TIME_RE.match(text.strip())
    if match is None:
        return None
    hour, minute = int(match.group(1)), int(match.group(2) or 0)
    if hour > 23 or minute > 59:
        return None
    return time(hour, minute)


def out_of_horizon(day: date, span: Horizon, example: str) -> str | None:
    """A polite refusal when day lies outside the programme's period (plus a few years)."""
    if day in span:
        return None
    return (
        f"Ngày {day:%d/%m/%Y} nằm ngoài thời gian theo dõi của Chương trình; anh/chị chọn một "
        f"ngày {span.describe()}, ví dụ: {example}."
    )


@dataclass(frozen=True)
class Schedule:
    """A recurring schedule typed by an admin: the crontab line and how to say it."""

    cron: str
    label: str
    text: str


def parse_schedule(args: str) -> Schedule | str:
    """`hangngay 08:30 …`, `thu2 08:30 …`, `ngay5 08:30 …` or `30 8 * * 1 …`; else a reason."""
    words = args.split()
    if words and _CRON_START.match(words[0]):
        if len(words) < 6:
            return f"thiếu trường cron hoặc nội dung. {cron.HELP}"
        try:
            line = cron.parse(" ".join(words[:5]))
        except cron.CronError as exc:
            return f"{exc}. {cron.HELP}"
        return Schedule(line.expression, f"theo lịch cron “{line.expression}”", " ".join(words[5:]))
    if len(words) < 3:
        return "thiếu lịch, giờ hoặc nội dung"
    when, clock_text, text = fold(words[0]).replace(" ", ""), words[1], " ".join(words[2:])
    clock = parse_time(clock_text)
    if clock is None:
        return f"giờ “{clock_text}” chưa đúng (ví dụ 08:30)"
    minute_hour = f"{clock.minute} {clock.hour}"
    stamp = f"{clock:%H:%M}"
    if when in ("hangngay", "moingay"):
        return Schedule(f"{minute_hour} * * mon-fri", f"{stamp} mỗi ngày làm việc", text)
    if when in _WEEKDAYS:
        day = _WEEKDAYS[when]
        return Schedule(
            f"{minute_hour} * * {day}", f"{stamp} {_WEEKDAY_LABEL[day]} hằng tuần", text
        )
    monthly = re.fullmatch(r"ngay(\d{1,2})", when)
    if monthly and 1 <= int(monthly.group(1)) <= 31:
        day_of_month = int(monthly.group(1))
        return Schedule(
            f"{minute_hour} {day_of_month} * *", f"{stamp} ngày {day_of_month} hằng tháng", text
        )
    return f"không hiểu lịch “{words[0]}”"
