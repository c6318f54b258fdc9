"""Status commands: /capnhat (guided or one line), /lichsu, /tralai, /cuatoi, /huy."""

from __future__ import annotations

import re
from typing import Any

from core.model import ChatKind, Choice, Incoming, Reply
from core.textnorm import fold
from data.store import people
from data.store import repositories as repo
from data.store import status as st
from data.store.models import (
    Agency,
    Flow,
    Person,
    Role,
    StatusUpdate,
    Task,
    TaskStatus,
    UpdateState,
)
from data.store.succession import current_agency, display_name
from handlers import flows
from handlers.context import Context
from handlers.lookup import Item, listing
from handlers.permissions import ADMINS_ONLY, NOT_REGISTERED, may_read, may_update, update_refusal
from handlers.status_card import (
    ROLE_LABELS,
    blocker_notice,
    history_entry,
    person_label,
    summary,
    when,
)
from handlers.status_text import (
    EXAMPLE,
    HOW_TO_WRITE,
    STATUS_LABELS,
    InputError,
    aligned_fold,
    check_length,
    classification_label,
    clean,
    parse_line,
    parse_note,
    parse_progress,
    parse_status,
    status_phrase,
    to_report,
)

FLOW_KIND = "capnhat"
COMMAND = "capnhat"
_CODE_RE = re.compile(r"\s*(?:nv|nhiem vu)?\s*(\d{1,2})\s*[.,]\s*(\d{1,2})(?!\d)(?![.,/]\d)")
_UPDATE_ID_RE = re.compile(r"#\s*(\d{1,9})\s*(.*)", re.DOTALL)
_YEAR_RE = re.compile(r"(?:nam\s*)?(20\d\d)")
_CONFIRM_WORDS = {"gui", "gui cap nhat", "dong y", "xac nhan", "ok", "co", "yes", "luu"}
_EDIT_WORDS = {"sua", "sua lai", "lam lai", "edit"}
_CANCEL_WORDS = {"huy", "huy bo", "thoi", "cancel"}
_PROGRESS_BUTTONS = (10, 25, 50, 75, 90)
_TITLE_WIDTH = 60


class Step:
    """Steps of the guided update."""

    TASK = "task"
    STATUS = "status"
    PROGRESS = "progress"
    TEXT = "text"
    CONFIRM = "confirm"


ENDED = "Phiên cập nhật này đã kết thúc. Gõ /capnhat để bắt đầu một phiên mới."
STALE = "Lựa chọn này thuộc một bước trước đó nên không còn hiệu lực."
GUIDED_IN_PRIVATE = (
    "Cập nhật từng bước chỉ làm trong chat riêng với bot. Trong nhóm, anh/chị gõ một dòng, "
    f"ví dụ: {EXAMPLE}"
)


def _actor(ctx: Context, msg: Incoming) -> people.Actor:
    return people.actor(ctx.session, ctx.settings, msg.platform, msg.user.id)


def _year(ctx: Context) -> int:
    return st.reporting_year(ctx.now(), ctx.settings.timezone)


def _short(text: str, width: int = _TITLE_WIDTH) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1].rstrip() + "…"


def _split_code(args: str) -> tuple[str, str] | None:
    match = _CODE_RE.match(aligned_fold(args))
    if match is None:
        return None
    return f"{int(match.group(1))}.{int(match.group(2))}", args[match.end() :]


def _tasks(ctx: Context, code: str) -> list[Task]:
    return repo.tasks_by_code(ctx.session, code)


def _unknown_task(code: str) -> Reply:
    return Reply(
        f"Không có nhiệm vụ mang mã {code}. Mã nhiệm vụ có dạng <lĩnh vực>.<số thứ tự>, "
        "ví dụ 2.4. Gõ /cuatoi để xem các nhiệm vụ của đơn vị anh/chị."
    )


def _pick(who: people.Actor, tasks: list[Task]) -> Task:
    """Of same-coded tasks (several decisions), the first the actor may update."""
    return next((t for t in tasks if may_update(who, t) is not None), tasks[0])


# --- /capnhat ---------------------------------------------------------------------------------


def update(ctx: Context, msg: Incoming) -> list[Reply]:
    """Record a status update in one line, start the guided flow, or answer one of its steps."""
    answer = flows.parse_answer(msg.args)
    if answer is not None:
        return _answer(ctx, msg, *answer)
    who = _actor(ctx, msg)
    args = msg.args.strip()
    if not args:
        return _start(ctx, msg, who, None)
    split = _split_code(args)
    if split is None:
        return [
            Reply(
                "Anh/chị ghi mã nhiệm vụ ngay sau lệnh, ví dụ:\n"
                f"{EXAMPLE}\nhoặc gõ /capnhat để cập nhật từng bước."
            )
        ]
    code, rest = split
    tasks = _tasks(ctx, code)
    if not tasks:
        return [_unknown_task(code)]
    task = _pick(who, tasks)
    responsibility = may_update(who, task)
    if responsibility is None:
        return [Reply(update_refusal(who, task))]
    if not rest.strip():
        return _start(ctx, msg, who, task)
    try:
        report = to_report(parse_line(rest), **_file(msg))
    except InputError as exc:
        return [Reply(f"{exc.message}\n\n{HOW_TO_WRITE}")]
    return _save(ctx, msg, who, task, responsibility.agency, report)


def _file(msg: Incoming) -> dict[str, Any]:
    return {"file_platform": msg.platform, "file_ref": msg.file_ref} if msg.file_ref else {}


def _save(
    ctx: Context,
    msg: Incoming,
    who: people.Actor,
    task: Task,
    agency: Agency,
    report: st.Report,
) -> list[Reply]:
    author = people.ensure_person(
        ctx.session,
        who,
        display_name=msg.user.display_name,
        now=ctx.now(),
        private_chat_id=msg.chat.id if msg.chat.kind is ChatKind.PRIVATE else None,
    )
    year = _year(ctx)
    source = f"{msg.platform}:{msg.update_id}" if msg.update_id else None
    recorded = st.record(
        ctx.session,
        task=task,
        agency=agency,
        year=year,
        author=author,
        report=report,
        now=ctx.now(),
        source_key=source,
    )
    saved = recorded.update
    if recorded.duplicate:
        return [Reply(f"Cập nhật này đã được ghi nhận trước đó (#{saved.id}).")]
    lines = [
        f"Đã ghi nhận cập nhật #{saved.id} của {display_name(agency)} cho nhiệm vụ {task.code}, "
        f"năm {year}:",
        status_phrase(saved.status, saved.progress),
    ]
    if saved.result:
        lines.append(f"Kết quả: {saved.result}")
    if saved.blocker:
        lines.append(f"Khó khăn, vướng mắc: {saved.blocker_text}")
    if saved.proposal:
        lines.append(f"Đề xuất: {saved.proposal}")
    if recorded.previous is not None:
        lines.append(
            f"(Thay cho cập nhật #{recorded.previous.id}; bản cũ vẫn được lưu trong lịch sử.)"
        )
    extra: list[Reply] = []
    if recorded.new_blocker:
        note, extra = _blocker_replies(ctx, msg, saved, task, author)
        lines.append(note)
    lines.append(f"Gõ /lichsu {task.code} để xem lịch sử cập nhật.")
    return [Reply("\n".join(lines)), *extra]


def _blocker_replies(
    ctx: Context, msg: Incoming, saved: StatusUpdate, task: Task, author: Person
) -> tuple[str, list[Reply]]:
    """Post a new blocker to the coordinating agency's linked groups on this platform."""
    coordinator = task.programme.coordinating_agency
    if coordinator is None:
        return "", []
    today = current_agency(coordinator)
    ctx.session.refresh(saved)
    text = blocker_notice(saved, task, author, ctx.settings.timezone)
    chats = [
        c
        for c in repo.chats_of_agency(ctx.session, today.id)
        if c.platform == msg.platform and c.chat_id != msg.chat.id
    ]
    if not chats:
        return (
            f"Chưa có nhóm chat nào của {today.name} được liên kết trên nền tảng này, nên vướng "
            "mắc chưa được chuyển đi; cơ quan thường trực vẫn thấy nó khi xem nhiệm vụ.",
            [],
        )
    return (
        f"Vướng mắc đã được chuyển tới nhóm của {today.name}.",
        [Reply(text, chat_id=c.chat_id) for c in chats],
    )


# --- guided flow ------------------------------------------------------------------------------


def _start(ctx: Context, msg: Incoming, who: people.Actor, task: Task | None) -> list[Reply]:
    if msg.chat.kind is not ChatKind.PRIVATE:
        return [Reply(GUIDED_IN_PRIVATE)]
    if task is None and not (who.is_admin or who.role is Role.FOCAL):
        if who.role is None:
            return [Reply(NOT_REGISTERED)]
        return [
            Reply(
                "Tài khoản của anh/chị có quyền xem (quan sát), không cập nhật. Chỉ cán bộ đầu "
                "mối của các đơn vị và quản trị mới cập nhật được tình hình nhiệm vụ."
            )
        ]
    key = flows.Key.of(msg)
    if task is None:
        flow = flows.start(ctx.session, key, kind=FLOW_KIND, step=Step.TASK, data={}, now=ctx.now())
        return [_prompt(ctx, msg, who, flow)]
    data = {"task_id": task.id}
    flow = flows.start(ctx.session, key, kind=FLOW_KIND, step=Step.STATUS, data=data, now=ctx.now())
    return [_prompt(ctx, msg, who, flow)]


def flow_text(ctx: Context, msg: Incoming, flow: Flow) -> list[Reply] | None:
    """Free text typed while a guided update waits; None when it answers nothing asked."""
    text = msg.text.strip()
    if not _answers(flow.step, text):
        return None
    return _step(ctx, msg, _actor(ctx, msg), flow, text)


def _answers(step: str, text: str) -> bool:
    """Whether text is meant for the step (else it is a search or a command name)."""
    word = fold(text)
    if word in _CANCEL_WORDS or step == Step.TEXT:
        return True
    if step == Step.TASK:
        split = _split_code(text)
        return split is not None and not split[1].strip()
    if step == Step.STATUS:
        return parse_status(text) is not None
    if step == Step.PROGRESS:
        return any(char.isdigit() for char in text)
    return word in _CONFIRM_WORDS or word in _EDIT_WORDS


def _answer(ctx: Context, msg: Incoming, version: int, value: str) -> list[Reply]:
    flow = flows.load(ctx.session, flows.Key.of(msg))
    if flow is None or not flows.is_open(flow) or flow.kind != FLOW_KIND:
        return [Reply(ENDED)]
    if flows.is_expired(flow, ctx.now()):
        flows.finish(ctx.session, flow, ctx.now())
        return [Reply(flows.EXPIRED)]
    who = _actor(ctx, msg)
    if version != flow.version:
        return [Reply(STALE), _prompt(ctx, msg, who, flow)]
    return _step(ctx, msg, who, flow, value)


def _flow_task(ctx: Context, flow: Flow) -> Task | None:
    task_id = flow.data.get("task_id")
    if not isinstance(task_id, int):
        return None
    return ctx.session.get(Task, task_id)


def _step(ctx: Context, msg: Incoming, who: people.Actor, flow: Flow, value: str) -> list[Reply]:
    if fold(value) in _CANCEL_WORDS:
        return cancel(ctx, msg)
    if flow.step == Step.TASK:
        return _choose_task(ctx, msg, who, flow, value)
    task = _flow_task(ctx, flow)
    if task is None or may_update(who, task) is None:
        flows.finish(ctx.session, flow, ctx.now())
        if task is None:
            return [Reply(ENDED)]
        return [Reply(update_refusal(who, task))]
    data = dict(flow.data)
    if flow.step == Step.STATUS:
        status = parse_status(value)
        if status is None:
            return [
                Reply("Anh/chị chọn một trong ba trạng thái dưới đây."),
                _prompt(ctx, msg, who, flow),
            ]
        data["status"] = status.value
        if status is TaskStatus.IN_PROGRESS:
            return _go(ctx, msg, who, flow, Step.PROGRESS, data)
        data["progress"] = 100 if status is TaskStatus.DONE else 0
        return _go(ctx, msg, who, flow, Step.TEXT, data)
    if flow.step == Step.PROGRESS:
        try:
            data["progress"] = parse_progress(value)
        except InputError as exc:
            return [Reply(exc.message)]
        return _go(ctx, msg, who, flow, Step.TEXT, data)
    if flow.step == Step.TEXT:
        try:
            report = _report_from(data, parse_note(value), msg)
        except InputError as exc:
            return [Reply(exc.message)]
        data.update(
            result=report.result,
            blocker_text=report.blocker_text,
            proposal=report.proposal,
            file_platform=report.file_platform,
            file_ref=report.file_ref,
        )
        return _go(ctx, msg, who, flow, Step.CONFIRM, data)
    return _confirm(ctx, msg, who, flow, task, value)


def _report_from(data: dict[str, Any], parsed: Any, msg: Incoming) -> st.Report:
    return to_report(
        parsed,
        status=TaskStatus(str(data["status"])),
        progress=int(data["progress"]),
        **_file(msg),
    )


def _stored_report(data: dict[str, Any]) -> st.Report:
    return st.Report(
        status=TaskStatus(str(data["status"])),
        progress=int(data["progress"]),
        result=str(data.get("result") or ""),
        blocker_text=str(data.get("blocker_text") or ""),
        proposal=str(data.get("proposal") or ""),
        file_platform=data.get("file_platform"),
        file_ref=data.get("file_ref"),
    )


def _choose_task(
    ctx: Context, msg: Incoming, who: people.Actor, flow: Flow, value: str
) -> list[Reply]:
    split = _split_code(value)
    if split is None or split[1].strip():
        return [
            Reply("Anh/chị chọn một nhiệm vụ trong danh sách, hoặc gõ mã nhiệm vụ, ví dụ: 2.4"),
            _prompt(ctx, msg, who, flow),
        ]
    tasks = _tasks(ctx, split[0])
    if not tasks:
        return [_unknown_task(split[0])]
    task = _pick(who, tasks)
    if may_update(who, task) is None:
        return [Reply(update_refusal(who, task))]
    return _go(ctx, msg, who, flow, Step.STATUS, {"task_id": task.id})


def _confirm(
    ctx: Context, msg: Incoming, who: people.Actor, flow: Flow, task: Task, value: str
) -> list[Reply]:
    word = fold(value)
    if word in _EDIT_WORDS:
        return _go(ctx, msg, who, flow, Step.STATUS, {"task_id": task.id})
    if word not in _CONFIRM_WORDS:
        return [Reply("Anh/chị chọn Gửi, Sửa lại hoặc Hủy."), _prompt(ctx, msg, who, flow)]
    responsibility = may_update(who, task)
    assert responsibility is not None  # checked by _step
    report = _stored_report(flow.data)
    flows.finish(ctx.session, flow, ctx.now())
    return _save(ctx, msg, who, task, responsibility.agency, report)


def _go(
    ctx: Context, msg: Incoming, who: people.Actor, flow: Flow, step: str, data: dict[str, Any]
) -> list[Reply]:
    flow = flows.advance(ctx.session, flow, step=step, data=data, now=ctx.now())
    return [_prompt(ctx, msg, who, flow)]


def _action(flow: Flow, value: str) -> str:
    return flows.answer_action(flow, COMMAND, value)


def _prompt(ctx: Context, msg: Incoming, who: people.Actor, flow: Flow) -> Reply:
    """The question of the flow's current step, with its choices."""
    cancel_choice = Choice("Hủy", "/huy")
    if flow.step == Step.TASK:
        return _task_prompt(ctx, who, flow)
    task = _flow_task(ctx, flow)
    if task is None:
        return Reply(ENDED)
    heading = f"Nhiệm vụ {task.code} — {_short(task.title)}"
    if flow.step == Step.STATUS:
        choices = tuple(
            Choice(label, _action(flow, fold(label))) for label in STATUS_LABELS.values()
        )
        return Reply(
            f"{heading}\n\nTình hình thực hiện năm {_year(ctx)} của đơn vị anh/chị?",
            (*choices, cancel_choice),
        )
    if flow.step == Step.PROGRESS:
        text = f"{heading}\n\nTiến độ đến nay được bao nhiêu phần trăm? Gõ một số từ 0 đến 100"
        if ctx.capabilities.supports_buttons:
            buttons = tuple(Choice(f"{p}%", _action(flow, str(p))) for p in _PROGRESS_BUTTONS)
            return Reply(text + ", hoặc chọn bên dưới.", buttons)
        return Reply(text + ", ví dụ: 60")
    if flow.step == Step.TEXT:
        return Reply(
            f"{heading}\n\nAnh/chị gõ nội dung kết quả thực hiện (tối đa {st.MAX_RESULT} ký tự). "
            "Nếu có khó khăn, vướng mắc, thêm “vuong mac: …”; có đề xuất, thêm “de xuat: …”. "
            "Gõ /huy để hủy."
        )
    report = _stored_report(flow.data)
    responsibility = may_update(who, task)
    agency = responsibility.agency if responsibility is not None else task.lead_agency
    body = summary(task, agency, report) if agency is not None else ""
    return Reply(
        f"Anh/chị kiểm tra lại trước khi gửi:\n\n{body}",
        (
            Choice("Gửi cập nhật", _action(flow, "gui")),
            Choice("Sửa lại", _action(flow, "sua")),
            cancel_choice,
        ),
    )


def _task_prompt(ctx: Context, who: people.Actor, flow: Flow) -> Reply:
    agency = who.agency
    if agency is None:
        return Reply("Anh/chị gõ mã nhiệm vụ cần cập nhật, ví dụ: 2.4 (gõ /huy để hủy).")
    year = _year(ctx)
    missing = {t.id for t in st.missing_tasks(ctx.session, agency, year)}
    items = []
    for task, role in st.agency_tasks(ctx.session, agency):
        state = "chưa báo cáo" if task.id in missing else "đã báo cáo"
        line = f"{task.code} — {_short(task.title)} ({ROLE_LABELS[role]}, {state} năm {year})"
        items.append(
            Item(
                f"• {line}",
                line,
                f"{task.code} — {_short(task.title, 36)}",
                _action(flow, task.code),
            )
        )
    if not items:
        return Reply(
            f"{agency.name} chưa được giao nhiệm vụ nào trong chương trình. Anh/chị có thể gõ "
            "mã nhiệm vụ nếu biết, ví dụ: 2.4 (gõ /huy để hủy)."
        )
    header = f"Anh/chị muốn cập nhật nhiệm vụ nào của {agency.name}?"
    reply = listing(ctx, header, items, "Hoặc gõ mã nhiệm vụ, ví dụ: 2.4")
    return Reply(reply.text, (*reply.choices, Choice("Hủy", "/huy")))


# --- /huy -------------------------------------------------------------------------------------


def cancel(ctx: Context, msg: Incoming) -> list[Reply]:
    """Cancel the sender's unfinished guided step in this chat."""
    flow = flows.current(ctx.session, flows.Key.of(msg), ctx.now())
    if flow is None:
        return [Reply("Anh/chị không có thao tác nào đang làm dở.")]
    flows.finish(ctx.session, flow, ctx.now())
    return [Reply("Đã hủy. Chưa có gì được ghi nhận. Gõ /capnhat khi anh/chị muốn cập nhật lại.")]


# --- /lichsu ----------------------------------------------------------------------------------


def history(ctx: Context, msg: Incoming) -> list[Reply]:
    """Every update of a task, oldest first (registered people only)."""
    who = _actor(ctx, msg)
    if not may_read(who):
        return [Reply(NOT_REGISTERED)]
    args = clean(msg.args)
    split = _split_code(args)
    if split is None:
        return [
            Reply(
                "Anh/chị gõ mã nhiệm vụ sau lệnh, ví dụ: /lichsu 2.4 (thêm năm: /lichsu 2.4 2026)"
            )
        ]
    code, rest = split
    year_match = _YEAR_RE.search(fold(rest))
    year = int(year_match.group(1)) if year_match else None
    tasks = _tasks(ctx, code)
    if not tasks:
        return [_unknown_task(code)]
    task = tasks[0]
    updates = st.history(ctx.session, task.id, year)
    scope = f" năm {year}" if year else ""
    if not updates:
        return [Reply(f"Nhiệm vụ {task.code} chưa có cập nhật nào{scope}.")]
    lines = [f"Lịch sử cập nhật nhiệm vụ {task.code}{scope} ({len(updates)} cập nhật):"]
    shown_year: int | None = None
    for item in updates:
        if item.year != shown_year:
            shown_year = item.year
            lines += ["", f"Năm {item.year}:"]
        lines += history_entry(item, ctx.settings.timezone)
    return [Reply("\n".join(lines))]


# --- /tralai ----------------------------------------------------------------------------------


def return_update(ctx: Context, msg: Incoming) -> list[Reply]:
    """Send an update back for rework with a reason (admins only); its author is told."""
    who = _actor(ctx, msg)
    if not who.is_admin:
        return [Reply(ADMINS_ONLY)]
    args = clean(msg.args)
    usage = (
        "Anh/chị gõ mã nhiệm vụ (hoặc số cập nhật) và lý do, ví dụ: "
        "/tralai 2.4 Bổ sung số liệu kết quả, hoặc /tralai #12 Bổ sung số liệu"
    )
    by_id = _UPDATE_ID_RE.fullmatch(args)
    if by_id is not None:
        target = st.get(ctx.session, int(by_id.group(1)))
        reason = by_id.group(2).strip()
        if target is None:
            return [
                Reply(f"Không có cập nhật #{by_id.group(1)}. Gõ /lichsu <mã> để xem các cập nhật.")
            ]
        return _return(ctx, msg, who, target, reason, usage)
    split = _split_code(args)
    if split is None:
        return [Reply(usage)]
    code, reason = split[0], split[1].strip(" :-–")
    tasks = _tasks(ctx, code)
    if not tasks:
        return [_unknown_task(code)]
    year = _year(ctx)
    active = [
        u
        for task in tasks
        for u in st.history(ctx.session, task.id, year)
        if u.state == UpdateState.ACTIVE.value
    ]
    if not active:
        return [
            Reply(
                f"Nhiệm vụ {code} không có cập nhật nào đang hiệu lực trong năm {year} để trả lại."
            )
        ]
    if not reason:
        return [Reply(usage)]
    if len(active) == 1:
        return _return(ctx, msg, who, active[0], reason, usage)
    choices = tuple(
        Choice(f"#{u.id} {u.agency.name}"[:60], f"/tralai #{u.id} {reason}") for u in active
    )
    return [
        Reply(
            f"Nhiệm vụ {code} có {len(active)} cập nhật đang hiệu lực. "
            "Anh/chị trả lại cập nhật nào?",
            choices,
        )
    ]


def _return(
    ctx: Context,
    msg: Incoming,
    who: people.Actor,
    target: StatusUpdate,
    reason: str,
    usage: str,
) -> list[Reply]:
    if not reason:
        return [Reply(usage)]
    try:
        reason = check_length("Lý do trả lại", reason, st.MAX_REASON)
    except InputError as exc:
        return [Reply(exc.message)]
    task = target.task
    if target.state != UpdateState.ACTIVE.value:
        return [
            Reply(
                f"Cập nhật #{target.id} không còn hiệu lực (đã được thay hoặc đã bị trả lại), "
                f"nên không trả lại được. Gõ /lichsu {task.code} để xem."
            )
        ]
    admin = people.ensure_person(
        ctx.session,
        who,
        display_name=msg.user.display_name,
        now=ctx.now(),
        private_chat_id=msg.chat.id if msg.chat.kind is ChatKind.PRIVATE else None,
    )
    st.return_for_rework(ctx.session, target, by=admin, reason=reason, now=ctx.now())
    author = target.author
    text = (
        f"Đã trả lại cập nhật #{target.id} (nhiệm vụ {task.code}, {display_name(target.agency)}, "
        f"của {person_label(author)}) để bổ sung.\nLý do: {reason}"
    )
    chat = people.private_chat(author, msg.platform) if author.active else None
    replies: list[Reply] = []
    if chat is not None and chat != msg.chat.id:
        replies.append(
            Reply(
                f"Cập nhật #{target.id} của anh/chị cho nhiệm vụ {task.code} (gửi lúc "
                f"{when(target.created_at, ctx.settings.timezone)}) đã được "
                f"{person_label(admin)} trả lại để bổ sung.\nLý do: {reason}\n\n"
                f"Anh/chị gõ /capnhat {task.code} để gửi bản cập nhật mới.",
                chat_id=chat,
            )
        )
        text += f"\nĐã báo cho {person_label(author)}."
    elif chat is None:
        text += (
            f"\nChưa báo được cho {person_label(author)}: người này chưa có chat riêng với bot "
            "trên nền tảng này."
        )
    return [Reply(text), *replies]


# --- /cuatoi ----------------------------------------------------------------------------------


def mine(ctx: Context, msg: Incoming) -> list[Reply]:
    """My agency's tasks, their status this year, and what the report still lacks."""
    who = _actor(ctx, msg)
    if not may_read(who):
        return [Reply(NOT_REGISTERED)]
    agency = who.agency
    if agency is None:
        return [
            Reply(
                "Tài khoản của anh/chị không gắn với đơn vị nào. Gõ /donvi <tên đơn vị> để xem "
                "nhiệm vụ của một đơn vị, hoặc /nhiemvu <mã> để xem tình hình một nhiệm vụ."
            )
        ]
    year = _year(ctx)
    rows = st.agency_tasks(ctx.session, agency)
    if not rows:
        return [Reply(f"{agency.name} chưa được giao nhiệm vụ nào trong chương trình.")]
    missing = st.missing_tasks(ctx.session, agency, year)
    ids = st.family_ids(ctx.session, agency)
    now = ctx.now()
    lines = [f"Nhiệm vụ của {agency.name} — năm {year}:"]
    for task, role in rows:
        updates = st.history(ctx.session, task.id, year)
        latest = st.latest_of(updates, ids)
        due = st.deadline(task, year)
        today = st.local(now, ctx.settings.timezone).date()
        cls = st.classify(latest, st.done_since(updates, ids), due, today, ctx.settings.timezone)
        head = f"• {task.code} ({ROLE_LABELS[role]}) — "
        if latest is None:
            lines.append(head + classification_label(cls, None))
        elif latest.state == UpdateState.RETURNED.value:
            lines.append(
                head + f"bị trả lại để bổ sung: {_short(latest.returned_reason or '', 80)}"
            )
        else:
            lines.append(
                head
                + f"{status_phrase(latest.status, latest.progress)} · "
                + f"{classification_label(cls, latest.status)}, cập nhật "
                + when(latest.created_at, ctx.settings.timezone)[:10]
            )
    lines.append("")
    if missing:
        codes = ", ".join(t.code for t in missing)
        lines.append(
            f"Còn thiếu báo cáo năm {year}: {len(missing)}/{len(rows)} nhiệm vụ ({codes}). "
            f"Hạn báo cáo: {st.deadline(missing[0], year):%d/%m/%Y}."
        )
        if who.role is Role.FOCAL or who.is_admin:
            lines.append("Gõ /capnhat <mã> để cập nhật, ví dụ: /capnhat " + missing[0].code)
    else:
        lines.append(f"Đơn vị đã báo cáo đủ {len(rows)} nhiệm vụ năm {year}. Cảm ơn anh/chị!")
    return [Reply("\n".join(lines))]
