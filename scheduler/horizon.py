"""The dates reminders may be set for: the programmes' period plus a few years."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from data.models import Programme
from data.textnorm import fold

FALLBACK_PERIOD = (2021, 2030)  # Decision 1731/QĐ-UBND: "thời kỳ 2021-2030"
MARGIN_YEARS = 5  # late reports and extended deadlines after the period ends
UNDATED_YEARS = 10  # a programme whose title names no period: ten years from its issue
# "thời kỳ 2021-2030", "giai đoạn 2021 – 2025" (folded: no marks, lower case)
_PERIOD = re.compile(r"(?:thoi ky|giai doan)\s*([0-9]{4})\s*[-–]\s*([0-9]{4})")


@dataclass(frozen=True)
class Horizon:
    """First and last day a user may type for a deadline or reminder."""

    first: date
    last: date

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.first <= day <= self.last

    def describe(self) -> str:
        """ "từ 01/01/2021 đến 31/12/2035"."""
        return f"từ {self.first:%d/%m/%Y} đến {self.last:%d/%m/%Y}"


def period(programme: Programme) -> tuple[int, int] | None:
    """The years a programme covers, read from its title (None when it does not say)."""
    found = _PERIOD.search(fold(programme.title or ""))
    if found is None:
        return None
    first, last = int(found.group(1)), int(found.group(2))
    return (first, last) if 1900 < first <= last < 2200 else None


def horizon(session: Session) -> Horizon:
    """The programmes' periods (from their titles or issue dates, else 2021-2030) + margin."""
    periods: list[tuple[int, int]] = []
    for programme in session.scalars(select(Programme)):
        found = period(programme)
        if found is None and programme.issued_on is not None:
            year = programme.issued_on.year
            found = (year, year + UNDATED_YEARS - 1)
        if found is not None:
            periods.append(found)
    first, last = (
        (min(p[0] for p in periods), max(p[1] for p in periods)) if periods else FALLBACK_PERIOD
    )
    return Horizon(date(first, 1, 1), date(last + MARGIN_YEARS, 12, 31))
