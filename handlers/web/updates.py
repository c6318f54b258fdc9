"""The update form: the same permission, validation, record and history as /capnhat."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from core.model import Chat, ChatKind, Incoming, Reply, User
from data.store import people
from data.store import status as st
from data.store.models import Task, TaskStatus, UpdateState
from data.store.succession import current_agency
from handlers.context import Context
from handlers.permissions import may_update, update_refusal
from handlers.status_card import person_label, when
from handlers.status_record import save
from handlers.status_text import InputError, Parsed, clean, status_phrase, to_report

WEB_CHAT = "web"  # the "chat" a web update comes from: no chat message is sent back to it
_STATES = {
    UpdateState.SUPERSEDED.value: "Đã được thay bằng bản cập nhật sau.",
}


@dataclass
class Outcome:
    """What a submitted form led to: a refusal, an input error, or the update recorded."""

    refused: str = ""
    error: str = ""
    update_id: int | None = None
    notices: list[Reply] = field(default_factory=list)  # blocker notices for linked groups


def _parsed(form: Mapping[str, str]) -> tuple[Parsed, int | None]:
    try:
        status = TaskStatus(form.get("trangthai", ""))
    except ValueError:
        raise InputError(
            "Anh/chị chọn trạng thái: chưa triển khai, đang thực hiện hoặc hoàn thành."
        ) from None
    raw = form.get("tiendo", "").strip().rstrip("%").strip()
    if raw and not raw.isdigit():
        raise InputError("Anh/chị ghi tiến độ là một số từ 0 đến 100, ví dụ: 60")
    progress = int(raw) if raw else None
    blocker = clean(form.get("vuongmac", ""))
    parsed = Parsed(
        status=status,
        progress=progress,
        result=clean(form.get("ketqua", "")),
        blocker_text=blocker,
        proposal=clean(form.get("dexuat", "")),
        blocker_marked=False,
    )
    return parsed, progress


def submit(
    ctx: Context, who: people.Actor, name: str, task_id: int, form: Mapping[str, str]
) -> Outcome:
    """Check and record the form's update for the agency the person reports for."""
    task = ctx.session.get(Task, task_id)
    if task is None:
        return Outcome(refused="Không có nhiệm vụ này.")
    responsibility = may_update(who, task)
    if responsibility is None:
        return Outcome(refused=update_refusal(who, task))
    try:
        parsed, progress = _parsed(form)
        report = to_report(parsed, progress=progress)
    except InputError as exc:
        return Outcome(error=exc.message)
    nonce = "".join(ch for ch in form.get("ma", "") if ch.isalnum() or ch in "-_")[:40]
    # The form's one-time nonce plays the platform update id: a double submit records once.
    msg = Incoming(
        platform=who.platform,
        chat=Chat(WEB_CHAT, ChatKind.GROUP),
        user=User(who.user_id, name),
        text="",
        update_id=f"web-{nonce}" if nonce else None,
    )
    replies = save(ctx, msg, who, task, responsibility.agency, report)
    latest = st.history(ctx.session, task.id)
    mine = [u for u in latest if u.agency_id == responsibility.agency.id]
    update_id = mine[-1].id if mine else None
    if nonce:
        found = st.by_source(ctx.session, f"{who.platform}:web-{nonce}")
        update_id = found.id if found is not None else update_id
    return Outcome(update_id=update_id, notices=[r for r in replies[1:] if r.chat_id])


def history_items(session: Any, task_id: int, timezone: str) -> list[dict[str, Any]]:
    """Every update of the task, newest first, as the task page lists them."""
    items = []
    for update in reversed(st.history(session, task_id)):
        note = ""
        if update.state == UpdateState.SUPERSEDED.value:
            note = _STATES[update.state]
        elif update.state == UpdateState.RETURNED.value:
            returned = when(update.returned_at, timezone) if update.returned_at else ""
            note = f"Bị trả lại {returned}: {update.returned_reason or ''}".rstrip()
        elif update.supersedes_id is not None:
            note = f"Bản cập nhật mới thay cho #{update.supersedes_id}."
        agency = update.agency
        items.append(
            {
                "id": update.id,
                "year": update.year,
                "when": when(update.created_at, timezone),
                "author": person_label(update.author),
                "agency": current_agency(agency).name if agency is not None else "?",
                "status": status_phrase(update.status, update.progress),
                "result": update.result,
                "blocker": update.blocker_text if update.blocker else "",
                "proposal": update.proposal,
                "state": update.state,
                "note": note,
            }
        )
    return items
