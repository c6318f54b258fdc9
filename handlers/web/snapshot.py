"""The year's task reports and summary, kept in memory and brought up to date incrementally.

Reading and classifying 10,000 tasks takes about half a second, too long for a page view. A
snapshot is built in full once per year viewed, and again only when the catalog is rebuilt (an
import, a deadline set with /hanchot: both reload the catalog, in this process or, through
bot/freshness.py, in the others) or the day changes (overdue is judged by the day). A status
update, recorded or returned by any instance, only re-reads the tasks it touched: each request
compares the year's (count, newest id, returned count) of updates with the snapshot's, and on a
change reads the new updates' tasks and the tasks whose returned updates changed. A count that
does not add up (an update committed out of id order, or a deletion) falls back to a full build.
"""

from __future__ import annotations

import threading
from collections.abc import Collection
from dataclasses import dataclass, field, replace
from datetime import date, datetime

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from data.reports.summary import AgencyTally, SectorTally, Summary, Tally, summarise
from data.reports.task_reports import Scope, TaskReport, iter_task_reports
from data.store import status as st
from data.store.catalog import Catalog, TaskEntry
from data.store.models import StatusUpdate, UpdateState

_KEPT_YEARS = 4
CHUNK = 500  # tasks per partial summary: a change recounts one chunk and merges the rest
_RETURNED = UpdateState.RETURNED.value


@dataclass(frozen=True)
class Seen:
    """The year's status updates as a snapshot reflects them."""

    count: int
    newest: int
    returned_count: int
    returned: frozenset[tuple[int, int]] = frozenset()  # (update id, task id)


@dataclass
class Snapshot:
    """Every task's report for one year, the summary, and look-ups by task id (never changed)."""

    year: int
    tasks: list[TaskReport]
    summary: Summary
    catalog: Catalog
    entries: list[TaskEntry] = field(default_factory=list)  # parallel to tasks
    by_id: dict[int, int] = field(default_factory=dict)  # task id -> index in tasks
    by_key: dict[tuple[str, str], int] = field(default_factory=dict)  # (decision, code) -> index
    chunks: list[Summary] = field(default_factory=list)  # summaries of CHUNK tasks each

    def __post_init__(self) -> None:
        if not self.entries:
            keyed = {(t.programme.decision_number, t.code): t for t in self.catalog.tasks}
            self.entries = [keyed[(t.programme, t.code)] for t in self.tasks]
            self.by_id = {entry.id: i for i, entry in enumerate(self.entries)}
            self.by_key = {(t.programme, t.code): i for i, t in enumerate(self.tasks)}

    def report(self, task_id: int) -> TaskReport | None:
        """The report of a task by id."""
        index = self.by_id.get(task_id)
        return self.tasks[index] if index is not None else None

    @classmethod
    def build(cls, year: int, tasks: list[TaskReport], scope: Scope, catalog: Catalog) -> Snapshot:
        """A snapshot of every task, its summary counted chunk by chunk."""
        chunks = [summarise(tasks[i : i + CHUNK], scope) for i in range(0, len(tasks), CHUNK)]
        return cls(year, tasks, merge(chunks, scope), catalog, chunks=chunks)

    def with_reports(self, reports: Collection[TaskReport], scope: Scope) -> Snapshot:
        """A new snapshot with these tasks' reports replaced and their chunks recounted."""
        tasks = list(self.tasks)
        chunks = list(self.chunks)
        touched: set[int] = set()
        for report in reports:
            index = self.by_key.get((report.programme, report.code))
            if index is not None:
                tasks[index] = report
                touched.add(index // CHUNK)
        for c in touched:
            chunks[c] = summarise(tasks[c * CHUNK : (c + 1) * CHUNK], scope)
        return replace(self, tasks=tasks, chunks=chunks, summary=merge(chunks, scope))


def _add_tally(into: Tally, tally: Tally) -> None:
    into.total += tally.total
    into.by_status.update(tally.by_status)
    into.by_class.update(tally.by_class)
    into.blocked += tally.blocked


def _add_agency(into: AgencyTally, agency: AgencyTally) -> None:
    into.names_2021 += [n for n in agency.names_2021 if n not in into.names_2021]
    into.lead += agency.lead
    into.partner += agency.partner
    into.reported += agency.reported
    into.done += agency.done
    into.overdue += agency.overdue
    into.blockers += agency.blockers
    into.missing += agency.missing
    into.missing_in += agency.missing_in


def merge(chunks: list[Summary], scope: Scope) -> Summary:
    """The summary of consecutive chunks of tasks: what summarise() gives for all of them."""
    merged = Summary(scope)
    for chunk in chunks:
        _add_tally(merged.overall, chunk.overall)
        for place, sector in chunk.sectors.items():
            into = merged.sectors.get(place)
            if into is None:
                into = SectorTally(sector.programme, sector.number, sector.name)
                merged.sectors[place] = into
            _add_tally(into.tally, sector.tally)
        for agency_id, agency in chunk.agencies.items():
            found = merged.agencies.get(agency_id)
            if found is None:
                found = merged.agencies[agency_id] = AgencyTally(agency.id, agency.name)
            _add_agency(found, agency)
        merged.blockers += chunk.blockers
        merged.proposals += chunk.proposals
        for programme_id, decision in chunk.programmes.items():
            merged.programmes.setdefault(programme_id, decision)
    return merged


def _counts(session: Session, year: int) -> Seen:
    """(count, newest id, returned count) of the year's updates: any change moves one."""
    returned = func.sum(case((StatusUpdate.state == _RETURNED, 1), else_=0))
    row = session.execute(
        select(func.count(StatusUpdate.id), func.max(StatusUpdate.id), returned).where(
            StatusUpdate.year == year
        )
    ).one()
    return Seen(int(row[0] or 0), int(row[1] or 0), int(row[2] or 0))


def _returned(session: Session, year: int) -> frozenset[tuple[int, int]]:
    rows = session.execute(
        select(StatusUpdate.id, StatusUpdate.task_id).where(
            StatusUpdate.year == year, StatusUpdate.state == _RETURNED
        )
    )
    return frozenset((int(a), int(b)) for a, b in rows)


def _same(a: Seen, b: Seen) -> bool:
    return (a.count, a.newest, a.returned_count) == (b.count, b.newest, b.returned_count)


@dataclass(frozen=True)
class _Kept:
    catalog: int  # id() of the catalog the snapshot was built on
    today: date
    seen: Seen
    snapshot: Snapshot


class SnapshotCache:
    """Snapshots by year, shared by every request of one process (thread-safe).

    `full_builds` and `patches` count the two kinds of work (tests and the bench read them).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._kept: dict[int, _Kept] = {}
        self.full_builds = 0
        self.patches = 0

    def get(
        self, session: Session, catalog: Catalog, year: int, now: datetime, timezone: str
    ) -> Snapshot:
        """The year's snapshot, up to date with the database."""
        today: date = st.local(now, timezone).date()
        seen = _counts(session, year)
        with self._lock:
            kept = self._kept.get(year)
        scope = Scope(year, now, timezone)
        if kept is not None and kept.catalog == id(catalog) and kept.today == today:
            if _same(kept.seen, seen):
                return kept.snapshot
            patched = self._patch(session, kept, seen, scope)
            if patched is not None:
                return patched
        seen = replace(seen, returned=_returned(session, year))
        snapshot = Snapshot.build(year, list(iter_task_reports(session, scope)), scope, catalog)
        self._keep(_Kept(id(catalog), today, seen, snapshot), full=True)
        return snapshot

    def _patch(self, session: Session, kept: _Kept, seen: Seen, scope: Scope) -> Snapshot | None:
        """The kept snapshot with the changed tasks re-read, or None when a full build is due."""
        old = kept.seen
        rows = session.execute(
            select(StatusUpdate.id, StatusUpdate.task_id).where(
                StatusUpdate.year == scope.year, StatusUpdate.id > old.newest
            )
        ).all()
        newest = max((int(r[0]) for r in rows), default=old.newest)
        if old.count + len(rows) != seen.count or newest != seen.newest:
            return None  # committed out of id order, or deleted: the counts do not add up
        returned = _returned(session, scope.year)
        if len(returned) != seen.returned_count:
            return None  # changed between the two reads: start over next time
        changed = {int(r[1]) for r in rows} | {task for _, task in returned ^ old.returned}
        reports = list(iter_task_reports(session, scope, task_ids=changed)) if changed else []
        snapshot = kept.snapshot.with_reports(reports, scope)
        self._keep(replace(kept, seen=replace(seen, returned=returned), snapshot=snapshot))
        return snapshot

    def _keep(self, kept: _Kept, full: bool = False) -> None:
        with self._lock:
            self._kept[kept.snapshot.year] = kept
            for old in sorted(self._kept)[:-_KEPT_YEARS]:
                del self._kept[old]
            if full:
                self.full_builds += 1
            else:
                self.patches += 1
