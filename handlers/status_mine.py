"""/cuatoi: my agency's tasks, their status this year, and what the report still lacks."""

from __future__ import annotations

from core import labels
from core.model import Incoming, Reply
from core.render import shorten
from data.store import status as st
from data.store.models import Role, Task, UpdateState
from handlers.context import Context
from handlers.permissions import NOT_REGISTERED, may_read
from handlers.status_card import when
from handlers.status_common import actor, year
from handlers.status_text import classification_label, status_phrase


def mine(ctx: Context, msg: Incoming) -> list[Reply]:
    """My agency's tasks, their status this year, and what the report still lacks."""
    who = actor(ctx, msg)
    if not may_read(who):
        return [Reply(NOT_REGISTERED)]
    agency = who.agency
    if agency is None:
        return [
            Reply(
                "Tài khoản của anh/chị không gắn với đơn vị nào. Gõ /donvi <tên đơn vị> để xem "
                "nhiệm vụ của một đơn vị, hoặc /nhiemvu <mã> để xem tình hình một nhiệm vụ."
            )
        ]
    reporting = year(ctx)
    rows = st.agency_tasks(ctx.session, agency)
    if not rows:
        return [Reply(f"{agency.name} chưa được giao nhiệm vụ nào trong chương trình.")]
    missing = st.missing_tasks(ctx.session, agency, reporting)
    ids = st.family_ids(ctx.session, agency)
    now = ctx.now()
    several = ctx.catalog.several_programmes

    def code(task: Task) -> str:
        return f"{task.code} ({task.programme.decision_number})" if several else task.code

    lines = [f"Nhiệm vụ của {agency.name} — năm {reporting}:"]
    for task, role in rows:
        updates = st.history(ctx.session, task.id, reporting)
        latest = st.latest_of(updates, ids)
        due = st.deadline(task, reporting)
        today = st.local(now, ctx.settings.timezone).date()
        cls = st.classify(latest, st.done_since(updates, ids), due, today, ctx.settings.timezone)
        role_label = labels.TASK_ROLE[role]
        head = (
            f"• {code(task)} — {role_label} — " if several else f"• {task.code} ({role_label}) — "
        )
        if latest is None:
            lines.append(head + classification_label(cls, None))
        elif latest.state == UpdateState.RETURNED.value:
            reason = shorten(latest.returned_reason or "", 80)
            lines.append(head + f"bị trả lại để bổ sung: {reason}")
        else:
            lines.append(
                head
                + f"{status_phrase(latest.status, latest.progress)} · "
                + f"{classification_label(cls, latest.status)}, cập nhật "
                + when(latest.created_at, ctx.settings.timezone)[:10]
            )
    lines.append("")
    if missing:
        codes = ", ".join(code(t) for t in missing)
        lines.append(
            f"Còn thiếu báo cáo năm {reporting}: {len(missing)}/{len(rows)} nhiệm vụ ({codes}). "
            + _deadlines(missing, reporting, several)
        )
        if who.role is Role.FOCAL or who.is_admin:
            example = missing[0].code
            if several:
                example += " " + missing[0].programme.decision_number
            lines.append("Gõ /capnhat <mã> để cập nhật, ví dụ: /capnhat " + example)
    else:
        lines.append(f"Đơn vị đã báo cáo đủ {len(rows)} nhiệm vụ năm {reporting}. Cảm ơn anh/chị!")
    return [Reply("\n".join(lines))]


def _deadlines(missing: list[Task], reporting: int, several: bool) -> str:
    """ "Hạn báo cáo: 15/12/2026." — one per decision when their deadlines differ."""
    due: dict[str, str] = {}
    for task in missing:
        due.setdefault(task.programme.decision_number, f"{st.deadline(task, reporting):%d/%m/%Y}")
    if len(set(due.values())) == 1 or not several:
        return f"Hạn báo cáo: {next(iter(due.values()))}."
    parts = [
        f"{when} ({decision})"
        for decision, when in sorted(due.items(), key=lambda i: i[1][3:5] + i[1][:2])
    ]
    return "Hạn báo cáo: " + "; ".join(parts) + "."
