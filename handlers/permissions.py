"""Who may do what: admins administer, focal points update their tasks, registered people read."""

from __future__ import annotations

from core import labels
from data.store import status as st
from data.store.models import Role, Task
from data.store.people import Actor

NOT_REGISTERED = (
    "Anh/chị chưa đăng ký với bot. Nếu anh/chị là cán bộ đầu mối của một đơn vị, xin nhờ quản trị "
    "(cơ quan thường trực chương trình) gửi mã mời, rồi gõ /dangky <mã> trong chat riêng với bot."
)
# The one "admin only" answer, whatever the command.
ADMINS_ONLY = (
    "Xin lỗi, chức năng này chỉ dành cho quản trị viên (cơ quan thường trực chương trình)."
)


def may_read(who: Actor) -> bool:
    """Registered people (any role) may read statuses and histories."""
    return who.role is not None


def may_update(who: Actor, task: Task) -> st.Responsibility | None:
    """The task record the actor would report for, or None when they may not update it."""
    agency = who.agency
    if who.is_admin:
        own = st.acting_for(task, agency) if agency is not None else None
        if own is not None:
            return own
        named = st.responsibilities(task)
        if named:
            return named[0]
        return st.Responsibility(task.lead_agency, st.Role.LEAD) if task.lead_agency else None
    if who.role is not Role.FOCAL or agency is None:
        return None
    return st.acting_for(task, agency)


def who_can_update(task: Task) -> str:
    """ "cán bộ đầu mối của Sở Xây dựng (chủ trì), Sở Y tế (phối hợp) và quản trị"."""
    names = [
        f"{item.current.name} ({labels.TASK_ROLE[item.role]})"
        for item in st.responsible_today(task)
    ]
    if not names:
        return "quản trị"
    return "cán bộ đầu mối của " + ", ".join(names) + " và quản trị"


def update_refusal(who: Actor, task: Task) -> str:
    """A polite refusal that says who can update the task."""
    text = (
        f"Xin lỗi, anh/chị chưa có quyền cập nhật nhiệm vụ {task.code}. "
        f"Nhiệm vụ này do {who_can_update(task)} cập nhật."
    )
    role = who.role
    if role is None:
        return text + (
            " Nếu anh/chị là cán bộ đầu mối của một trong các đơn vị trên, xin nhờ quản trị gửi "
            "mã mời rồi gõ /dangky <mã> trong chat riêng với bot."
        )
    if role is Role.OBSERVER:
        return text + " Tài khoản của anh/chị có quyền xem (quan sát), không cập nhật."
    agency = who.agency
    if agency is not None:
        return text + (
            f" Anh/chị là cán bộ đầu mối của {agency.name}; gõ /cuatoi để xem các nhiệm vụ "
            "của đơn vị mình."
        )
    return text
