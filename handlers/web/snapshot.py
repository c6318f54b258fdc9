"""The year's task reports and summary, computed once and reused until something changes.

Reading and classifying 10,000 tasks takes about half a second, too long for every page view;
a snapshot is rebuilt only when the year's status updates change (a new one, or one returned),
the catalog is rebuilt (an import), the day changes (overdue is judged by the day), or after
MAX_AGE seconds (deadlines set with /hanchot are not otherwise noticed).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from data.reports.summary import Summary, summarise
from data.reports.task_reports import Scope, TaskReport, iter_task_reports
from data.store import status as st
from data.store.catalog import Catalog, TaskEntry
from data.store.models import StatusUpdate, UpdateState

MAX_AGE = 60.0
_KEPT_YEARS = 4


@dataclass
class Snapshot:
    """Every task's report for one year, the summary, and look-ups by task id."""

    year: int
    tasks: list[TaskReport]
    summary: Summary
    catalog: Catalog
    entries: list[TaskEntry] = field(default_factory=list)  # parallel to tasks
    by_id: dict[int, int] = field(default_factory=dict)  # task id -> index in tasks

    def __post_init__(self) -> None:
        keyed = {(t.programme.decision_number, t.code): t for t in self.catalog.tasks}
        self.entries = [keyed[(t.programme, t.code)] for t in self.tasks]
        self.by_id = {entry.id: i for i, entry in enumerate(self.entries)}

    def report(self, task_id: int) -> TaskReport | None:
        """The report of a task by id."""
        index = self.by_id.get(task_id)
        return self.tasks[index] if index is not None else None


def _changes(session: Session, year: int) -> tuple[int, int, int]:
    """(count, newest id, returned count) of the year's updates: any change moves one."""
    returned = func.sum(case((StatusUpdate.state == UpdateState.RETURNED.value, 1), else_=0))
    row = session.execute(
        select(func.count(StatusUpdate.id), func.max(StatusUpdate.id), returned).where(
            StatusUpdate.year == year
        )
    ).one()
    return int(row[0] or 0), int(row[1] or 0), int(row[2] or 0)


class SnapshotCache:
    """Snapshots by year, shared by every request of one process (thread-safe)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._kept: dict[int, tuple[tuple[object, ...], float, Snapshot]] = {}

    def get(
        self, session: Session, catalog: Catalog, year: int, now: datetime, timezone: str
    ) -> Snapshot:
        """The year's snapshot, rebuilt when stale."""
        today: date = st.local(now, timezone).date()
        key = (id(catalog), today, *_changes(session, year))
        with self._lock:
            kept = self._kept.get(year)
            if kept is not None and kept[0] == key and self._clock() - kept[1] < MAX_AGE:
                return kept[2]
        scope = Scope(year, now, timezone)
        tasks = list(iter_task_reports(session, scope))
        snapshot = Snapshot(year, tasks, summarise(tasks, scope), catalog)
        with self._lock:
            self._kept[year] = (key, self._clock(), snapshot)
            for old in sorted(self._kept)[:-_KEPT_YEARS]:
                del self._kept[old]
        return snapshot
