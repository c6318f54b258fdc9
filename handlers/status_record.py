"""Record a status update, confirm it, and forward a new blocker to the coordinating agency."""

from __future__ import annotations

from core.model import ChatKind, Incoming, Reply
from data.store import people
from data.store import repositories as repo
from data.store import status as st
from data.store.models import Agency, Person, StatusUpdate, Task
from data.store.succession import current_agency, display_name
from handlers.context import Context
from handlers.status_card import blocker_notice
from handlers.status_common import year
from handlers.status_text import status_phrase


def save(
    ctx: Context,
    msg: Incoming,
    who: people.Actor,
    task: Task,
    agency: Agency,
    report: st.Report,
) -> list[Reply]:
    """Store the report for the agency and say what was recorded."""
    author = people.ensure_person(
        ctx.session,
        who,
        display_name=msg.user.display_name,
        now=ctx.now(),
        private_chat_id=msg.chat.id if msg.chat.kind is ChatKind.PRIVATE else None,
    )
    reporting = year(ctx)
    source = f"{msg.platform}:{msg.update_id}" if msg.update_id else None
    recorded = st.record(
        ctx.session,
        task=task,
        agency=agency,
        year=reporting,
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
        f"năm {reporting}:",
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
        [Reply(text, chat_id=c.chat_id, thread_id=c.thread_id) for c in chats],
    )
