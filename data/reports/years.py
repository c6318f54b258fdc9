"""Which years a programme covers, and which a report may be asked for."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from data.store.models import Programme

# A decision states its period in its title ("thời kỳ 2021-2030"); without one, an action
# programme is taken to run for a decade from the year it was issued.
DEFAULT_SPAN_YEARS = 10
# Without any dated programme, only these sanity bounds apply.
EARLIEST_YEAR = 2000
_PERIOD_RE = re.compile(r"(?<!\d)(20\d\d)\s*[-–—]\s*(20\d\d)(?!\d)")


@dataclass(frozen=True)
class YearRange:
    """First and last reporting year, both included."""

    first: int
    last: int

    def __contains__(self, year: object) -> bool:
        return isinstance(year, int) and self.first <= year <= self.last

    def clamp(self, year: int) -> int:
        """The nearest year inside the range."""
        return min(max(year, self.first), self.last)

    @property
    def label(self) -> str:
        """ "2021–2030"."""
        return f"{self.first}–{self.last}"


def programme_period(title: str, issued_on: date | None) -> tuple[int, int] | None:
    """(first, last) year of one programme, or None when neither title nor date tells."""
    match = _PERIOD_RE.search(title or "")
    if match:
        start, end = int(match.group(1)), int(match.group(2))
        if start <= end:
            if issued_on is not None and start < issued_on.year <= end:
                start = issued_on.year  # nothing is reported before the decision was issued
            return start, end
    if issued_on is not None:
        return issued_on.year, issued_on.year + DEFAULT_SPAN_YEARS - 1
    return None


def report_years(session: Session, this_year: int, programme_id: int | None = None) -> YearRange:
    """The years a report covers: the (chosen) programmes' periods, extended to this year."""
    query = select(Programme.title, Programme.issued_on)
    if programme_id is not None:
        query = query.where(Programme.id == programme_id)
    periods = [
        period
        for title, issued_on in session.execute(query)
        if (period := programme_period(title, issued_on)) is not None
    ]
    if not periods:
        return YearRange(EARLIEST_YEAR, this_year)
    first = min(start for start, _ in periods)
    last = max(this_year, *(end for _, end in periods))
    return YearRange(first, last)
