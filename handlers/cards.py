"""Plain-text cards for tasks, agencies and sectors (Vietnamese, phone-sized lines)."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache

from core.labels import AGENCY_KIND
from core.markup import bold, code
from core.render import shorten, text_length
from core.textnorm import folded_key
from data.store.catalog import AgencyEntry, ProgrammeEntry, SectorEntry, TaskEntry
from data.store.models import AgencyKind
from data.store.succession import succession_line

# Above this many tasks a list shows codes only, so a card stays readable on a phone.
_FULL_LIST_MAX = 12
CARD_MAX = 1000  # visible characters: a task card fits one phone screen
MORE_LABEL = "Xem thêm"
_CARD_PARTNERS = 4


def programme_label(programme: ProgrammeEntry) -> str:
    """How a decision is named in cards: "Quyết định 1731/QĐ-UBND"."""
    return f"Quyết định {programme.decision_number}"


def task_heading(task: TaskEntry, *, with_programme: bool) -> str:
    """ "Nhiệm vụ 2.4" plus the decision when several programmes are loaded."""
    heading = f"Nhiệm vụ {task.code}"
    if with_programme:
        heading += f" ({programme_label(task.programme)})"
    return heading


def lead_name(task: TaskEntry) -> str:
    """The lead agency as shown to users, or a placeholder."""
    return task.lead.display_name if task.lead is not None else "(chưa ghi)"


def task_line(task: TaskEntry, *, with_programme: bool, width: int = 90) -> str:
    """Two short lines for lists: code and shortened title, then the lead agency."""
    label = code(task.code)
    if with_programme:
        label += f" ({task.programme.decision_number})"
    return f"{label} — {shorten(task.title, width, at_word=True)}\n   Chủ trì: {lead_name(task)}"


@dataclass(frozen=True)
class TaskCard:
    """A phone-sized task card, and whether "Xem thêm" has more (measures, full status)."""

    text: str
    more: bool


def task_card(
    task: TaskEntry,
    *,
    with_programme: bool,
    deadline: date | None = None,
    status: Sequence[str] = (),
    budget: int = CARD_MAX,
) -> TaskCard:
    """One screen on a task: sector, title, lead, partners, dates, reporting, status in brief.

    deadline: the task's own deadline as stored now (set by admins at run time), if any.
    status: lines of the per-agency status section (handlers.status_card.for_card), if any.
    budget: the most visible characters the card may take (the measures go to "Xem thêm").
    """
    measures = _distinct_measures(task.title, task.measures)
    for width in (260, 160, 90):  # a shorter title before a shorter status section
        head = _card_head(task, with_programme, deadline, len(measures), width)
        room = budget - text_length(head) - 2
        if text_length("\n".join(status)) <= room:
            break
    shown = _fit_status(list(status), room)
    lines = [head, "", *(shown or [])]
    more = bool(measures) or len(shown or []) < len(status)
    return TaskCard(_tidy(lines), more)


def _card_head(
    task: TaskEntry, with_programme: bool, deadline: date | None, measures: int, width: int
) -> str:
    lines = [
        f"{bold(task_heading(task, with_programme=with_programme))} · "
        f"Lĩnh vực {task.sector.number}: {task.sector.name}",
        shorten(task.title, width, at_word=True),
        "",
        f"Chủ trì: {lead_name(task)}",
    ]
    if task.partners:
        names = [shorten(p.display_name, 80, at_word=True) for p in task.partners]
        lines += ["Phối hợp:", *(f"• {name}" for name in names[:_CARD_PARTNERS])]
        if len(names) > _CARD_PARTNERS:
            lines.append(f"• … và {len(names) - _CARD_PARTNERS} đơn vị khác")
    if measures:
        lines.append(f"Giải pháp cụ thể: {measures} giải pháp, chọn “{MORE_LABEL}” để xem.")
    years = sorted(set(task.target_years or []))
    if deadline is not None:
        lines.append(f"Thời hạn: {deadline:%d/%m/%Y}")
    if years:
        lines.append(_years_line(years))
    lines.append(_reporting_line(task.programme))
    return "\n".join(lines)


def _fit_status(status: list[str], room: int) -> list[str] | None:
    """The status section within room characters (trimmed, pointing to "Xem thêm"), or None."""
    if not status:
        return []
    if text_length("\n".join(status)) <= room:
        return status
    cut = f"… chọn “{MORE_LABEL}” để xem đầy đủ."
    head, tail = status[:1], status[-1:]
    used = text_length("\n".join([*head, cut, *tail]))
    if used > room:
        return None
    kept = []
    for line in status[1:-1]:
        used += text_length(line) + 1
        if used > room:
            break
        kept.append(line)
    return [*head, *kept, cut, *tail]


def task_details(task: TaskEntry, *, with_programme: bool, status: Sequence[str] = ()) -> str:
    """ "Xem thêm" of a task card: every partner, every measure, the full status section."""
    lines = [bold(task_heading(task, with_programme=with_programme)), task.title.strip()]
    if len(task.partners) > _CARD_PARTNERS:
        lines += ["", "Phối hợp:", *(f"• {p.display_name}" for p in task.partners)]
    measures = _distinct_measures(task.title, task.measures)
    if measures:
        lines += ["", bold(f"Giải pháp cụ thể ({len(measures)}):")]
        lines += [f"• {text}" for text in measures]
    if status:
        lines += ["", *status]
    return _tidy(lines)


@lru_cache(maxsize=256)  # catalog strings repeat from card to card; folding them is not free
def _distinct_measures(title: str, measures: tuple[str, ...]) -> tuple[str, ...]:
    """Measure texts without repeats and without one that only restates the title."""
    title_key = folded_key(title)
    seen: set[str] = set()
    texts = []
    for measure in measures:
        text = measure.strip()
        key = folded_key(text)
        if not text or key in seen or key == title_key:
            continue
        seen.add(key)
        texts.append(text)
    return tuple(texts)


def _years_line(years: Sequence[int]) -> str:
    return "Mốc thời gian: đến năm " + ", ".join(str(year) for year in years)


def _reporting_line(programme: ProgrammeEntry) -> str:
    line = (
        f"Báo cáo kết quả trước ngày {programme.report_day:02d}/{programme.report_month:02d} "
        "hằng năm"
    )
    if programme.coordinating_agency is not None:
        line += f", gửi UBND tỉnh qua {programme.coordinating_agency.display_name}"
    return line + "."


def _tidy(lines: list[str]) -> str:
    out: list[str] = []
    for line in lines:
        if line == "" and (not out or out[-1] == ""):
            continue
        out.append(line)
    return "\n".join(out).strip()


@dataclass(frozen=True)
class Inherited:
    """Tasks an agency took over from one it absorbed."""

    predecessor: AgencyEntry
    led: list[TaskEntry]
    partnered: list[TaskEntry]


@dataclass(frozen=True)
class AgencyView:
    """What an agency card shows, gathered by the handler."""

    agency: AgencyEntry
    led: list[TaskEntry]
    partnered: list[TaskEntry]
    collectives: list[tuple[str, int]] = field(default_factory=list)
    inherited: list[Inherited] = field(default_factory=list)
    with_programme: bool = False
    for_admin: bool = False  # admins also see succession notes not yet confirmed


def abbreviations(agency: AgencyEntry) -> list[str]:
    """The abbreviations people type for an agency, as stored."""
    return list(agency.abbreviations)


def agency_card(view: AgencyView) -> str:
    """An agency: names, kind, tasks it leads or joins, and tasks taken over from others."""
    agency = view.agency
    lines = [bold(agency.display_name)]
    if agency.successor_name is not None:
        note = succession_line(
            agency.successor_name,
            agency.successor_effective_on,
            agency.successor_basis,
            agency.successor_confirmed,
            for_admin=view.for_admin,
        )
        lines += [note] if note else []
    lines.append(f"Loại: {AGENCY_KIND.get(AgencyKind(agency.kind), 'Đơn vị khác')}")
    abbrs = abbreviations(agency)
    if abbrs:
        lines.append("Viết tắt: " + ", ".join(abbrs))
    lines.append("")
    lines += _task_section("Chủ trì", view.led, view.with_programme)
    lines += _task_section("Phối hợp", view.partnered, view.with_programme)
    if not view.led and not view.partnered:
        lines.append("Đơn vị không được nêu tên trực tiếp trong nhiệm vụ nào.")
    for collective, count in view.collectives:
        lines.append(
            f"Ngoài ra, đơn vị thuộc nhóm “{collective}”, được giao phối hợp chung "
            f"trong {count} nhiệm vụ."
        )
    for inherited in view.inherited:
        lines += ["", f"Tiếp nhận từ {inherited.predecessor.name}:"]
        lines += _task_section("Chủ trì", inherited.led, view.with_programme, compact=True)
        lines += _task_section("Phối hợp", inherited.partnered, view.with_programme, compact=True)
    if agency.current_id != agency.id and (view.led or view.partnered):
        lines += ["", f"Các nhiệm vụ trên nay do {agency.current_name} đảm nhận."]
    lines += ["", "Gõ /nhiemvu <mã> để xem chi tiết một nhiệm vụ."]
    return _tidy(lines)


def _task_section(
    label: str, tasks: list[TaskEntry], with_programme: bool, *, compact: bool = False
) -> list[str]:
    if not tasks:
        return []
    if compact or len(tasks) > _FULL_LIST_MAX:
        return [f"{label} ({len(tasks)}): " + ", ".join(_code(t, with_programme) for t in tasks)]
    lines = [f"{label} ({len(tasks)}):"]
    lines += [
        f"• {code(_code(t, with_programme))} — {shorten(t.title, 80, at_word=True)}" for t in tasks
    ]
    return lines


def _code(task: TaskEntry, with_programme: bool) -> str:
    return f"{task.code} ({task.programme.decision_number})" if with_programme else task.code


def sector_label(sector: SectorEntry, task_count: int, *, with_programme: bool) -> str:
    """ "Dịch vụ du lịch — 7 nhiệm vụ", naming the decision when needed."""
    label = f"{sector.name} — {task_count} nhiệm vụ"
    if with_programme:
        label += f" ({sector.programme.decision_number})"
    return label


def sector_heading(sector: SectorEntry, task_count: int, *, with_programme: bool) -> str:
    """ "Lĩnh vực 2: Dịch vụ du lịch (7 nhiệm vụ)"."""
    heading = f"Lĩnh vực {sector.number}: {sector.name} ({task_count} nhiệm vụ)"
    if with_programme:
        heading += f"\n{programme_label(sector.programme)}"
    return heading


def match_snippet(
    title: str, measures: Sequence[str], matched: Sequence[str], width: int = 90
) -> str:
    """The measure holding most of the matched words, cut around them ("" when the title does)."""
    wanted = set(matched)
    in_title = wanted & set(folded_key(title).split())
    if len(in_title) * 2 >= len(wanted):
        return ""
    best, best_key = "", (len(in_title), 0)
    for measure in measures:
        folded = folded_key(measure).split()
        adjacent = sum(1 for a, b in itertools.pairwise(folded) if {a, b} <= wanted)
        key = (len(wanted & set(folded)), adjacent)
        if key > best_key:
            best, best_key = measure, key
    if not best:
        return ""
    raw = best.split()
    keys = [folded_key(w) for w in raw]
    pairs = [i for i in range(len(keys) - 1) if {keys[i], keys[i + 1]} <= wanted]
    first = pairs[0] if pairs else next((i for i, k in enumerate(keys) if k in wanted), 0)
    start = max(0, first - 3)
    text = " ".join(raw[start:])
    prefix = "…" if start else ""
    return prefix + shorten(text, width, at_word=True)
