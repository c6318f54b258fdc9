"""The Vietnamese text of reminders and admin alerts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from core.markup import bold
from core.render import shorten
from scheduler.calendar import WorkCalendar
from scheduler.kinds import registry
from scheduler.kinds.base import Occurrence
from scheduler.kinds.wording import MAX_LISTED_AGENCIES

_TITLE_MAX = 160  # a longer first line is a paragraph: only its "Kính gửi …:" is the title


def render(occ: Occurrence, today: date, calendar: WorkCalendar) -> str:
    """The reminder text of one occurrence, as of the day it is sent (written by its kind)."""
    return titled(registry.producing(occ.kind).render(occ, today, calendar))


def titled(text: str) -> str:
    """The text with its first line (or the part before its first colon) in bold."""
    first, newline, rest = text.partition("\n")
    if len(first) <= _TITLE_MAX:
        return bold(first) + newline + rest
    head, colon, tail = first.partition(": ")
    if not colon or len(head) > _TITLE_MAX:
        return text
    return f"{bold(head + ':')} {tail}{newline}{rest}"


def gap_text(rule_id: int, occurrences: Sequence[Occurrence]) -> str:
    """Admins: agencies a reminder could not reach (no linked chat, no focal point)."""
    kind = registry.label(occurrences[0].kind) if occurrences else "nhắc việc"
    names = sorted({occ.agency.name for occ in occurrences if occ.agency})
    lines = [
        f"Nhắc việc #{rule_id} ({kind}) chưa gửi được cho {len(names)} đơn vị vì đơn vị chưa "
        "liên kết nhóm chat và chưa có cán bộ đầu mối:"
    ]
    lines += [f"• {name}" for name in names[:MAX_LISTED_AGENCIES]]
    if len(names) > MAX_LISTED_AGENCIES:
        lines.append(f"• … và {len(names) - MAX_LISTED_AGENCIES} đơn vị khác.")
    lines.append(
        "Đề nghị thêm bot vào nhóm chat của đơn vị rồi gõ /lienket <tên đơn vị>, "
        "hoặc mời cán bộ đầu mối của đơn vị dùng bot."
    )
    return "\n".join(lines)


def chat_gone_text(platform: str, chat_id: str, label: str) -> str:
    """Admins: the bot can no longer write to a chat."""
    return (
        f"⚠️ Không gửi được nhắc việc vào {label} ({platform} {chat_id}): bot đã bị xóa khỏi "
        "nhóm, bị chặn hoặc nhóm không còn tồn tại. Nhóm đã được đánh dấu ngừng hoạt động; "
        "các nhắc việc sau sẽ gửi cho cán bộ đầu mối (nếu có). Để nhận lại nhắc việc trong nhóm, "
        "vui lòng thêm bot vào nhóm và gõ /lienket <tên đơn vị>."
    )


def dead_letter_text(platform: str, chat_id: str, label: str, attempts: int, error: str) -> str:
    """Admins: a reminder was given up after repeated failures."""
    return (
        f"⚠️ Nhắc việc gửi tới {label} ({platform} {chat_id}) không thành công sau {attempts} "
        f"lần thử (lỗi: {shorten(error, 120)}). Hệ thống đã ngừng gửi lại; vui lòng kiểm tra kết "
        "nối tới nền tảng chat hoặc gửi thông báo thủ công."
    )


def rejected_text(platform: str, chat_id: str, label: str, error: str) -> str:
    """Admins: the platform refused a reminder for good."""
    return (
        f"⚠️ Nền tảng {platform} từ chối nhắc việc gửi tới {label} ({chat_id}): "
        f"{shorten(error, 120)}. Nhắc việc này sẽ không được gửi lại."
    )


def broken_rule_text(rule_id: int, what: str) -> str:
    """Admins: one rule's reminders cannot be worked out, so it is skipped (others still go)."""
    detail = f" ({what})" if what else ""
    return (
        f"⚠️ Không tính được lịch gửi của nhắc việc #{rule_id}{detail}, nên nhắc việc này đang "
        "bị bỏ qua; các nhắc việc khác vẫn gửi bình thường. Đề nghị kiểm tra lại, ví dụ đặt lại "
        f"hạn bằng /hanchot <mã nhiệm vụ> <ngày>, hoặc tạm dừng bằng /tamdung {rule_id}."
    )
