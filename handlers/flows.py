"""Guided conversations kept in the database: one flow per user and chat, versioned steps; /huy."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.model import Incoming, Reply
from data.store.models import Flow, PendingChoice
from data.store.status import aware
from handlers.context import Context

IDLE_TIMEOUT = timedelta(minutes=30)
_FINISHED = ""
# "#12 hoan thanh": an answer to step version 12 of the user's flow (what buttons send).
ANSWER_RE = re.compile(r"#(\d{1,9})\s*(.*)", re.DOTALL)

FlowHandler = Callable[[Context, Incoming, Flow], "list[Reply] | None"]

# In flow.data: the newest choice list the user had been shown when the flow last asked.
LIST_MARK = "_list_before_prompt"

EXPIRED = (
    "Phiên thao tác trước của anh/chị đã hết hạn (sau 30 phút không có trả lời) nên tôi đã hủy. "
    "Anh/chị gõ lại lệnh để bắt đầu lại, ví dụ: /capnhat"
)


@dataclass(frozen=True)
class Continued:
    """What the flow made of free text: its answer, or None and the flow that still waits."""

    replies: list[Reply] | None = None
    pending: Flow | None = None


@dataclass(frozen=True)
class Key:
    """Whose flow: one user in one chat on one platform."""

    platform: str
    chat_id: str
    user_id: str

    @classmethod
    def of(cls, incoming: Incoming) -> Key:
        """The flow key of the sender of an incoming message."""
        return cls(incoming.platform, incoming.chat.id, incoming.user.id)


def _row(session: Session, key: Key) -> Flow | None:
    query = (
        select(Flow)
        .where(
            Flow.platform == key.platform, Flow.chat_id == key.chat_id, Flow.user_id == key.user_id
        )
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return session.scalars(query).first()


def is_open(flow: Flow) -> bool:
    """Whether the flow has a step waiting for an answer (it may still have expired)."""
    return flow.step != _FINISHED


def is_expired(flow: Flow, now: datetime) -> bool:
    """Whether the flow went idle for too long."""
    return aware(flow.expires_at) <= aware(now)


def load(session: Session, key: Key) -> Flow | None:
    """The user's flow row (open, finished or expired), locked for this unit of work."""
    return _row(session, key)


def current(session: Session, key: Key, now: datetime, kind: str | None = None) -> Flow | None:
    """The user's open, unexpired flow (of one kind if given)."""
    flow = _row(session, key)
    if flow is None or not is_open(flow) or is_expired(flow, now):
        return None
    if kind is not None and flow.kind != kind:
        return None
    return flow


def start(
    session: Session, key: Key, *, kind: str, step: str, data: dict[str, Any], now: datetime
) -> Flow:
    """Begin a flow, replacing whatever the user had; the version keeps growing."""
    flow = _row(session, key)
    if flow is None:
        flow = Flow(
            platform=key.platform,
            chat_id=key.chat_id,
            user_id=key.user_id,
            kind=kind,
            step=step,
            data={**data, LIST_MARK: _latest_list_id(session, key)},
            version=1,
            updated_at=now,
            expires_at=now + IDLE_TIMEOUT,
        )
        session.add(flow)
        session.flush()
        return flow
    flow.kind = kind
    return advance(session, flow, step=step, data=dict(data), now=now)


def advance(
    session: Session, flow: Flow, *, step: str, data: dict[str, Any], now: datetime
) -> Flow:
    """Move to the next step; earlier buttons become stale."""
    key = Key(flow.platform, flow.chat_id, flow.user_id)
    flow.step = step
    # A new dict, so SQLAlchemy sees the JSON change.
    flow.data = {**data, LIST_MARK: _latest_list_id(session, key)}
    flow.version += 1
    flow.updated_at = now
    flow.expires_at = now + IDLE_TIMEOUT
    session.flush()
    return flow


def finish(session: Session, flow: Flow, now: datetime) -> None:
    """End the flow (done, cancelled or expired); its buttons become stale."""
    flow.step = _FINISHED
    flow.data = {}
    flow.version += 1
    flow.updated_at = now
    flow.expires_at = now
    session.flush()


def answer_action(flow: Flow, command: str, value: str) -> str:
    """The typed command a button stands for: "/capnhat #<version> <value>"."""
    return f"/{command} #{flow.version} {value}".rstrip()


def parse_answer(args: str) -> tuple[int, str] | None:
    """(version, value) of a button's command arguments, or None for ordinary arguments."""
    match = ANSWER_RE.fullmatch(args.strip())
    if match is None:
        return None
    return int(match.group(1)), match.group(2).strip()


def reminder(flow: Flow) -> str:
    """One line saying that the flow still waits for an answer."""
    return (
        f"(Anh/chị vẫn còn thao tác /{flow.kind} đang làm dở: trả lời câu hỏi trước đó, "
        "hoặc gõ /huy để hủy.)"
    )


def cancel(ctx: Context, msg: Incoming) -> list[Reply]:
    """/huy: cancel the sender's unfinished guided step in this chat (any kind of flow)."""
    flow = current(ctx.session, Key.of(msg), ctx.now())
    if flow is None:
        return [Reply("Anh/chị không có thao tác nào đang làm dở.")]
    finish(ctx.session, flow, ctx.now())
    return [Reply("Đã hủy. Chưa có gì được ghi nhận. Gõ /capnhat khi anh/chị muốn cập nhật lại.")]


def _latest_list(session: Session, key: Key) -> PendingChoice | None:
    query = (
        select(PendingChoice)
        .where(
            PendingChoice.platform == key.platform,
            PendingChoice.chat_id == key.chat_id,
            PendingChoice.user_id == key.user_id,
        )
        .order_by(PendingChoice.id.desc())
        .limit(1)
    )
    return session.scalars(query).first()


def _latest_list_id(session: Session, key: Key) -> int:
    found = _latest_list(session, key)
    return found.id if found is not None else 0


def _is_own_list(flow: Flow, shown: PendingChoice) -> bool:
    prefix = f"/{flow.kind} #"
    return any(str(action).startswith(prefix) for action in shown.actions)


def continue_flow(
    ctx: Context, incoming: Incoming, handlers: Mapping[str, FlowHandler], *, number: bool
) -> Continued:
    """Give free text (number: a typed list number) to the sender's open flow, if it answers."""
    key = Key.of(incoming)
    flow = _row(ctx.session, key)
    if flow is None or not is_open(flow):
        return Continued()
    if is_expired(flow, ctx.now()):
        finish(ctx.session, flow, ctx.now())
        return Continued([Reply(EXPIRED)])
    handler = handlers.get(flow.kind)
    if handler is None:
        return Continued()
    if number:
        shown = _latest_list(ctx.session, key)
        if shown is not None and shown.id > int(flow.data.get(LIST_MARK) or 0):
            # A list came after the flow's question (its own choices, or a later search):
            # the number picks from that list.
            if not _is_own_list(flow, shown):
                return Continued(pending=flow)
            if not ctx.capabilities.supports_buttons:
                return Continued()
            # Buttons show no numbers: "60" at a step with buttons is the step's own answer
            # when the step takes numbers, else it picks the button at that place.
            return Continued(handler(ctx, incoming, flow))
    replies = handler(ctx, incoming, flow)
    return Continued(replies, None if replies is not None else flow)
