"""The dates reminders may be set for: the programmes' period plus a few years."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from data.reports.years import programme_period
from data.store.models import Programme

FALLBACK_PERIOD = (2021, 2030)  # Decision 1731/QĐ-UBND: "thời kỳ 2021-2030"
MARGIN_YEARS = 5  # late reports and extended deadlines after the period ends


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


def horizon(session: Session) -> Horizon:
    """The programmes' periods (from their titles or issue dates, else 2021-2030) + margin."""
    periods = [
        found
        for title, issued_on in session.execute(select(Programme.title, Programme.issued_on))
        if (found := programme_period(title, issued_on)) is not None
    ]
    first, last = (
        (min(p[0] for p in periods), max(p[1] for p in periods)) if periods else FALLBACK_PERIOD
    )
    return Horizon(date(first, 1, 1), date(last + MARGIN_YEARS, 12, 31))
