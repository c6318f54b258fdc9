"""/tralai: an admin sends an update back for rework with a reason; its author is told."""

from __future__ import annotations

import re

from core.model import ChatKind, Choice, Incoming, Reply
from data.store import people
from data.store import status as st
from data.store.models import StatusUpdate, UpdateState
from data.store.succession import display_name
from handlers.context import Context
from handlers.permissions import ADMINS_ONLY
from handlers.status_card import person_label, when
from handlers.status_common import (
    actor,
    decision_choices,
    named_task,
    qualifier,
    split_code,
    tasks,
    typed_code,
    unknown_task,
    year,
)
from handlers.status_text import InputError, check_length, clean

_UPDATE_ID_RE = re.compile(r"#\s*(\d{1,9})\s*(.*)", re.DOTALL)


def return_update(ctx: Context, msg: Incoming) -> list[Reply]:
    """Send an update back for rework with a reason (admins only); its author is told."""
    who = actor(ctx, msg)
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
    split = split_code(args)
    if split is None:
        return [Reply(usage)]
    code = split[0]
    programme_id, rest = qualifier(ctx, split[1])
    reason = rest.strip(" :-–")
    found = tasks(ctx, code, programme_id)
    if not found:
        return [unknown_task(code)]
    reporting = year(ctx)
    active_by_task = {
        task: [
            u
            for u in st.history(ctx.session, task.id, reporting)
            if u.state == UpdateState.ACTIVE.value
        ]
        for task in found
    }
    with_active = [task for task, updates in active_by_task.items() if updates]
    if len(with_active) > 1 and reason:  # the same code in two decisions, both with updates
        return [decision_choices(code, with_active, "/tralai", reason)]
    active = [u for updates in active_by_task.values() for u in updates]
    if not active:
        return [
            Reply(
                f"Nhiệm vụ {code} không có cập nhật nào đang hiệu lực trong năm {reporting} "
                "để trả lại."
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
        f"Đã trả lại cập nhật #{target.id} (nhiệm vụ {named_task(ctx, task)}, "
        f"{display_name(target.agency)}, "
        f"của {person_label(author)}) để bổ sung.\nLý do: {reason}"
    )
    chat = people.private_chat(author, msg.platform) if author.active else None
    replies: list[Reply] = []
    if chat is not None and chat != msg.chat.id:
        replies.append(
            Reply(
                f"Cập nhật #{target.id} của anh/chị cho nhiệm vụ {named_task(ctx, task)} (gửi lúc "
                f"{when(target.created_at, ctx.settings.timezone)}) đã được "
                f"{person_label(admin)} trả lại để bổ sung.\nLý do: {reason}\n\n"
                f"Anh/chị gõ /capnhat {typed_code(ctx, task)} để gửi bản cập nhật mới.",
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
