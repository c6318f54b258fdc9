"""What each page shows, as plain data for its template: overview, task list, task, agency."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from core import labels
from core.textnorm import fold
from data.reports.task_reports import CLASS_KEYS, STATUS_KEYS, TaskReport
from data.search.engine import SearchEngine
from data.search.types import HitKind
from data.store import status as st
from data.store.catalog import AgencyEntry, TaskEntry
from handlers.web.snapshot import Snapshot

PAGE_SIZE = 50
CHART_WIDTH = 240  # the bar of the largest sector, in SVG units
_SEARCH_LIMIT = 200
# CSS class of each official category in the chart and the badges.
CLASS_CSS = {
    "done_on_time": "c1",
    "done_late": "c2",
    "on_time": "c3",
    "overdue": "c4",
    labels.UNREPORTED: "c5",
}


def status_text(part_status: str | None, progress: int | None, reported: bool) -> str:
    """ "Đang thực hiện (60%)", "Hoàn thành" or "Chưa báo cáo"."""
    if not reported or part_status is None:
        return labels.REPORT_STATUS[labels.UNREPORTED]
    label = labels.TASK_STATUS.get(part_status, part_status)
    return f"{label} ({progress}%)" if part_status == "in_progress" else label


def class_text(key: str) -> str:
    """The official category's words."""
    return labels.REPORT_CLASSIFICATION.get(key, key)


# --- overview -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Bar:
    """One coloured piece of a sector's bar."""

    css: str
    x: int
    width: int
    count: int
    label: str


def overview(snapshot: Snapshot) -> dict[str, Any]:
    """Counts by category per sector (with the chart's geometry), who owes reports, blockers."""
    summary = snapshot.summary
    largest = max((s.tally.total for s in summary.sectors.values()), default=1) or 1
    sectors = []
    for key, sector in sorted(summary.sectors.items()):
        tally, x, bars = sector.tally, 0, []
        for cls in CLASS_KEYS:
            count = tally.by_class[cls]
            width = round(CHART_WIDTH * count / largest)
            if count:
                bars.append(Bar(CLASS_CSS[cls], x, max(width, 1), count, class_text(cls)))
            x += width
        sectors.append(
            {
                "key": key,
                "number": sector.number,
                "name": sector.name,
                "programme": sector.programme if summary.several_programmes else "",
                "filter": _sector_value(key, summary.several_programmes),
                "total": tally.total,
                "counts": [tally.by_class[c] for c in CLASS_KEYS],
                "bars": bars,
            }
        )
    overall = summary.overall
    return {
        "year": snapshot.year,
        "total": overall.total,
        "classes": [(CLASS_CSS[c], class_text(c), overall.by_class[c]) for c in CLASS_KEYS],
        "statuses": [(labels.REPORT_STATUS[s], overall.by_status[s]) for s in STATUS_KEYS],
        "sectors": sectors,
        "chart_height": 28 * len(sectors) + 8,
        "chart_width": CHART_WIDTH,
        "never": summary.never_reported(),
        "partly": [(a, summary.missing_text(a, 8)) for a in summary.partly_reported()],
        "blockers": [
            {
                "note": note,
                "label": summary.task_label(note.programme, note.code),
                "task_id": _task_id(snapshot, note.programme, note.code),
            }
            for note in summary.blockers
        ],
    }


def _task_id(snapshot: Snapshot, programme: str, code: str) -> int | None:
    found = snapshot.catalog.tasks_by_code(code)
    mine = [t for t in found if t.programme.decision_number == programme] or found
    return mine[0].id if mine else None


def _sector_value(key: tuple[int, int], several: bool) -> str:
    """The task list's sector filter: "2", or "2-<programme id>" when several decisions."""
    programme_id, number = key
    return f"{number}-{programme_id}" if several else str(number)


# --- task list ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Filters:
    """The task list's filters as typed in its form (empty: not filtered)."""

    sector: str = ""
    agency: str = ""
    status: str = ""
    overdue: bool = False
    blockers: bool = False
    query: str = ""
    page: int = 1

    @classmethod
    def from_params(cls, params: Mapping[str, str]) -> Filters:
        """Read ?linhvuc=&donvi=&trangthai=&quahan=1&vuongmac=1&q=&trang= (junk ignored)."""
        page = params.get("trang", "1")
        return cls(
            sector=params.get("linhvuc", "").strip()[:8],
            agency=params.get("donvi", "").strip()[:12],
            status=params.get("trangthai", "").strip()[:24],
            overdue=params.get("quahan", "") == "1",
            blockers=params.get("vuongmac", "") == "1",
            query=params.get("q", "").strip()[:200],
            page=max(1, min(int(page), 10_000)) if page.isdigit() else 1,
        )


def _matches(task: TaskReport, entry: TaskEntry, filters: Filters, family: set[int] | None) -> bool:
    number, _, programme = filters.sector.partition("-")
    if number and str(entry.sector.number) != number:
        return False
    if programme and str(entry.programme.id) != programme:
        return False
    if family is not None and not any(p.agency_id in family for p in task.parts):
        return False
    if filters.status in STATUS_KEYS and task.status_key != filters.status:
        return False
    if filters.status in CLASS_KEYS[:-1] and task.class_key != filters.status:
        return False
    if filters.overdue and task.class_key != st.Classification.OVERDUE.value:
        return False
    return not (filters.blockers and not task.blockers)


def task_list(snapshot: Snapshot, filters: Filters, search: SearchEngine | None) -> dict[str, Any]:
    """The tasks the filters keep (search ranks them when a query is typed), one page."""
    catalog = snapshot.catalog
    family: set[int] | None = None
    if filters.agency.isdigit() and int(filters.agency) in {a.id for a in catalog.agencies}:
        family = set(catalog.family_ids(catalog.agency(int(filters.agency))))
    order = range(len(snapshot.tasks))
    answer = ""
    if filters.query and search is not None:
        outcome = search.search(filters.query, limit=_SEARCH_LIMIT)
        answer = outcome.answer
        ranked: list[int] = []
        for hit in outcome.hits if outcome.found else ():
            if hit.kind is HitKind.TASK:
                for entry in catalog.tasks_by_code(hit.key):
                    if not hit.programme or entry.programme.decision_number == hit.programme:
                        index = snapshot.by_id.get(entry.id)
                        if index is not None:
                            ranked.append(index)
            elif hit.kind is HitKind.AGENCY:
                agency = catalog.agency_by_name(hit.key)
                if agency is not None:
                    ids = set(catalog.family_ids(agency))
                    ranked += [
                        i
                        for i, t in enumerate(snapshot.tasks)
                        if any(p.agency_id in ids for p in t.parts)
                    ]
        order = list(dict.fromkeys(ranked))  # type: ignore[assignment]
    several = catalog.several_programmes
    kept = [i for i in order if _matches(snapshot.tasks[i], snapshot.entries[i], filters, family)]
    pages = max(1, -(-len(kept) // PAGE_SIZE))
    page = min(filters.page, pages)
    shown = kept[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
    return {
        "year": snapshot.year,
        "filters": filters,
        "count": len(kept),
        "page": page,
        "pages": pages,
        "answer": answer,
        "rows": [row(snapshot.tasks[i], snapshot.entries[i], several) for i in shown],
        "sectors": _sector_choices(snapshot),
        "agencies": _agency_choices(catalog.agencies),
        "statuses": [(k, labels.REPORT_STATUS[k]) for k in STATUS_KEYS]
        + [(k, labels.CLASSIFICATION[k]) for k in CLASS_KEYS[:-1]],
    }


def row(task: TaskReport, entry: TaskEntry, several: bool = False) -> dict[str, Any]:
    """One task as a list row (naming its decision when several are loaded)."""
    main = task.main
    return {
        "id": entry.id,
        "code": task.code,
        "programme": task.programme if several else "",
        "title": task.title,
        "lead": task.lead,
        "status": status_text(
            main.status if main else None,
            main.progress if main else None,
            bool(main and main.reported),
        ),
        "class_css": CLASS_CSS[task.class_key],
        "class_text": class_text(task.class_key),
        "blockers": len(task.blockers),
    }


def _sector_choices(snapshot: Snapshot) -> list[tuple[str, str]]:
    catalog = snapshot.catalog
    several = catalog.several_programmes
    seen: dict[str, str] = {}
    for sector in catalog.sectors:
        label = f"{sector.number}. {sector.name}"
        if several:
            label += f" ({sector.programme.decision_number})"
        seen.setdefault(_sector_value((sector.programme.id, sector.number), several), label)
    return list(seen.items())


def _agency_choices(agencies: Sequence[AgencyEntry]) -> list[tuple[int, str]]:
    today = {a.current_id for a in agencies if not a.is_collective}
    named = [(a.id, a.name) for a in agencies if a.id in today]
    return sorted(named, key=lambda pair: fold(pair[1]))


# --- task and agency pages ----------------------------------------------------------------------


def agency_label(agency: AgencyEntry) -> str:
    """Today's name, with the 2021 name when the agency was taken over in 2025."""
    if agency.current_id == agency.id:
        return agency.name
    return f"{agency.current_name} (tiếp nhận từ {agency.name})"


def task_page(snapshot: Snapshot, entry: TaskEntry) -> dict[str, Any]:
    """The task's static data and each agency's part for the year."""
    report = snapshot.report(entry.id)
    parts = []
    for part in report.parts if report else ():
        parts.append(
            {
                "agency_id": part.agency_id,
                "label": part.label,
                "role": labels.TASK_ROLE.get(part.role, part.role),
                "status": status_text(part.status, part.progress, part.reported),
                "class_css": CLASS_CSS[part.class_key],
                "class_text": class_text(part.class_key),
                "result": part.result,
                "blocker": part.blocker_text if part.blocker else "",
                "proposal": part.proposal,
                "returned": part.returned_reason if part.returned else "",
            }
        )
    return {
        "year": snapshot.year,
        "entry": entry,
        "lead": agency_label(entry.lead) if entry.lead else "",
        "lead_id": entry.lead.current_id if entry.lead else None,
        "partners": [(p.current_id, agency_label(p), p.is_collective) for p in entry.partners],
        "deadline": report.deadline if report else None,
        "parts": parts,
    }


def agency_page(snapshot: Snapshot, agency: AgencyEntry) -> dict[str, Any]:
    """An agency of today: the tasks it leads or shares (with those it took over) and its tally."""
    catalog = snapshot.catalog
    today = catalog.current(agency)
    family = catalog.family_ids(today)
    rows = []
    for role, entries in (
        ("chủ trì", catalog.led_tasks(family)),
        ("phối hợp", catalog.partner_tasks(family)),
    ):
        for entry in entries:
            report = snapshot.report(entry.id)
            if report is not None:
                several = catalog.several_programmes
                rows.append({**row(report, entry, several), "role": role})
    tally = snapshot.summary.agencies.get(today.id)
    return {
        "year": snapshot.year,
        "agency": today,
        "former": catalog.predecessors(today),
        "tally": tally,
        "missing": snapshot.summary.missing_text(tally) if tally is not None else "",
        "rows": rows,
    }
