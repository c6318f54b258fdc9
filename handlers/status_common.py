"""What the status commands share: who is asking, the reporting year, and task codes typed."""

from __future__ import annotations

import re
from typing import Any

from core.model import Choice, Incoming, Reply
from core.render import shorten
from data.store import people
from data.store import repositories as repo
from data.store import status as st
from data.store.models import Task
from handlers.context import Context
from handlers.permissions import may_update
from handlers.status_text import aligned_fold

# A decision number right after a task code ("/capnhat 1.1 3579/QĐ-UBND …") picks the programme.
_DECISION_RE = re.compile(r"\s*\(?(\d{1,6}\s*/\s*[^\s,;:()]+)\)?[\s,;:]*")
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


def tasks(ctx: Context, code: str, programme_id: int | None = None) -> list[Task]:
    """Tasks with this code (one per programme, or only the given programme's)."""
    return repo.tasks_by_code(ctx.session, code, programme_id)


def qualifier(ctx: Context, rest: str) -> tuple[int | None, str]:
    """(programme id, what follows) when rest starts with a loaded decision's number."""
    match = _DECISION_RE.match(rest)
    if match is None:
        return None, rest
    programme = ctx.catalog.programme_by_number(match.group(1))
    if programme is None:
        return None, rest
    return programme.id, rest[match.end() :]


def only_decision(text: str) -> bool:
    """Whether text is nothing but a decision number (what may follow a code in a flow)."""
    return not text.strip() or _DECISION_RE.fullmatch(text) is not None


def decision_choices(code: str, found: list[Task], action: str, rest: str = "") -> Reply:
    """Ask which decision's task a code means; each choice re-types the command qualified."""
    lines = [f"Mã {code} có trong {len(found)} quyết định. Anh/chị chọn nhiệm vụ:"]
    choices = []
    for task in found:
        decision = task.programme.decision_number
        typed = f"{action} {code} {decision} {rest.strip()}".rstrip()
        lines.append(f"• {code} (Quyết định {decision}): {shorten(task.title, TITLE_WIDTH)}")
        choices.append(Choice(f"{code} ({decision})", typed))
    example = f"{action} {code} {found[-1].programme.decision_number}"
    lines.append(f"Hoặc gõ kèm số quyết định, ví dụ: {example}")
    return Reply("\n".join(lines), tuple(choices))


def named_task(ctx: Context, task: Task) -> str:
    """The task's code, with its decision when more than one decision is loaded."""
    if ctx.catalog.several_programmes:
        return f"{task.code} (Quyết định {task.programme.decision_number})"
    return task.code


def typed_code(ctx: Context, task: Task) -> str:
    """The code to type after a command, with its decision when more than one is loaded."""
    if ctx.catalog.several_programmes:
        return f"{task.code} {task.programme.decision_number}"
    return task.code


def unknown_task(code: str) -> Reply:
    """The answer to a code no task has."""
    return Reply(
        f"Không có nhiệm vụ mang mã {code}. Mã nhiệm vụ có dạng <lĩnh vực>.<số thứ tự>, "
        "ví dụ 2.4. Gõ /cuatoi để xem các nhiệm vụ của đơn vị anh/chị."
    )


def pick(who: people.Actor, found: list[Task]) -> Task | None:
    """Of same-coded tasks (several decisions), the one the actor may update; None if unclear."""
    if len(found) == 1:
        return found[0]
    mine = [t for t in found if may_update(who, t) is not None]
    return mine[0] if len(mine) == 1 else None


def file_fields(msg: Incoming) -> dict[str, Any]:
    """The attached file of a message as Report fields (none when nothing is attached)."""
    return {"file_platform": msg.platform, "file_ref": msg.file_ref} if msg.file_ref else {}
