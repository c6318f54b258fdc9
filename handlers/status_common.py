"""What the status commands share: who is asking, the reporting year, and task codes typed."""

from __future__ import annotations

import re
from typing import Any

from core.model import Incoming, Reply
from data.store import people
from data.store import repositories as repo
from data.store import status as st
from data.store.models import Task
from handlers.context import Context
from handlers.permissions import may_update
from handlers.status_text import aligned_fold

_CODE_RE = re.compile(r"\s*(?:nv|nhiem vu)?\s*(\d{1,2})\s*[.,]\s*(\d{1,2})(?!\d)(?![.,/]\d)")
TITLE_WIDTH = 60  # a task title beside its code in a prompt or list


def actor(ctx: Context, msg: Incoming) -> people.Actor:
    """The sender with their role and agency."""
    return people.actor(ctx.session, ctx.settings, msg.platform, msg.user.id)


def year(ctx: Context) -> int:
    """The year being reported on, on the context's clock."""
    return st.reporting_year(ctx.now(), ctx.settings.timezone)


def split_code(args: str) -> tuple[str, str] | None:
    """("2.4", the rest) of text starting with a task code, or None."""
    match = _CODE_RE.match(aligned_fold(args))
    if match is None:
        return None
    return f"{int(match.group(1))}.{int(match.group(2))}", args[match.end() :]


def tasks(ctx: Context, code: str) -> list[Task]:
    """Tasks with this code (one per programme)."""
    return repo.tasks_by_code(ctx.session, code)


def unknown_task(code: str) -> Reply:
    """The answer to a code no task has."""
    return Reply(
        f"Không có nhiệm vụ mang mã {code}. Mã nhiệm vụ có dạng <lĩnh vực>.<số thứ tự>, "
        "ví dụ 2.4. Gõ /cuatoi để xem các nhiệm vụ của đơn vị anh/chị."
    )


def pick(who: people.Actor, found: list[Task]) -> Task:
    """Of same-coded tasks (several decisions), the first the actor may update."""
    return next((t for t in found if may_update(who, t) is not None), found[0])


def file_fields(msg: Incoming) -> dict[str, Any]:
    """The attached file of a message as Report fields (none when nothing is attached)."""
    return {"file_platform": msg.platform, "file_ref": msg.file_ref} if msg.file_ref else {}
