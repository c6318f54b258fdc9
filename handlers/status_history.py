"""/lichsu: every update of a task, oldest first."""

from __future__ import annotations

import re

from core.model import Incoming, Reply
from core.textnorm import fold
from data.store import status as st
from handlers.context import Context
from handlers.permissions import NOT_REGISTERED, may_read
from handlers.status_card import history_entry
from handlers.status_common import (
    actor,
    decision_choices,
    qualifier,
    split_code,
    tasks,
    unknown_task,
)
from handlers.status_text import clean

_YEAR_RE = re.compile(r"(?:nam\s*)?(20\d\d)")


def history(ctx: Context, msg: Incoming) -> list[Reply]:
    """Every update of a task, oldest first (registered people only)."""
    who = actor(ctx, msg)
    if not may_read(who):
        return [Reply(NOT_REGISTERED)]
    args = clean(msg.args)
    split = split_code(args)
    if split is None:
        return [
            Reply(
                "Anh/chị gõ mã nhiệm vụ sau lệnh, ví dụ: /lichsu 2.4 (thêm năm: /lichsu 2.4 2026)"
            )
        ]
    code, rest = split
    programme_id, rest = qualifier(ctx, rest)
    year_match = _YEAR_RE.search(fold(rest))
    year = int(year_match.group(1)) if year_match else None
    found = tasks(ctx, code, programme_id)
    if not found:
        return [unknown_task(code)]
    if len(found) > 1:
        return [decision_choices(code, found, "/lichsu", rest)]
    task = found[0]
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
