"""The guided /capnhat: task, status, progress, text and confirmation, one step at a time."""

from __future__ import annotations

from typing import Any

from core import labels
from core.model import ChatKind, Choice, Incoming, Reply
from core.render import shorten
from core.textnorm import fold
from data.store import people
from data.store import status as st
from data.store.models import Flow, Role, Task, TaskStatus
from handlers import flows
from handlers.context import Context
from handlers.lookup import Item, listing
from handlers.permissions import NOT_REGISTERED, may_update, update_refusal
from handlers.status_card import summary
from handlers.status_common import (
    TITLE_WIDTH,
    actor,
    decision_choices,
    file_fields,
    only_decision,
    pick,
    qualifier,
    split_code,
    tasks,
    typed_code,
    unknown_task,
    year,
)
from handlers.status_record import save
from handlers.status_text import (
    EXAMPLE,
    InputError,
    parse_note,
    parse_progress,
    parse_status,
    progress_for,
    to_report,
)

FLOW_KIND = "capnhat"
COMMAND = "capnhat"
_CONFIRM_WORDS = {"gui", "gui cap nhat", "dong y", "xac nhan", "ok", "co", "yes", "luu"}
_EDIT_WORDS = {"sua", "sua lai", "lam lai", "edit"}
_CANCEL_WORDS = {"huy", "huy bo", "thoi", "cancel"}
_PROGRESS_BUTTONS = (10, 25, 50, 75, 90)


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


def start(ctx: Context, msg: Incoming, who: people.Actor, task: Task | None) -> list[Reply]:
    """Begin the guided update (at the task step, or at the status step of a chosen task)."""
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


def continue_with(
    ctx: Context, msg: Incoming, task: Task, status: TaskStatus, progress: int | None
) -> list[Reply]:
    """A one-line update that gave a status but no result: ask for what is missing next."""
    who = actor(ctx, msg)
    data: dict[str, Any] = {"task_id": task.id, "status": status.value}
    step = Step.TEXT
    if status is TaskStatus.IN_PROGRESS and progress is None:
        step = Step.PROGRESS
    else:
        data["progress"] = progress_for(status, progress)
    key = flows.Key.of(msg)
    flow = flows.start(ctx.session, key, kind=FLOW_KIND, step=step, data=data, now=ctx.now())
    return [_prompt(ctx, msg, who, flow)]


def flow_text(ctx: Context, msg: Incoming, flow: Flow) -> list[Reply] | None:
    """Free text typed while a guided update waits; None when it answers nothing asked."""
    text = msg.text.strip()
    if not _answers(flow.step, text):
        return None
    return _step(ctx, msg, actor(ctx, msg), flow, text)


def _answers(step: str, text: str) -> bool:
    """Whether text is meant for the step (else it is a search or a command name)."""
    word = fold(text)
    if word in _CANCEL_WORDS or step == Step.TEXT:
        return True
    if step == Step.TASK:
        split = split_code(text)
        return split is not None and only_decision(split[1])
    if step == Step.STATUS:
        return parse_status(text) is not None
    if step == Step.PROGRESS:
        return any(char.isdigit() for char in text)
    return word in _CONFIRM_WORDS or word in _EDIT_WORDS


def answer(ctx: Context, msg: Incoming, version: int, value: str) -> list[Reply]:
    """A button's answer ("/capnhat #<version> <value>") to the sender's guided update."""
    flow = flows.load(ctx.session, flows.Key.of(msg))
    if flow is None or not flows.is_open(flow) or flow.kind != FLOW_KIND:
        return [Reply(ENDED)]
    if flows.is_expired(flow, ctx.now()):
        flows.finish(ctx.session, flow, ctx.now())
        return [Reply(flows.EXPIRED)]
    who = actor(ctx, msg)
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
        return flows.cancel(ctx, msg)
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
        **file_fields(msg),
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
    split = split_code(value)
    programme_id, rest = qualifier(ctx, split[1]) if split is not None else (None, "")
    if split is None or rest.strip():
        return [
            Reply("Anh/chị chọn một nhiệm vụ trong danh sách, hoặc gõ mã nhiệm vụ, ví dụ: 2.4"),
            _prompt(ctx, msg, who, flow),
        ]
    found = tasks(ctx, split[0], programme_id)
    if not found:
        return [unknown_task(split[0])]
    task = pick(who, found)
    if task is None:
        return [decision_choices(split[0], found, f"/{COMMAND}")]
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
    return save(ctx, msg, who, task, responsibility.agency, report)


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
    heading = f"Nhiệm vụ {task.code} — {shorten(task.title, TITLE_WIDTH)}"
    if ctx.catalog.several_programmes:
        heading += f" (Quyết định {task.programme.decision_number})"
    if flow.step == Step.STATUS:
        choices = tuple(
            Choice(label, _action(flow, fold(label))) for label in labels.TASK_STATUS.values()
        )
        return Reply(
            f"{heading}\n\nTình hình thực hiện năm {year(ctx)} của đơn vị anh/chị?",
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
            "Nếu có khó khăn, vướng mắc, thêm “vướng mắc: …”; có đề xuất, thêm “đề xuất: …”. "
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
    reporting = year(ctx)
    missing = {t.id for t in st.missing_tasks(ctx.session, agency, reporting)}
    items = []
    for task, role in st.agency_tasks(ctx.session, agency):
        state = "chưa báo cáo" if task.id in missing else "đã báo cáo"
        title = shorten(task.title, TITLE_WIDTH)
        named = typed_code(ctx, task)
        line = f"{named} — {title} ({labels.TASK_ROLE[role]}, {state} năm {reporting})"
        items.append(
            Item(
                f"• {line}",
                line,
                f"{task.code} — {shorten(task.title, 36)}",
                _action(flow, named),
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
