"""Crontab lines: standard 5-field semantics, Vietnamese errors, and the working slots they give."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from itertools import islice

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scheduler import cron
from scheduler.calendar import WorkCalendar
from scheduler.cron import _fires, cron_trigger, working_slots
from tests.scheduler_support import VN

TZ = "Asia/Ho_Chi_Minh"
CAL = WorkCalendar()
# Thursday 26/11/2026, just after 09:00 in Vietnam.
REF = datetime(2026, 11, 26, 9, 0, 30, tzinfo=VN)
# Words of APScheduler's (or Python's) own error texts: none may reach a user.
ENGLISH = re.compile(
    r"\b(must|value|field|expression|invalid|error|range|minimum|maximum|unrecognized|wrong|"
    r"expected|got|higher|lower|day_of_week|weekday|month|hour|minute)\b",
    re.IGNORECASE,
)

# (crontab line, next fire after REF as dd/mm/yyyy HH:MM), worked out by hand from crontab(5).
VALID = [
    ("0 8 * * */2", "28/11/2026 08:00"),  # Sun, Tue, Thu, Sat: Saturday
    ("0 8 * * 0-6", "27/11/2026 08:00"),  # every day
    ("0 8 * * 0", "29/11/2026 08:00"),  # 0 is Sunday
    ("0 8 * * 7", "29/11/2026 08:00"),  # so is 7
    ("30 8 * * 1", "30/11/2026 08:30"),  # 1 is Monday
    ("30 8 * * 1-5", "27/11/2026 08:30"),
    ("0 10 * * 4", "26/11/2026 10:00"),  # 4 is Thursday: later today
    ("0 9 * * 4", "03/12/2026 09:00"),  # 09:00 today has passed
    ("0 8 * * 5-7", "27/11/2026 08:00"),  # Friday to Sunday
    ("0 8 * * fri-sun", "27/11/2026 08:00"),
    ("0 8 * * SAT,Sun", "28/11/2026 08:00"),
    ("0 8 * * 1/2", "27/11/2026 08:00"),  # 1, 3, 5, 7: Mon, Wed, Fri, Sun
    ("0 8 1 * 1", "30/11/2026 08:00"),  # day 1 OR Monday (both restricted)
    ("0 8 2 * */2", "02/01/2027 08:00"),  # day 2 AND Sun/Tue/Thu/Sat (weekday starts with *)
    ("0 8 1 * *", "01/12/2026 08:00"),
    ("*/15 * * * *", "26/11/2026 09:15"),
    ("5/15 * * * *", "26/11/2026 09:05"),
    ("0 12 * jan,feb *", "01/01/2027 12:00"),
    ("0 0 29 2 *", "29/02/2028 00:00"),
    ("59 23 31 12 *", "31/12/2026 23:59"),
    ("0 0 * * 6-7", "28/11/2026 00:00"),
    ("0 7-9/2 * * *", "27/11/2026 07:00"),
]

INVALID = [
    "* * * * 8",  # used to become Monday
    "60 * * * *",
    "* 24 * * *",
    "* * 0 * *",
    "* * 32 * *",
    "* * * 13 *",
    "* * * 0 *",
    "0 8 * * 6-1",  # backwards
    "*/0 * * * *",
    "0 8 * * mon-",
    "abc * * * *",
    "0 8 * *",
    "0 8 * * * *",
    "99999999999999999999999 * * * *",
    "0 0 31 2 *",  # never comes
    "0 0 30 2 *",
    "0 8 L * *",
    "0 8 * * 1#2",
    "0 8 ? * *",
    "0 8 * * last",
    "0 8 1st * *",
    "0 8 * * -1",
    ",, * * * *",
]


@pytest.mark.parametrize(("line", "expected"), VALID)
def test_next_fire_time_follows_crontab(line: str, expected: str) -> None:
    fire = cron.trigger(line, TZ).get_next_fire_time(None, REF)
    assert fire is not None and f"{fire.astimezone(VN):%d/%m/%Y %H:%M}" == expected


@pytest.mark.parametrize("line", INVALID)
def test_invalid_lines_are_refused_in_vietnamese(line: str) -> None:
    with pytest.raises(cron.CronError) as caught:
        cron.parse(line)
    message = str(caught.value)
    assert message and not ENGLISH.search(message), message


def test_help_explains_the_five_fields_without_english() -> None:
    assert "5 trường" in cron.HELP and "Chủ nhật" in cron.HELP and "ví dụ" in cron.HELP
    assert not ENGLISH.search(cron.HELP)


EXPRESSIONS = [line for line, _ in VALID] + ["* * * * *", "*/7 * * * *", "30 7,12,18 * * *"]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    line=st.sampled_from(EXPRESSIONS),
    offset=st.integers(0, 60 * 24 * 800),
    length=st.integers(1, 60 * 24 * 16),
)
def test_working_slots_match_moving_every_fire_time(line: str, offset: int, length: int) -> None:
    """The lazy slots equal slot_at_or_before of every fire time, deduplicated and sorted."""
    start = datetime(2026, 1, 1, tzinfo=VN) + timedelta(minutes=offset)
    end = start + timedelta(minutes=length)
    trigger = cron_trigger(line, TZ)
    fast = list(islice(working_slots(trigger, CAL, start, end), 400))
    moved = {
        CAL.slot_at_or_before(fire) for fire in _fires(trigger, start, end + timedelta(days=30))
    }
    brute = sorted(slot for slot in moved if start < slot <= end)
    assert fast == brute[:400]
    assert all(CAL.is_working_time(slot) for slot in fast)
