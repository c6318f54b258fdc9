"""The Vietnamese text of reminders and admin alerts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from scheduler.calendar import WorkCalendar
from scheduler.occurrences import LEAD, Occurrence, TaskRef
from scheduler.rules import Kind

MAX_TITLE = 90
MAX_LISTED_AGENCIES = 40
ROLE_LABEL = {LEAD: "chủ trì", "partner": "phối hợp"}
KIND_LABEL = {
    Kind.BEFORE: "nhắc hạn báo cáo năm",
    Kind.DUE: "nhắc hạn báo cáo năm",
    Kind.OVERDUE: "nhắc báo cáo quá hạn",
    Kind.ESCALATION: "danh sách đơn vị chưa báo cáo",
    Kind.COMPILE: "nhắc tổng hợp báo cáo năm",
    Kind.TASK_BEFORE: "nhắc hạn nhiệm vụ",
    Kind.TASK_DUE: "nhắc hạn nhiệm vụ",
    Kind.TASK_OVERDUE: "nhắc nhiệm vụ quá hạn",
    Kind.ONCE: "nhắc việc một lần",
    Kind.RECURRING: "nhắc việc định kỳ",
    Kind.DIGEST: "bản tin tuần",
}


def short(text: str, limit: int = MAX_TITLE) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _task_lines(tasks: Sequence[TaskRef]) -> list[str]:
    return [f"• {t.code} ({ROLE_LABEL.get(t.role, t.role)}): {short(t.title)}" for t in tasks]


def _when(deadline: date, today: date, calendar: WorkCalendar, what: str) -> str:
    """ "còn 14 ngày đến hạn …" / "hôm nay là hạn cuối …" with the deadline's date."""
    left = (deadline - today).days
    stamp = f"{deadline:%d/%m/%Y}"
    if left > 0:
        text = f"còn {left} ngày đến hạn {what} ({stamp})"
        if not calendar.is_working_day(deadline) and left <= 3:
            text += (
                f"; hạn rơi vào ngày nghỉ ({calendar.describe_day(deadline)}) nên đề nghị "
                "hoàn thành trong ngày làm việc cuối cùng trước hạn"
            )
        return text
    if left == 0:
        return f"hôm nay ({stamp}) là hạn cuối {what}"
    return f"đã quá hạn {what} ({stamp}) {-left} ngày"


def render(occ: Occurrence, today: date, calendar: WorkCalendar) -> str:
    """The reminder text of one occurrence, as of the day it is sent."""
    plan = occ.plan
    deadline = plan.deadline if plan is not None else None
    year = plan.year if plan is not None else None
    name = occ.agency.name if occ.agency else ""
    decision = f" theo Quyết định {occ.programme}" if occ.programme else ""
    via = f" qua {occ.coordinator}" if occ.coordinator and occ.coordinator != name else ""
    if occ.kind in (Kind.BEFORE, Kind.DUE, Kind.OVERDUE) and deadline is not None:
        what = f"báo cáo kết quả thực hiện năm {year}{decision}"
        lines = [f"Kính gửi {name}: {_when(deadline, today, calendar, what)}."]
        lines.append(f"Các nhiệm vụ chưa báo cáo ({len(occ.tasks)}):")
        lines += _task_lines(occ.tasks)
        if occ.kind == Kind.OVERDUE:
            lines.append(f"Đề nghị quý cơ quan khẩn trương gửi báo cáo về UBND tỉnh{via}.")
        else:
            lines.append(f"Đề nghị quý cơ quan gửi báo cáo về UBND tỉnh{via} đúng hạn.")
        lines.append("Xin trân trọng cảm ơn.")
        return "\n".join(lines)
    if occ.kind == Kind.ESCALATION and deadline is not None:
        lines = [
            f"Kính gửi {name}: đến ngày {today:%d/%m/%Y} còn {len(occ.missing)}/"
            f"{occ.reporting_total} đơn vị chưa báo cáo đầy đủ kết quả thực hiện năm {year}"
            f"{decision} (hạn {deadline:%d/%m/%Y}):"
        ]
        lines += _missing_lines(occ)
        lines.append("Đề nghị quý cơ quan đôn đốc các đơn vị trên.")
        return "\n".join(lines)
    if occ.kind == Kind.COMPILE and deadline is not None:
        what = f"tổng hợp, báo cáo UBND tỉnh kết quả thực hiện năm {year}{decision}"
        lines = [f"Kính gửi {name}: {_when(deadline, today, calendar, what)}."]
        reported = occ.reporting_total - len(occ.missing)
        if occ.missing:
            lines.append(
                f"Đã có {reported}/{occ.reporting_total} đơn vị báo cáo đầy đủ; "
                f"còn {len(occ.missing)} đơn vị chưa báo cáo:"
            )
            lines += _missing_lines(occ)
        else:
            lines.append(f"Tất cả {occ.reporting_total} đơn vị đã báo cáo đầy đủ.")
        return "\n".join(lines)
    if occ.kind in (Kind.TASK_BEFORE, Kind.TASK_DUE, Kind.TASK_OVERDUE) and deadline is not None:
        task = occ.tasks[0]
        role = ROLE_LABEL.get(task.role, task.role)
        what = f"hoàn thành nhiệm vụ {task.code}"
        lines = [
            f"Kính gửi {name}: {_when(deadline, today, calendar, what)}.",
            f"Nhiệm vụ {task.code} (đơn vị {role}): {short(task.title, 200)}",
            "Khi hoàn thành, đề nghị quý cơ quan cập nhật tình hình thực hiện nhiệm vụ.",
        ]
        return "\n".join(lines)
    if occ.kind == Kind.DIGEST:
        return occ.text  # written whole by scheduler.digest
    greeting = f"Kính gửi {name}: " if name else ""
    return f"Nhắc việc — {greeting}{occ.text.strip()}"


def _missing_lines(occ: Occurrence) -> list[str]:
    lines = []
    for item in occ.missing[:MAX_LISTED_AGENCIES]:
        codes = ", ".join(task.code for task in item.tasks)
        lines.append(f"• {item.agency.name}: {len(item.tasks)} nhiệm vụ ({codes})")
    if len(occ.missing) > MAX_LISTED_AGENCIES:
        lines.append(f"• … và {len(occ.missing) - MAX_LISTED_AGENCIES} đơn vị khác.")
    return lines


def gap_text(rule_id: int, occurrences: Sequence[Occurrence]) -> str:
    """Admins: agencies a reminder could not reach (no linked chat, no focal point)."""
    kind = KIND_LABEL.get(occurrences[0].kind, "nhắc việc") if occurrences else "nhắc việc"
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
        f"lần thử (lỗi: {short(error, 120)}). Hệ thống đã ngừng gửi lại; vui lòng kiểm tra kết "
        "nối tới nền tảng chat hoặc gửi thông báo thủ công."
    )


def rejected_text(platform: str, chat_id: str, label: str, error: str) -> str:
    """Admins: the platform refused a reminder for good."""
    return (
        f"⚠️ Nền tảng {platform} từ chối nhắc việc gửi tới {label} ({chat_id}): "
        f"{short(error, 120)}. Nhắc việc này sẽ không được gửi lại."
    )


def broken_rule_text(rule_id: int, what: str) -> str:
    """Admins: one rule's reminders cannot be worked out, so it is skipped (others still go)."""
    detail = f" ({what})" if what else ""
    return (
        f"⚠️ Không tính được lịch gửi của nhắc việc #{rule_id}{detail}, nên nhắc việc này đang "
        "bị bỏ qua; các nhắc việc khác vẫn gửi bình thường. Đề nghị kiểm tra lại, ví dụ đặt lại "
        f"hạn bằng /hanchot <mã nhiệm vụ> <ngày>, hoặc tạm dừng bằng /tamdung {rule_id}."
    )
