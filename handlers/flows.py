"""Guided conversations kept in the database: one flow per user and chat, versioned steps."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.model import Incoming, Reply
from data.models import Flow
from data.status import aware
from handlers.context import Context

IDLE_TIMEOUT = timedelta(minutes=30)
_FINISHED = ""
# "#12 hoan thanh": an answer to step version 12 of the user's flow (what buttons send).
ANSWER_RE = re.compile(r"#(\d{1,9})\s*(.*)", re.DOTALL)

FlowHandler = Callable[[Context, Incoming, Flow], "list[Reply] | None"]

EXPIRED = (
    "Phiên thao tác trước của anh/chị đã hết hạn (sau 30 phút không có trả lời) nên tôi đã hủy. "
    "Anh/chị gõ lại lệnh để bắt đầu lại, ví dụ: /capnhat"
)


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
            data=dict(data),
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
    flow.step = step
    flow.data = dict(data)  # a new dict, so SQLAlchemy sees the JSON change
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


def continue_flow(
    ctx: Context, incoming: Incoming, handlers: Mapping[str, FlowHandler]
) -> list[Reply] | None:
    """Give free text to the sender's open flow; None when there is none (or it declines)."""
    flow = _row(ctx.session, Key.of(incoming))
    if flow is None or not is_open(flow):
        return None
    if is_expired(flow, ctx.now()):
        finish(ctx.session, flow, ctx.now())
        return [Reply(EXPIRED)]
    handler = handlers.get(flow.kind)
    if handler is None:
        return None
    return handler(ctx, incoming, flow)
