"""Reminder commands: /nhacviec, /hanchot, /nhacmot, /nhaclap, /tamdung, /tieptuc, /huynhac."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from core.model import ChatKind, Incoming, Reply
from core.render import shorten
from core.textnorm import fold
from data.store import repositories as repo
from data.store.models import ChatRecord, ReminderKind, ReminderRule, RuleStatus, Task
from data.store.people import is_admin
from data.store.succession import current_agency
from handlers.context import Context
from handlers.permissions import ADMINS_ONLY
from handlers.reminder_input import (
    impossible_day,
    out_of_horizon,
    parse_day,
    parse_schedule,
    parse_time,
)
from handlers.reminder_view import (
    STATUS_LABEL,
    UPCOMING_SHOWN,
    audience,
    describe_rule,
    listed_rules,
    number,
    shown_to,
    upcoming_lines,
)
from scheduler import cron, outbox
from scheduler.calendar import as_utc
from scheduler.config import ReminderConfig
from scheduler.cron import cron_trigger, working_slots
from scheduler.horizon import horizon
from scheduler.kinds.registry import kind_of
from scheduler.occurrences import Directory, RuleFailure, occurrences
from scheduler.rules import set_task_deadline

UPCOMING_DAYS = 90
FIRST_WITHIN = 400  # days: /nhaclap names the first reminder if it comes this soon
_RULE_NUMBER = re.compile(r"^#?([0-9]+)$")
_MAX_RULE_NUMBER = 2**31 - 1  # the largest id a PostgreSQL integer column holds


# -- permissions ----------------------------------------------------------------------------------


def _refuse(ctx: Context, msg: Incoming) -> list[Reply] | None:
    if is_admin(ctx.session, ctx.settings, msg.platform, msg.user.id):
        return None
    return [Reply(ADMINS_ONLY)]


def _config(ctx: Context) -> ReminderConfig:
    return ReminderConfig.from_settings(ctx.settings)


def list_reminders(ctx: Context, msg: Incoming) -> list[Reply]:
    """/nhacviec: the rules that reach this chat and the next reminders (reads only)."""
    session = ctx.session
    config = _config(ctx)
    calendar = config.calendar()
    now = ctx.now()
    asking = audience(ctx, msg)
    chat = f"{msg.platform}:{msg.chat.id}"
    directory = Directory.load(session, ctx.settings)
    rules = listed_rules(ctx, config, now)
    shown = [rule for rule in rules if shown_to(session, rule, directory, asking, chat)]
    if asking.agency_name:
        header = f"Nhắc việc áp dụng cho {asking.agency_name}:"
    elif asking.admin:
        header = "Tất cả nhắc việc (anh/chị là quản trị viên):"
    else:
        header = "Chưa có nhắc việc nào gửi tới cuộc trò chuyện này."
    lines = [header]
    for rule in shown:
        status = STATUS_LABEL.get(rule.status, "")
        lines.append(f"{number(rule.id) or '• '}{describe_rule(rule, calendar)} — {status}")
    failures: list[RuleFailure] = []
    upcoming = occurrences(
        session,
        [rule for rule in rules if rule.status == RuleStatus.ACTIVE.value],
        directory,
        calendar,
        config,
        now,
        now + timedelta(days=UPCOMING_DAYS),
        per_rule=UPCOMING_SHOWN,  # no more are shown; rules that fire every minute stay cheap
        failures=failures,
        texts=False,
    )
    mine = [
        occ
        for occ in upcoming
        if asking.admin
        or (asking.agency_id is not None and occ.agency and occ.agency.id == asking.agency_id)
        or any(f"{d.platform}:{d.chat_id}" == chat for d in occ.destinations)
    ]
    if mine:
        lines += ["", "Lần nhắc sắp tới:"]
        lines += upcoming_lines(mine, calendar, summarise=asking.admin)
    if not shown and not mine and msg.chat.kind is ChatKind.GROUP:
        lines.append(
            "Để nhận nhắc việc của đơn vị trong nhóm này, gõ /lienket <tên đơn vị>, "
            "ví dụ: /lienket so y te."
        )
    if asking.admin and any(rule.id < 0 for rule in shown):
        lines.append(
            "(Các nhắc việc mặc định chưa có số sẽ được đánh số khi bộ nhắc việc chạy lần đầu.)"
        )
    if asking.admin:
        for rule_id in dict.fromkeys(failure.rule_id for failure in failures):
            lines += [
                "",
                f"⚠️ Không tính được lịch gửi của nhắc việc #{rule_id} nên nhắc việc này đang bị "
                f"bỏ qua; anh/chị kiểm tra lại hoặc gõ /tamdung {rule_id}.",
            ]
        lines += [
            "",
            "Quản trị viên: /tamdung <số>, /tieptuc <số>, /huynhac <số>; "
            "/hanchot <mã nhiệm vụ> <ngày>; /nhacmot <ngày> <giờ> <nội dung>; "
            "/nhaclap <lịch> <giờ> <nội dung>.",
        ]
    return [Reply("\n".join(lines))]


# -- per-task deadlines ---------------------------------------------------------------------------


def _task(ctx: Context, code: str) -> Task | list[Task]:
    found = repo.tasks_by_code(ctx.session, code)
    return found[0] if len(found) == 1 else found


def set_deadline(ctx: Context, msg: Incoming) -> list[Reply]:
    """/hanchot <mã> <dd/mm/yyyy>: set a task's deadline (admins); without a date, show it."""
    words = msg.args.split()
    usage = "Anh/chị gõ: /hanchot <mã nhiệm vụ> <ngày/tháng/năm>, ví dụ: /hanchot 2.4 30/06/2027."
    if not words:
        return [Reply(usage)]
    found = _task(ctx, words[0])
    if isinstance(found, list):
        if not found:
            return [Reply(f"Không có nhiệm vụ mã {words[0]}. {usage}")]
        return [Reply(f"Có {len(found)} nhiệm vụ mã {words[0]} ở các quyết định khác nhau.")]
    task = found
    if len(words) == 1:
        if task.deadline is None:
            return [Reply(f"Nhiệm vụ {task.code} chưa có hạn chót riêng. {usage}")]
        return [Reply(f"Hạn chót của nhiệm vụ {task.code}: {task.deadline:%d/%m/%Y}.")]
    refused = _refuse(ctx, msg)
    if refused:
        return refused
    now = ctx.now()
    by = f"{msg.platform}:{msg.user.id}"
    if fold(words[1]) in ("xoa", "huy", "bo"):
        set_task_deadline(ctx.session, task, None, by=by, now=now)
        return [Reply(f"Đã bỏ hạn chót của nhiệm vụ {task.code}; các nhắc việc theo hạn này dừng.")]
    deadline = parse_day(words[1])
    if deadline is None:
        impossible = impossible_day(words[1])
        if impossible:
            return [Reply(f"{impossible} {usage}")]
        return [Reply(f"Ngày “{words[1]}” chưa đúng dạng ngày/tháng/năm. {usage}")]
    calendar = _config(ctx).calendar()
    if deadline < calendar.today(now):
        return [Reply(f"Ngày {deadline:%d/%m/%Y} đã qua; anh/chị chọn một ngày sắp tới.")]
    too_far = out_of_horizon(deadline, horizon(ctx.session), f"/hanchot {task.code} 30/06/2027")
    if too_far:
        return [Reply(too_far)]
    rule = set_task_deadline(ctx.session, task, deadline, by=by, now=now)
    assert rule is not None
    lead = current_agency(task.lead_agency).name if task.lead_agency else "đơn vị chủ trì"
    text = (
        f"Đã đặt hạn chót cho nhiệm vụ {task.code} ({shorten(task.title, 80)}): "
        f"{calendar.describe_day(deadline)} (nhắc việc #{rule.id})."
    )
    if not calendar.is_working_day(deadline):
        text += " Hạn rơi vào ngày nghỉ nên lần nhắc cuối sẽ gửi vào ngày làm việc trước đó."
    text += f"\n{lead} và các đơn vị phối hợp sẽ được nhắc trước hạn và khi quá hạn."
    return [Reply(text)]


# -- one-off and recurring reminders ----------------------------------------------------------


def _custom_rule(ctx: Context, msg: Incoming, kind: ReminderKind, text: str) -> ReminderRule:
    now = ctx.now()
    rule = ReminderRule(
        kind=kind.value,
        platform=msg.platform,
        chat_id=msg.chat.id,
        text=text.strip(),
        params={},
        created_by=f"{msg.platform}:{msg.user.id}",
        created_at=now,
        updated_at=now,
    )
    record = ctx.session.scalars(
        select(ChatRecord).where(
            ChatRecord.platform == msg.platform, ChatRecord.chat_id == msg.chat.id
        )
    ).first()
    if record is not None and record.agency_id is not None:
        rule.agency_id = record.agency_id
    ctx.session.add(rule)
    return rule


def remind_once(ctx: Context, msg: Incoming) -> list[Reply]:
    """/nhacmot <dd/mm/yyyy> [HH:MM] <nội dung>: a one-off reminder in this chat (admins)."""
    usage = (
        "Anh/chị gõ: /nhacmot <ngày> [giờ] <nội dung>, "
        "ví dụ: /nhacmot 20/12/2026 09:00 Họp giao ban."
    )
    refused = _refuse(ctx, msg)
    if refused:
        return refused
    words = msg.args.split()
    day = parse_day(words[0]) if words else None
    if day is None:
        impossible = impossible_day(words[0]) if words else None
        return [Reply(f"{impossible} {usage}" if impossible else usage)]
    config = _config(ctx)
    clock = parse_time(words[1]) if len(words) > 1 else None
    text = " ".join(words[2:] if clock is not None else words[1:])
    if not text:
        return [Reply(f"Thiếu nội dung nhắc. {usage}")]
    calendar = config.calendar()
    moment = calendar.at(day, clock or config.reminder_time)
    if as_utc(moment) <= as_utc(ctx.now()):
        return [Reply(f"Thời điểm {moment:%H:%M %d/%m/%Y} đã qua; anh/chị chọn thời điểm sắp tới.")]
    too_far = out_of_horizon(day, horizon(ctx.session), "/nhacmot 20/12/2026 09:00 Họp giao ban")
    if too_far:
        return [Reply(too_far)]
    rule = _custom_rule(ctx, msg, ReminderKind.ONCE, text)
    rule.fire_at = as_utc(moment)
    ctx.session.flush()
    slot = calendar.slot_at_or_before(moment)
    answer = f"Đã đặt nhắc việc #{rule.id} lúc {moment:%H:%M} {calendar.describe_day(day)}."
    if slot != moment:
        answer += (
            f" Thời điểm này ngoài giờ làm việc nên nhắc việc sẽ gửi sớm hơn, lúc "
            f"{slot:%H:%M} {calendar.describe_day(slot.date())}."
        )
    return [Reply(answer)]


def remind_every(ctx: Context, msg: Incoming) -> list[Reply]:
    """/nhaclap <lịch> <giờ> <nội dung>: a recurring reminder in this chat (admins)."""
    usage = (
        "Anh/chị gõ: /nhaclap <lịch> <giờ> <nội dung>. Lịch: hangngay (ngày làm việc), "
        "thu2…thu7, cn (hằng tuần), ngay5 (ngày 5 hằng tháng) hoặc 5 trường cron. "
        "Ví dụ: /nhaclap thu2 08:30 Cập nhật tiến độ nhiệm vụ."
    )
    refused = _refuse(ctx, msg)
    if refused:
        return refused
    schedule = parse_schedule(msg.args)
    if isinstance(schedule, str):
        if cron.HELP in schedule:  # the crontab help already says how to write it
            return [Reply(f"Chưa đặt được nhắc việc: {schedule}")]
        return [Reply(f"Chưa đặt được nhắc việc: {schedule}. {usage}")]
    if not schedule.text.strip():
        return [Reply(f"Thiếu nội dung nhắc. {usage}")]
    config = _config(ctx)
    calendar = config.calendar()
    now = ctx.now()
    trigger = cron_trigger(schedule.cron, config.timezone)  # parsed above: cannot fail
    first = next(working_slots(trigger, calendar, now, now + timedelta(days=FIRST_WITHIN)), None)
    rule = _custom_rule(ctx, msg, ReminderKind.RECURRING, schedule.text)
    rule.cron = schedule.cron
    rule.params = {"schedule": schedule.label}
    ctx.session.flush()
    answer = f"Đã đặt nhắc việc định kỳ #{rule.id}: {schedule.label}."
    if first is not None:
        answer += f" Lần đầu: {first:%H:%M} {calendar.describe_day(first.date())}."
    return [Reply(answer)]


# -- pause, resume, cancel --------------------------------------------------------------------


def _rule_from_args(ctx: Context, msg: Incoming) -> ReminderRule | Reply:
    """The rule numbered as /nhacviec shows it (#12 or 12), or the reply to give instead."""
    match = _RULE_NUMBER.match(msg.args.strip())
    if match is None:
        return Reply(
            f"Anh/chị gõ số của nhắc việc, ví dụ: /{msg.command} 3. Gõ /nhacviec để xem các số."
        )
    digits = match.group(1).lstrip("0") or "0"
    if len(digits) > len(str(_MAX_RULE_NUMBER)) or int(digits) > _MAX_RULE_NUMBER:
        shown = f"{digits}." if len(digits) <= 12 else f"{digits[:12]}…"
        return Reply(f"Không có nhắc việc nào mang số {shown} Gõ /nhacviec để xem danh sách.")
    rule = ctx.session.get(ReminderRule, int(digits))
    if rule is None:
        return Reply(f"Không có nhắc việc #{digits}. Gõ /nhacviec để xem danh sách.")
    if kind_of(rule).system:
        return Reply(
            f"Nhắc việc #{rule.id} là cảnh báo của hệ thống cho quản trị viên nên luôn bật, "
            "không tạm dừng hay hủy được."
        )
    return rule


def _set_status(ctx: Context, msg: Incoming, status: RuleStatus) -> list[Reply]:
    refused = _refuse(ctx, msg)
    if refused:
        return refused
    found = _rule_from_args(ctx, msg)
    if isinstance(found, Reply):
        return [found]
    rule = found
    if rule.status == RuleStatus.CANCELLED.value and status is not RuleStatus.CANCELLED:
        return [Reply(f"Nhắc việc #{rule.id} đã hủy, không thể bật lại; anh/chị tạo nhắc mới.")]
    if rule.status == status.value:
        return [Reply(f"Nhắc việc #{rule.id} vốn {STATUS_LABEL[status.value]}.")]
    rule.status = status.value
    rule.updated_at = ctx.now()
    if status is not RuleStatus.ACTIVE:
        outbox.skip_rule(ctx.session, rule.id, f"rule {status.value}")
    calendar = _config(ctx).calendar()
    done = {
        RuleStatus.ACTIVE: "Đã bật lại",
        RuleStatus.PAUSED: "Đã tạm dừng",
        RuleStatus.CANCELLED: "Đã hủy",
    }[status]
    return [Reply(f"{done} nhắc việc #{rule.id}: {describe_rule(rule, calendar)}.")]


def pause(ctx: Context, msg: Incoming) -> list[Reply]:
    """/tamdung <số>: pause a rule (admins)."""
    return _set_status(ctx, msg, RuleStatus.PAUSED)


def resume(ctx: Context, msg: Incoming) -> list[Reply]:
    """/tieptuc <số>: resume a paused rule (admins)."""
    return _set_status(ctx, msg, RuleStatus.ACTIVE)


def cancel(ctx: Context, msg: Incoming) -> list[Reply]:
    """/huynhac <số>: cancel a rule for good (admins)."""
    return _set_status(ctx, msg, RuleStatus.CANCELLED)
