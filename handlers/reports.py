"""/baocao: the one-screen summary of the reporting year, and the Excel, Word and chart files.

Who sees what: anyone may see the overall counts (the programme is public); registered people
(admins, observers, focal points) also see agencies, blockers and may download the files; a focal
point's own agency comes first.
"""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from core import labels
from core.markup import bold, code
from core.model import Attachment, ChatKind, Choice, Incoming, Reply
from core.render import shorten
from core.textnorm import fold
from data.reports import formats
from data.reports.files import report_bytes
from data.reports.summary import AgencyTally, Summary, summarise
from data.reports.task_reports import CLASS_KEYS, STATUS_KEYS, Scope, iter_task_reports
from data.reports.text import class_label, day
from data.reports.years import YearRange, report_years
from data.store import chats, people
from data.store import status as st
from data.store.models import Agency, Programme
from data.store.succession import current_agency
from handlers.context import Context
from handlers.web.button import web_app_choices

MAX_AGENCIES = 25
MAX_BLOCKERS = 8
MAX_TEXT = 90
_YEAR_RE = re.compile(r"\b([1-9]\d{3})\b")  # any year-like number; the range is checked later
_NAM_RE = re.compile(r"\bnam\b")
FILES_FOR_REGISTERED = (
    "Xin lỗi, tệp báo cáo chỉ gửi cho người dùng đã đăng ký (quản trị, lãnh đạo theo dõi, cán bộ "
    "đầu mối). Nếu anh/chị là cán bộ đầu mối của một đơn vị, xin nhờ quản trị gửi mã mời rồi gõ "
    "/dangky <mã> trong chat riêng với bot. Gõ /baocao để xem số liệu tổng hợp."
)
DETAILS_FOR_REGISTERED = (
    "Xin lỗi, phần này chỉ hiển thị cho người dùng đã đăng ký (quản trị, lãnh đạo theo dõi, cán "
    "bộ đầu mối). Gõ /baocao để xem số liệu tổng hợp."
)
# Full tables (formats marked `detailed`) name every agency's gaps and blockers: only for the
# group of the requester's own agency or of the coordinating agency.
FILES_NOT_IN_THIS_GROUP = (
    "Xin lỗi, tệp báo cáo chi tiết chỉ gửi trong nhóm chat đã liên kết với đơn vị của anh/chị "
    "hoặc với cơ quan thường trực chương trình. Anh/chị gõ lệnh này trong chat riêng với bot "
    "để nhận tệp."
)


def _offers(separator: str) -> str:
    """ "/baocao xlsx (bảng Excel)" for every format offered in chat, joined."""
    return separator.join(f"/baocao {fmt.aliases[0]} ({fmt.offer})" for fmt in formats.in_chat())


def usage() -> str:
    """How to ask for the summary or a file."""
    example = formats.FORMATS[formats.DEFAULT_FORMAT].aliases[0]
    return (
        f"Cách dùng: /baocao (tóm tắt), {_offers(', ')}. Có thể thêm năm, ví dụ: "
        f"/baocao {example} 2025."
    )


def parse_args(args: str) -> tuple[str | None, int | None, bool]:
    """(format or None for the summary, year or None, whether everything was understood)."""
    folded = fold(args)
    year_match = _YEAR_RE.search(folded)
    year = int(year_match.group(1)) if year_match else None
    rest = _NAM_RE.sub(" ", _YEAR_RE.sub(" ", folded)).strip(" .,:;-")
    rest = " ".join(rest.split())
    if not rest:
        return None, year, True
    found = formats.by_word(rest)
    return (found.name if found is not None else None), year, found is not None


def report(ctx: Context, msg: Incoming) -> list[Reply]:
    """/baocao [xlsx|docx|bieudo|linhvuc|donvi|vuongmac] [năm]: the summary, a part, a file."""
    section, args = _section(msg.args)
    fmt, year, understood = parse_args(args)
    if not understood:
        return [Reply(f"Chưa rõ loại báo cáo “{shorten(msg.args, 40)}”. {usage()}")]
    this_year = st.reporting_year(ctx.now(), ctx.settings.timezone)
    years = report_years(ctx.session, this_year)
    if year is not None and year not in years:
        return [Reply(year_outside(year, years, this_year))]
    who = people.actor(ctx.session, ctx.settings, msg.platform, msg.user.id)
    scope = Scope(year or this_year, ctx.now(), ctx.settings.timezone)
    if fmt is None:
        summary = summarise(iter_task_reports(ctx.session, scope), scope)
        if section is not None:
            return [Reply(section_text(summary, who, section))]
        web = web_app_choices(ctx, msg, f"?nam={year}" if year is not None else "")
        return [Reply(summary_text(summary, who), _detail_choices(who, year) + web)]
    if who.role is None:
        return [Reply(FILES_FOR_REGISTERED)]
    if (
        formats.FORMATS[fmt].detailed
        and msg.chat.kind is ChatKind.GROUP
        and not _group_may_see(ctx, msg, who)
    ):
        return [Reply(FILES_NOT_IN_THIS_GROUP)]
    missing = formats.FORMATS[fmt].unavailable()  # e.g. the chart without matplotlib
    if missing is not None:
        return [Reply(missing)]
    content, summary = report_bytes(ctx.session, scope, fmt)
    return [_file_reply(fmt, content, summary)]


def _group_may_see(ctx: Context, msg: Incoming, who: people.Actor) -> bool:
    """Whether the group is linked to the requester's agency or to a coordinating agency."""
    record = chats.find(ctx.session, msg.platform, msg.chat.id)
    if record is None or not record.active or record.agency is None:
        return False
    linked = current_agency(record.agency).id
    own = who.agency
    if own is not None and own.id == linked:
        return True
    coordinators = ctx.session.scalars(
        select(Agency)
        .join(Programme, Programme.coordinating_agency_id == Agency.id)
        .options(selectinload(Agency.successor))
    )
    return any(current_agency(agency).id == linked for agency in coordinators)


def year_outside(year: int, years: YearRange, this_year: int) -> str:
    """The answer to a year outside the programme's period."""
    return (
        f"Năm {year} nằm ngoài thời gian thực hiện chương trình ({years.label}), nên không có "
        f"số liệu báo cáo. Anh/chị chọn một năm từ {years.first} đến {years.last}, ví dụ: "
        f"/baocao {years.clamp(this_year)}."
    )


def _file_reply(fmt: str, content: bytes, summary: Summary) -> Reply:
    kind = formats.FORMATS[fmt]
    year = summary.scope.year
    name = kind.filename(year)
    counts = _counts_line(summary)
    text = f"{kind.label} năm {year} — {counts}"
    if kind.note:
        text += f"\n{kind.note}"
    note = (
        f"{counts}. Nếu không tải được tệp, quản trị viên có thể xuất trên máy chủ bằng lệnh: "
        f"daumoi report --year {year} --format {fmt} -o {name}"
    )
    return Reply(text, file=Attachment(name, content, kind.mime_type, note))


def _counts_line(summary: Summary) -> str:
    overall = summary.overall
    return (
        f"{overall.total} nhiệm vụ, {len(summary.sectors)} lĩnh vực; hoàn thành {overall.done}, "
        f"quá hạn {overall.by_class['overdue']}, vướng mắc {overall.blocked}"
    )


# --- the one-screen summary ---------------------------------------------------------------------


def summary_text(summary: Summary, who: people.Actor) -> str:
    """The summary on one screen (≤ 15 lines); the parts are one tap away (_detail_choices)."""
    scope = summary.scope
    decisions = ", ".join(summary.programmes.values())
    source = f" — Quyết định {decisions}" if decisions else ""
    title = (
        bold(f"📊 Báo cáo năm {scope.year}{source}")
        + f", số liệu đến {day(scope.now, scope.timezone)}"
    )
    if summary.overall.total == 0:
        return title + "\nChưa có nhiệm vụ nào trong cơ sở dữ liệu."
    lines = [title]
    registered = who.role is not None
    own = who.agency if registered else None
    if own is not None:
        mine = summary.agencies.get(own.id)
        lines += ["", *_own_lines(summary, mine, own.name)]
    lines += ["", *_overall_lines(summary)]
    if not registered:
        lines += [
            "",
            "Danh sách đơn vị chưa báo cáo và các vướng mắc chỉ hiển thị cho người dùng đã đăng "
            "ký. Cán bộ đầu mối xin nhờ quản trị gửi mã mời rồi gõ /dangky <mã>.",
        ]
        return "\n".join(lines)
    agencies = [a for a in summary.agency_list() if own is None or a.id != own.id]
    never = sum(1 for a in agencies if a.reported == 0)
    partly = sum(1 for a in agencies if a.reported and a.missing)
    lines += [
        "",
        f"Đơn vị chưa báo cáo: {never}; báo cáo chưa đủ: {partly}.",
        f"Vướng mắc đang mở: {len(summary.blockers)}.",
        "",
        f"Tệp: {_offers(' · ')}",
    ]
    return "\n".join(lines)


# The parts of the summary one tap away: (typed word, button label, registered people only).
SECTIONS = {
    "linhvuc": ("Theo lĩnh vực", False),
    "donvi": ("Theo đơn vị", True),
    "vuongmac": ("Vướng mắc", True),
}


def _section(args: str) -> tuple[str | None, str]:
    """The part asked for ("linhvuc", "don vi", …) and the rest of the arguments."""
    words = fold(args).split()
    for word in SECTIONS:
        for size in (1, 2):
            for start in range(len(words) - size + 1):
                if "".join(words[start : start + size]) == word:
                    rest = words[:start] + words[start + size :]
                    return word, " ".join(rest)
    return None, args


def _detail_choices(who: people.Actor, year: int | None) -> tuple[Choice, ...]:
    suffix = f" {year}" if year is not None else ""
    return tuple(
        Choice(label, f"/baocao {word}{suffix}")
        for word, (label, registered_only) in SECTIONS.items()
        if who.role is not None or not registered_only
    )


def section_text(summary: Summary, who: people.Actor, section: str) -> str:
    """One part of the summary: by sector (anyone), by agency or open blockers (registered)."""
    title = bold(f"📊 Báo cáo năm {summary.scope.year} — {SECTIONS[section][0].lower()}")
    if summary.overall.total == 0:
        return title + "\nChưa có nhiệm vụ nào trong cơ sở dữ liệu."
    if section == "linhvuc":
        return "\n".join([title, *_sector_lines(summary)])
    if who.role is None:
        return DETAILS_FOR_REGISTERED
    if section == "donvi":
        own = who.agency
        return "\n".join([title, *_agency_lines(summary, own.id if own is not None else None)])
    return "\n".join([title, *_blocker_lines(summary)])


def _own_lines(summary: Summary, mine: AgencyTally | None, name: str) -> list[str]:
    if mine is None:
        return [f"Đơn vị của anh/chị ({name}) không có nhiệm vụ trong năm này."]
    lines = [
        f"Đơn vị của anh/chị — {mine.label}: {mine.total} nhiệm vụ ({mine.lead} chủ trì, "
        f"{mine.partner} phối hợp); đã báo cáo {mine.reported}/{mine.total}, hoàn thành "
        f"{mine.done}, quá hạn {mine.overdue}, vướng mắc {mine.blockers}."
    ]
    if mine.missing:
        missing = summary.missing_text(mine)
        lines.append(f"Còn thiếu báo cáo: {missing}. Gõ /cuatoi để cập nhật.")
    else:
        lines.append("Đơn vị đã báo cáo đủ các nhiệm vụ. Xin cảm ơn!")
    return lines


def _overall_lines(summary: Summary) -> list[str]:
    overall = summary.overall
    status = " · ".join(
        f"{labels.REPORT_STATUS[key].lower()} {overall.by_status[key]}" for key in STATUS_KEYS
    )
    classes = " · ".join(
        f"{class_label(key).lower()} {overall.by_class[key]}"
        for key in CLASS_KEYS
        if key != "unreported" or overall.by_class[key]
    )
    return [
        f"Tổng số {overall.total} nhiệm vụ (theo báo cáo của đơn vị chủ trì):",
        f"• Trạng thái: {status}",
        f"• Phân loại: {classes}",
        f"• Có vướng mắc: {overall.blocked} nhiệm vụ",
    ]


def _sector_name(name: str) -> str:
    short = re.sub(r"^dịch vụ\s+", "", name, flags=re.IGNORECASE)
    return short[:1].upper() + short[1:]


def _sector_lines(summary: Summary) -> list[str]:
    lines = ["Theo lĩnh vực (hoàn thành/tổng số · quá hạn · vướng mắc):"]
    for sector in summary.sectors.values():
        tally = sector.tally
        prefix = f"{sector.programme} " if summary.several_programmes else ""
        lines.append(
            f"• {prefix}{sector.number}. {_sector_name(sector.name)}: {tally.done}/{tally.total}"
            f" · {tally.by_class['overdue']} · {tally.blocked}"
        )
    return lines


def _agency_lines(summary: Summary, own_id: int | None) -> list[str]:
    agencies = [a for a in summary.agency_list() if a.id != own_id]
    never = [a for a in agencies if a.reported == 0]
    partly = [a for a in agencies if a.reported and a.missing]
    lines = [f"Đơn vị chưa báo cáo nhiệm vụ nào ({len(never)}):"]
    lines += [f"• {a.label} ({a.total} nhiệm vụ)" for a in never[:MAX_AGENCIES]]
    if not never:
        lines = ["Tất cả các đơn vị đã có báo cáo."]
    if partly:
        lines.append(f"Đơn vị báo cáo chưa đủ ({len(partly)}):")
        lines += [
            f"• {a.label}: còn {len(a.missing)}/{a.total} ({shorten(summary.missing_text(a), 40)})"
            for a in partly[:MAX_AGENCIES]
        ]
    hidden = max(0, len(never) - MAX_AGENCIES) + max(0, len(partly) - MAX_AGENCIES)
    if hidden:
        lines.append(f"… và {hidden} đơn vị khác (xem /baocao xlsx).")
    return lines


def _blocker_lines(summary: Summary) -> list[str]:
    blockers = summary.blockers
    if not blockers:
        return ["Không có vướng mắc nào đang mở."]
    lines = [f"Vướng mắc đang mở ({len(blockers)}):"]
    lines += [
        f"• {code(summary.task_label(note.programme, note.code))} — {note.agency}: "
        f"{shorten(note.text, MAX_TEXT)}"
        for note in blockers[:MAX_BLOCKERS]
    ]
    if len(blockers) > MAX_BLOCKERS:
        lines.append(f"… và {len(blockers) - MAX_BLOCKERS} vướng mắc khác (xem /baocao docx).")
    return lines
