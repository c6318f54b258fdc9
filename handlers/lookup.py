"""Look-ups: free search, a task by code, an agency's tasks, the sectors."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from core import metrics
from core.model import Choice, Incoming, Reply
from core.render import shorten, text_length
from core.textnorm import fold, nfc
from data.search.types import Confidence, Hit, HitKind
from data.store import people
from data.store.catalog import AgencyEntry, ProgrammeEntry, SectorEntry, TaskEntry
from data.store.models import AgencyKind
from handlers import cards, status_card
from handlers.context import Context
from handlers.web.button import web_app_choices

CODE_RE = re.compile(r"(?<![\d.,])(\d{1,2})\s*[.,]\s*(\d{1,2})(?![\d.,/])")
DECISION_RE = re.compile(r"\d+\s*/\s*[^\s,;]+")
_MAX_CARD_BUTTONS = 8
# The card's own budget leaves room for numbered choices where there are no buttons.
_CARD_BUDGET = cards.CARD_MAX - 80
_MORE_WORD = "xemthem"  # "/nhiemvu 2.6 xemthem" opens the details ("xem them", "chi tiet" too)
_MORE_RE = re.compile(r"\b(?:xem\s*them|chi\s*tiet|day\s*du)\b")
# Which collective phrases an agency of a given kind belongs to (folded substrings).
_MEMBERSHIP = {
    AgencyKind.DEPARTMENT: ("cac so",),
    AgencyKind.BOARD: ("cac so",),
    AgencyKind.OFFICE: ("cac so",),
    AgencyKind.LOCAL: ("ubnd cac", "uy ban nhan dan cac"),
    AgencyKind.BANK: ("ngan hang",),
    AgencyKind.ENTERPRISE: ("doanh nghiep",),
}

_WHAT: dict[HitKind | None, str] = {HitKind.TASK: "nhiệm vụ", HitKind.AGENCY: "đơn vị"}
SEARCH_TIPS = (
    "Mẹo tìm kiếm:\n"
    "• Gõ mã nhiệm vụ, ví dụ: 2.4\n"
    "• Gõ tên hoặc tên viết tắt của đơn vị, ví dụ: SKHĐT, SYT, GTVT\n"
    "• Gõ vài từ khóa, không dấu cũng được, ví dụ: san bay chu lai\n"
    "Gõ /linhvuc để xem danh sách lĩnh vực và nhiệm vụ."
)

# What the bot can answer, offered when a question is outside the decision.
SUGGESTIONS = (
    "Anh/chị có thể hỏi, ví dụ:\n"
    "• ai chủ trì nhiệm vụ sân bay Chu Lai\n"
    "• sở y tế chủ trì những nhiệm vụ nào\n"
    "• hạn nộp báo cáo khi nào"
)


@dataclass(frozen=True)
class Item:
    """One entry of a list the user can pick from."""

    line: str  # shown in the text next to buttons
    option: str  # shown as a numbered option where there are no buttons
    label: str  # short button label
    action: str  # the typed command it stands for


# A top score this high means the listed answers match well; they are alternatives, not guesses.
STRONG_MATCH = 90.0


def listing(ctx: Context, header: str, items: list[Item], footer: str = "") -> Reply:
    """A list with a choice per item: buttons under a text list, or numbered options."""
    if ctx.capabilities.supports_buttons:
        body = "\n".join(item.line for item in items)
        text = "\n\n".join(part for part in (header, body, footer) if part)
        return Reply(text, tuple(Choice(item.label, item.action) for item in items))
    return Reply(header, tuple(Choice(item.option, item.action) for item in items))


def _quote(text: str) -> str:
    return f"“{shorten(nfc(text), 60, at_word=True)}”"


def _several_programmes(ctx: Context) -> bool:
    return ctx.catalog.several_programmes


def _task_action(task: TaskEntry, with_programme: bool) -> str:
    action = f"/nhiemvu {task.code}"
    return f"{action} {task.programme.decision_number}" if with_programme else action


def _task_item(task: TaskEntry, with_programme: bool, reason: str = "") -> Item:
    line = cards.task_line(task, with_programme=with_programme)
    if reason:
        line += f"\n   {reason}"
    label = f"Nhiệm vụ {task.code}"
    if with_programme:
        label += f" ({task.programme.decision_number})"
    return Item(line, line, label, _task_action(task, with_programme))


def _agency_item(agency: AgencyEntry) -> Item:
    name = agency.display_name
    return Item(
        f"• {name}", f"Đơn vị: {name}", shorten(name, 40, at_word=True), f"/donvi {agency.name}"
    )


# --- /tim -------------------------------------------------------------------------------------


def search(ctx: Context, msg: Incoming) -> list[Reply]:
    """Free search over tasks and agencies."""
    query = msg.args.strip()
    if not query:
        return [
            Reply(
                "Anh/chị muốn tìm gì? Gõ từ khóa sau lệnh, ví dụ: /tim san bay chu lai "
                "hoặc /tim skhdt."
            )
        ]
    return search_replies(ctx, query, reader=msg)


def search_replies(
    ctx: Context, query: str, only: HitKind | None = None, *, reader: Incoming | None = None
) -> list[Reply]:
    """Answer a query: one card when sure, a list when several fit, tips when nothing does.

    A question ("ai chủ trì …", "hạn báo cáo khi nào") gets its one-line answer first;
    reader: who asked (an admin's agency cards also show unconfirmed succession notes).
    """
    outcome = ctx.search.search(query, limit=5)
    metrics.SEARCHES.labels(outcome.confidence.value).inc()
    hits = [hit for hit in outcome.hits if only is None or hit.kind is only]
    with_programme = _several_programmes(ctx)
    resolved = [(hit, target) for hit in hits if (target := _resolve(ctx, hit)) is not None]
    targets = [target for _, target in resolved]
    answer = _answer_text(outcome.answer, outcome.source)
    if outcome.confidence is Confidence.NONE or not targets:
        if answer and only is None:
            return [Reply(answer)]
        return [_not_found(ctx, query, only)]
    sure = outcome.confidence in (Confidence.EXACT, Confidence.CONFIDENT)
    if sure and (len(targets) == 1 or _one_agency(targets)):
        reason = _reason_of(resolved[0][0], targets[0])
        lead = "\n".join(part for part in (answer, reason) if part)
        if isinstance(targets[0], TaskEntry):
            return [_task_reply(ctx, targets[0], with_programme, lead, reader)]
        return _prefixed(agency_replies(ctx, targets[0], reader=reader), lead)
    items = [
        _task_item(t, with_programme, _reason_of(hit, t))
        if isinstance(t, TaskEntry)
        else _agency_item(t)
        for hit, t in resolved
    ]
    if sure or outcome.hits[0].score >= STRONG_MATCH:
        # Several strong answers (e.g. two tasks on Chu Lai airport) are all right, not guesses.
        header = f"Có {len(items)} kết quả phù hợp với {_quote(query)}:"
    else:
        header = f"Có thể anh/chị đang tìm một trong các mục sau (với {_quote(query)}):"
    if answer:
        header = f"{answer}\n\n{header}"
    return [listing(ctx, header, items, "Chọn một mục để xem chi tiết.")]


def _answer_text(answer: str, source: str) -> str:
    """The one-line answer, with the decision's sentence it comes from."""
    if not answer:
        return ""
    if not source:
        return answer
    return f"{answer}\nTheo quyết định: “{shorten(source, 300, at_word=True)}”"


def _prefixed(replies: list[Reply], lead: str) -> list[Reply]:
    if not lead or not replies:
        return replies
    first = replies[0]
    return [replace(first, text=f"{lead}\n\n{first.text}"), *replies[1:]]


def _reason_of(hit: Hit, target: TaskEntry | AgencyEntry) -> str:
    """ "khớp: …" — the measure that matched, when the title alone does not explain a hit."""
    if not isinstance(target, TaskEntry) or not hit.matched:
        return ""
    snippet = cards.match_snippet(target.title, target.measures, hit.matched)
    return f"khớp: {snippet}" if snippet else ""


def _resolve(ctx: Context, hit: Hit) -> TaskEntry | AgencyEntry | None:
    catalog = ctx.catalog
    if hit.kind is HitKind.AGENCY:
        return catalog.agency_by_name(hit.key)
    programme = catalog.programme_by_number(hit.programme) if hit.programme else None
    tasks = catalog.tasks_by_code(hit.key, programme.id if programme else None)
    return tasks[0] if tasks else None


def _one_agency(targets: list[TaskEntry | AgencyEntry]) -> bool:
    """Whether all targets are one agency and its predecessors (e.g. SKHĐT and Sở Tài chính)."""
    if not all(isinstance(t, AgencyEntry) for t in targets):
        return False
    agencies = [t for t in targets if isinstance(t, AgencyEntry)]
    return len({a.current_id for a in agencies}) == 1


def _task_reply(
    ctx: Context,
    task: TaskEntry,
    with_programme: bool,
    lead: str = "",
    reader: Incoming | None = None,
) -> Reply:
    """The phone-sized card (after lead, if any), "Xem thêm" when there is more, the Mini App."""
    found = status_card.for_card(ctx, task)
    budget = _CARD_BUDGET - (text_length(lead) + 2 if lead else 0)
    card = cards.task_card(
        task,
        with_programme=with_programme,
        deadline=found.deadline,
        status=found.lines,
        budget=max(budget, _CARD_BUDGET // 2),
    )
    text = f"{lead}\n\n{card.text}" if lead else card.text
    more = f"{_task_action(task, with_programme)} {_MORE_WORD}"
    choices = (Choice(cards.MORE_LABEL, more),) if card.more else ()
    return Reply(text, choices + web_app_choices(ctx, reader, f"nhiemvu/{task.id}"))


def _task_details(ctx: Context, task: TaskEntry, with_programme: bool) -> Reply:
    """What "Xem thêm" opens: all measures and the full status, with the history a tap away."""
    found = status_card.for_card(ctx, task)
    text = cards.task_details(task, with_programme=with_programme, status=found.lines)
    history = f"/lichsu {task.code}"
    if with_programme:
        history += f" {task.programme.decision_number}"
    return Reply(text, (Choice("Lịch sử cập nhật", history),))


def _not_found(ctx: Context, query: str, only: HitKind | None) -> Reply:
    what = _WHAT.get(only, "kết quả")
    if only is not None:
        return Reply(f"Không tìm thấy {what} nào cho {_quote(query)}.\n\n{SEARCH_TIPS}")
    decisions = ", ".join(p.decision_number for p in ctx.catalog.programmes) or "đã nạp"
    return Reply(
        f"Không tìm thấy {what} nào cho {_quote(query)}: nội dung này không có trong "
        f"quyết định {decisions}.\n\n{SUGGESTIONS}\n\n{SEARCH_TIPS}"
    )


# --- /nhiemvu ---------------------------------------------------------------------------------


def task(ctx: Context, msg: Incoming) -> list[Reply]:
    """Show one task by code ("2.4", "nv 2.4", optionally with a decision number)."""
    args = nfc(msg.args)
    if not args:
        return [Reply("Anh/chị muốn xem nhiệm vụ nào? Gõ mã nhiệm vụ, ví dụ: /nhiemvu 2.4")]
    match = CODE_RE.search(args)
    if match is None:
        return search_replies(ctx, args, only=HitKind.TASK, reader=msg)
    code = f"{int(match.group(1))}.{int(match.group(2))}"
    programme: ProgrammeEntry | None = None
    decision = DECISION_RE.search(args)
    if decision is not None:
        programme = ctx.catalog.programme_by_number(decision.group(0))
        if programme is None:
            return [_unknown_decision(ctx, decision.group(0))]
    tasks = ctx.catalog.tasks_by_code(code, programme.id if programme else None)
    with_programme = _several_programmes(ctx)
    if not tasks:
        return [_unknown_code(ctx, code, programme)]
    if len(tasks) == 1:
        if _MORE_RE.search(fold(args[match.end() :])):
            return [_task_details(ctx, tasks[0], with_programme)]
        return [_task_reply(ctx, tasks[0], with_programme, reader=msg)]
    header = f"Mã {code} có trong {len(tasks)} quyết định. Anh/chị muốn xem nhiệm vụ nào?"
    return [listing(ctx, header, [_task_item(t, True) for t in tasks])]


def _unknown_decision(ctx: Context, decision: str) -> Reply:
    known = ", ".join(p.decision_number for p in ctx.catalog.programmes) or "(chưa có)"
    return Reply(f"Không có quyết định {decision} trong dữ liệu. Các quyết định đã nạp: {known}.")


def _unknown_code(ctx: Context, code: str, programme: ProgrammeEntry | None) -> Reply:
    catalog = ctx.catalog
    sectors = catalog.sectors_of(programme.id if programme else None)
    if not sectors:
        return Reply(f"Không có nhiệm vụ mang mã {code}: chưa có chương trình nào được nạp.")
    codes = [t.code for s in sectors for t in catalog.tasks_of(s)]
    with_programme = _several_programmes(ctx) and programme is None
    lines = [
        f"Không có nhiệm vụ mang mã {code}.",
        f"Mã nhiệm vụ có dạng <lĩnh vực>.<số thứ tự>, từ {codes[0]} đến {codes[-1]}:"
        if codes
        else "Chưa có nhiệm vụ nào.",
    ]
    for sector in sectors:
        tasks = catalog.tasks_of(sector)
        if not tasks:
            continue
        span = f"{tasks[0].code}–{tasks[-1].code}"
        suffix = f" ({sector.programme.decision_number})" if with_programme else ""
        lines.append(f"{sector.number}. {sector.name}: {span}{suffix}")
    lines += ["", "Ví dụ: /nhiemvu 2.4. Gõ /linhvuc <số> để xem các nhiệm vụ của một lĩnh vực."]
    return Reply("\n".join(lines))


# --- /donvi -----------------------------------------------------------------------------------


def agency(ctx: Context, msg: Incoming) -> list[Reply]:
    """Show an agency (found by name, variant or abbreviation) and its tasks."""
    query = nfc(msg.args)
    if not query:
        return [
            Reply(
                "Anh/chị muốn xem đơn vị nào? Gõ tên hoặc tên viết tắt sau lệnh, "
                "ví dụ: /donvi so tai chinh hoặc /donvi skhdt"
            )
        ]
    exact = ctx.catalog.agency_by_name(query)
    if exact is not None:
        return agency_replies(ctx, exact, reader=msg)
    return search_replies(ctx, query, only=HitKind.AGENCY, reader=msg)


def agency_replies(
    ctx: Context, agency: AgencyEntry, *, reader: Incoming | None = None
) -> list[Reply]:
    """The agency card, with buttons to open the tasks it leads where buttons exist."""
    view = agency_view(ctx, agency)
    unconfirmed = agency.successor_name is not None and not agency.successor_confirmed
    if unconfirmed and reader is not None:  # only then does it matter who reads
        admin = people.is_admin(ctx.session, ctx.settings, reader.platform, reader.user.id)
        view = replace(view, for_admin=admin)
    text = cards.agency_card(view)
    choices: tuple[Choice, ...] = ()
    if ctx.capabilities.supports_buttons:
        led = [*view.led, *(t for inherited in view.inherited for t in inherited.led)]
        choices = tuple(
            Choice(f"Nhiệm vụ {t.code}", _task_action(t, view.with_programme))
            for t in led[:_MAX_CARD_BUTTONS]
        )
    return [Reply(text, choices)]


def agency_view(ctx: Context, agency: AgencyEntry) -> cards.AgencyView:
    """Gather what the agency card shows."""
    catalog = ctx.catalog
    led = catalog.led_tasks([agency.id])
    partnered = _excluding(catalog.partner_tasks([agency.id]), led)
    inherited = []
    for predecessor in catalog.predecessors(agency):
        p_led = catalog.led_tasks([predecessor.id])
        p_partnered = _excluding(catalog.partner_tasks([predecessor.id]), p_led)
        if p_led or p_partnered:
            inherited.append(cards.Inherited(predecessor, p_led, p_partnered))
    return cards.AgencyView(
        agency=agency,
        led=led,
        partnered=partnered,
        collectives=_collectives(ctx, agency),
        inherited=inherited,
        with_programme=_several_programmes(ctx),
    )


def _excluding(tasks: list[TaskEntry], other: list[TaskEntry]) -> list[TaskEntry]:
    ids = {t.id for t in other}
    return [t for t in tasks if t.id not in ids]


def _collectives(ctx: Context, agency: AgencyEntry) -> list[tuple[str, int]]:
    if agency.is_collective:
        return []
    try:
        markers = _MEMBERSHIP.get(AgencyKind(agency.kind), ())
    except ValueError:
        return []
    return [
        (collective.name, count)
        for collective, count in ctx.catalog.collective_task_counts()
        if any(marker in fold(collective.name) for marker in markers)
    ]


# --- /linhvuc ---------------------------------------------------------------------------------


def sector(ctx: Context, msg: Incoming) -> list[Reply]:
    """List the sectors, or the tasks of one sector (by number or name)."""
    args = nfc(msg.args)
    with_programme = _several_programmes(ctx)
    if not args:
        return [_sector_overview(ctx, with_programme)]
    catalog = ctx.catalog
    number_match = re.search(r"\d+", args)
    if number_match is not None:
        found = catalog.sectors_by_number(int(number_match.group(0)))
        decision = DECISION_RE.search(args)
        if decision is not None:
            programme = catalog.programme_by_number(decision.group(0))
            found = [s for s in found if programme is not None and s.programme.id == programme.id]
    else:
        found = _sectors_by_name(ctx, args)
    if not found:
        overview = _sector_overview(ctx, with_programme)
        return [Reply(f"Không có lĩnh vực {_quote(args)}.\n\n{overview.text}", overview.choices)]
    if len(found) == 1:
        return [_sector_tasks(ctx, found[0], with_programme)]
    items = [
        Item(
            f"• {cards.sector_label(s, len(catalog.tasks_of(s)), with_programme=True)}",
            cards.sector_label(s, len(catalog.tasks_of(s)), with_programme=True),
            f"{s.number} ({s.programme.decision_number})",
            f"/linhvuc {s.number} {s.programme.decision_number}",
        )
        for s in found
    ]
    return [listing(ctx, "Có nhiều lĩnh vực phù hợp, anh/chị muốn xem lĩnh vực nào?", items)]


def _sectors_by_name(ctx: Context, text: str) -> list[SectorEntry]:
    from rapidfuzz import fuzz

    wanted = fold(text)
    scored = [
        (fuzz.partial_ratio(wanted, fold(s.name.removeprefix("Dịch vụ "))), s)
        for s in ctx.catalog.sectors_of()
    ]
    best = max((score for score, _ in scored), default=0.0)
    if best < 80:
        return []
    return [s for score, s in scored if score == best]


def _sector_overview(ctx: Context, with_programme: bool) -> Reply:
    catalog = ctx.catalog
    sectors = catalog.sectors_of()
    if not sectors:
        return Reply("Chưa có chương trình nào được nạp.")
    total = sum(len(catalog.tasks_of(s)) for s in sectors)
    header = f"Chương trình có {len(sectors)} lĩnh vực dịch vụ, {total} nhiệm vụ:"
    items = []
    for s in sectors:
        label = cards.sector_label(s, len(catalog.tasks_of(s)), with_programme=with_programme)
        action = f"/linhvuc {s.number}"
        if with_programme:
            action += f" {s.programme.decision_number}"
        short = shorten(f"{s.number}. {s.name.removeprefix('Dịch vụ ')}", 32, at_word=True)
        items.append(Item(f"{s.number}. {label}", label, short, action))
    footer = "Gõ /linhvuc <số> để xem các nhiệm vụ của một lĩnh vực, ví dụ: /linhvuc 5"
    return listing(ctx, header, items, footer)


def _sector_tasks(ctx: Context, found: SectorEntry, with_programme: bool) -> Reply:
    tasks = ctx.catalog.tasks_of(found)
    header = cards.sector_heading(found, len(tasks), with_programme=with_programme)
    items = [_task_item(t, False) for t in tasks]
    if with_programme:
        items = [
            Item(i.line, i.option, i.label, _task_action(t, True))
            for i, t in zip(items, tasks, strict=True)
        ]
    return listing(ctx, header, items, "Gõ /nhiemvu <mã> để xem chi tiết, ví dụ: /nhiemvu 2.4")
