"""/capnhat: record a status update typed in one line, or hand over to the guided flow."""

from __future__ import annotations

from core.model import ChatKind, Incoming, Reply
from handlers import flows, status_flow
from handlers.context import Context
from handlers.permissions import may_update, update_refusal
from handlers.status_common import (
    actor,
    decision_choices,
    file_fields,
    pick,
    qualifier,
    split_code,
    tasks,
    unknown_task,
)
from handlers.status_record import save
from handlers.status_text import (
    EXAMPLE,
    HOW_TO_WRITE,
    InputError,
    Parsed,
    parse_line,
    to_report,
)


def update(ctx: Context, msg: Incoming) -> list[Reply]:
    """Record a status update in one line, start the guided flow, or answer one of its steps."""
    answer = flows.parse_answer(msg.args)
    if answer is not None:
        return status_flow.answer(ctx, msg, *answer)
    who = actor(ctx, msg)
    args = msg.args.strip()
    if not args:
        return status_flow.start(ctx, msg, who, None)
    split = split_code(args)
    if split is None:
        return [
            Reply(
                "Anh/chị ghi mã nhiệm vụ ngay sau lệnh, ví dụ:\n"
                f"{EXAMPLE}\nhoặc gõ /capnhat để cập nhật từng bước."
            )
        ]
    code, rest = split
    programme_id, rest = qualifier(ctx, rest)
    found = tasks(ctx, code, programme_id)
    if not found:
        return [unknown_task(code)]
    task = pick(who, found)
    if task is None:
        return [decision_choices(code, found, "/capnhat", rest)]
    responsibility = may_update(who, task)
    if responsibility is None:
        return [Reply(update_refusal(who, task))]
    if not rest.strip():
        return status_flow.start(ctx, msg, who, task)
    parsed = parse_line(rest)
    if _status_only(parsed, msg):
        assert parsed.status is not None
        try:
            return status_flow.continue_with(ctx, msg, task, parsed.status, parsed.progress)
        except InputError as exc:
            return [Reply(f"{exc.message}\n\n{HOW_TO_WRITE}")]
    try:
        report = to_report(parsed, **file_fields(msg))
    except InputError as exc:
        return [Reply(f"{exc.message}\n\n{HOW_TO_WRITE}")]
    return save(ctx, msg, who, task, responsibility.agency, report)


def _status_only(parsed: Parsed, msg: Incoming) -> bool:
    """A status (and maybe progress) without any text, typed in a private chat."""
    text = parsed.result or parsed.blocker_text or parsed.proposal or parsed.blocker_marked
    return (
        parsed.status is not None
        and not text
        and msg.file_ref is None
        and msg.chat.kind is ChatKind.PRIVATE
    )
