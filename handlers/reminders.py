"""Reminder commands: /nhacviec, /hanchot, /nhacmot, /nhaclap, /tamdung, /tieptuc, /huynhac."""

from __future__ import annotations

import re
from calendar import monthrange
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from core.model import ChatKind, Incoming, Reply
from core.textnorm import fold
from data.store import repositories as repo
from data.store.models import (
    ChatRecord,
    Person,
    PersonIdentity,
    ReminderKind,
    ReminderRule,
    RuleStatus,
    Task,
)
from data.store.people import is_admin
from data.store.succession import current_agency
from handlers.context import Context
from scheduler import cron, messages, outbox
from scheduler.calendar import WorkCalendar, as_utc
from scheduler.config import ReminderConfig
from scheduler.horizon import Horizon, horizon
from scheduler.occurrences import Directory, Occurrence, RuleFailure, occurrences
from scheduler.rules import cron_trigger, set_task_deadline, unsaved_defaults, working_slots

UPCOMING_DAYS = 90
UPCOMING_SHOWN = 6
FIRST_WITHIN = 400  # days: /nhaclap names the first reminder if it comes this soon
NOT_ADMIN = (
    "Lệnh /{name} chỉ dành cho quản trị viên nhắc việc. Anh/chị vui lòng liên hệ cán bộ "
    "Sở Tài chính phụ trách theo dõi Chương trình nếu cần thay đổi."
)
STATUS_LABEL = {
    RuleStatus.ACTIVE.value: "đang bật",
    RuleStatus.PAUSED.value: "đang tạm dừng",
    RuleStatus.CANCELLED.value: "đã hủy",
}
_DATE_RE = re.compile(r"^([0-9]{1,2})[/.-]([0-9]{1,2})[/.-]([0-9]{4})$")
_TIME_RE = re.compile(r"^([0-9]{1,2})(?:[:hg]([0-9]{2})?)?$", re.IGNORECASE)
_RULE_NUMBER = re.compile(r"^#?([0-9]+)$")
_MAX_RULE_NUMBER = 2**31 - 1  # the largest id a PostgreSQL integer column holds
_CRON_START = re.compile(r"^[0-9*][0-9*/,\-]*$")  # a minute field: the line is crontab
_WEEKDAYS = {"thu2": "mon", "thu3": "tue", "thu4": "wed", "thu5": "thu", "thu6": "fri"}
_WEEKDAYS |= {"thu7": "sat", "cn": "sun", "chunhat": "sun"}
_WEEKDAY_LABEL = {"mon": "thứ Hai", "tue": "thứ Ba", "wed": "thứ Tư", "thu": "thứ Năm"}
_WEEKDAY_LABEL |= {"fri": "thứ Sáu", "sat": "thứ Bảy", "sun": "Chủ nhật"}


# -- permissions ----------------------------------------------------------------------------------


def _refuse(ctx: Context, msg: Incoming) -> list[Reply] | None:
    if is_admin(ctx.session, ctx.settings, msg.platform, msg.user.id):
        return None
    return [Reply(NOT_ADMIN.format(name=msg.command or "nhacviec"))]


def _config(ctx: Context) -> ReminderConfig:
    return ReminderConfig.from_settings(ctx.settings)


# -- parsing --------------------------------------------------------------------------------------


def parse_day(text: str) -> date | None:
    """dd/mm/yyyy (or with . or -) as a date, None when it is not one."""
    match = _DATE_RE.match(text.strip())
    if match is None:
        return None
    day, month, year = (int(part) for part in match.groups())
    try:
        return date(year, month, day)
    except ValueError:
        return None


def impossible_day(text: str) -> str | None:
    """Why a well-formed dd/mm/yyyy is no real date (30/02/2027), None when it is fine."""
    match = _DATE_RE.match(text.strip())
    if match is None or parse_day(text) is not None:
        return None
    day, month, year = (int(part) for part in match.groups())
    stamp = f"{day:02d}/{month:02d}/{year:04d}"
    if not 1 <= month <= 12:
        return f"Ngày {stamp} không có thật: tháng chỉ từ 1 đến 12."
    if year < 1:
        return f"Ngày {stamp} không có thật: năm phải từ 0001 trở đi."
    last = monthrange(year, month)[1]
    return f"Ngày {stamp} không có thật: tháng {month}/{year} chỉ có {last} ngày."


def parse_time(text: str) -> time | None:
    """HH:MM, 8h30, 8g, 14 as a time of day, None when it is not one."""
    match = _TIME_RE.match(text.strip())
    if match is None:
        return None
    hour, minute = int(match.group(1)), int(match.group(2) or 0)
    if hour > 23 or minute > 59:
        return None
    return time(hour, minute)


def out_of_horizon(day: date, span: Horizon, example: str) -> str | None:
    """A polite refusal when day lies outside the programme's period (plus a few years)."""
    if day in span:
        return None
    return (
        f"Ngày {day:%d/%m/%Y} nằm ngoài thời gian theo dõi của Chương trình; anh/chị chọn một "
        f"ngày {span.describe()}, ví dụ: {example}."
    )


@dataclass(frozen=True)
class Schedule:
    """A recurring schedule typed by an admin: the crontab line and how to say it."""

    cron: str
    label: str
    text: str


def parse_schedule(args: str) -> Schedule | str:
    """`hangngay 08:30 …`, `thu2 08:30 …`, `ngay5 08:30 …` or `30 8 * * 1 …`; else a reason."""
    words = args.split()
    if words and _CRON_START.match(words[0]):
        if len(words) < 6:
            return f"thiếu trường cron hoặc nội dung. {cron.HELP}"
        try:
            line = cron.parse(" ".join(words[:5]))
        except cron.CronError as exc:
            return f"{exc}. {cron.HELP}"
        return Schedule(line.expression, f"theo lịch cron “{line.expression}”", " ".join(words[5:]))
    if len(words) < 3:
        return "thiếu lịch, giờ hoặc nội dung"
    when, clock_text, text = fold(words[0]).replace(" ", ""), words[1], " ".join(words[2:])
    clock = parse_time(clock_text)
    if clock is None:
        return f"giờ “{clock_text}” chưa đúng (ví dụ 08:30)"
    minute_hour = f"{clock.minute} {clock.hour}"
    stamp = f"{clock:%H:%M}"
    if when in ("hangngay", "moingay"):
        return Schedule(f"{minute_hour} * * mon-fri", f"{stamp} mỗi ngày làm việc", text)
    if when in _WEEKDAYS:
        day = _WEEKDAYS[when]
        return Schedule(
            f"{minute_hour} * * {day}", f"{stamp} {_WEEKDAY_LABEL[day]} hằng tuần", text
        )
    monthly = re.fullmatch(r"ngay(\d{1,2})", when)
    if monthly and 1 <= int(monthly.group(1)) <= 31:
        day_of_month = int(monthly.group(1))
        return Schedule(
            f"{minute_hour} {day_of_month} * *", f"{stamp} ngày {day_of_month} hằng tháng", text
        )
    return f"không hiểu lịch “{words[0]}”"


# -- which rules reach a chat ---------------------------------------------------------------------


@dataclass(frozen=True)
class Audience:
    """Who is asking: the agency of the chat (or of the focal point), and admin rights."""

    agency_id: int | None
    agency_name: str
    admin: bool


def _audience(ctx: Context, msg: Incoming) -> Audience:
    admin = is_admin(ctx.session, ctx.settings, msg.platform, msg.user.id)
    record = ctx.session.scalars(
        select(ChatRecord).where(
            ChatRecord.platform == msg.platform,
            ChatRecord.chat_id == msg.chat.id,
            ChatRecord.active.is_(True),
        )
    ).first()
    agency = record.agency if record is not None else None
    if agency is None and msg.chat.kind is ChatKind.PRIVATE:
        person = ctx.session.scalars(
            select(Person)
            .join(PersonIdentity, PersonIdentity.person_id == Person.id)
            .where(
                PersonIdentity.platform == msg.platform,
                PersonIdentity.user_id == msg.user.id,
                Person.active.is_(True),
            )
        ).first()
        agency = person.agency if person is not None else None
    if agency is None:
        return Audience(None, "", admin)
    today = current_agency(agency)
    return Audience(today.id, today.name, admin)


def _reaches(
    session: Session, rule: ReminderRule, directory: Directory, agency_id: int | None, chat: str
) -> bool:
    if rule.platform and rule.chat_id and f"{rule.platform}:{rule.chat_id}" == chat:
        return True
    if agency_id is None:
        return False
    kind = rule.kind
    if kind == ReminderKind.CYCLE and rule.programme_id is not None:
        return agency_id in directory.obligations_of(session, rule.programme_id)
    if (
        kind in (ReminderKind.ESCALATION, ReminderKind.COMPILE, ReminderKind.DIGEST)
        and rule.programme is not None
    ):
        coordinator = rule.programme.coordinating_agency_id
        return coordinator is not None and directory.current.get(coordinator) == agency_id
    if kind == ReminderKind.TASK_DEADLINE and rule.task is not None:
        owed = directory.obligations_of(session, rule.task.programme_id).get(agency_id, [])
        return any(ref.id == rule.task_id for ref in owed)
    if rule.agency_id is not None:
        return directory.current.get(rule.agency_id) == agency_id
    return False


def describe_rule(rule: ReminderRule, calendar: WorkCalendar) -> str:
    """One line saying what a rule does."""
    kind = rule.kind
    programme = rule.programme
    decision = f" (Quyết định {programme.decision_number})" if programme is not None else ""
    if kind == ReminderKind.CYCLE and programme is not None:
        deadline = f"{programme.report_day:02d}/{programme.report_month:02d}"
        return f"Nhắc báo cáo kết quả năm, hạn {deadline} hằng năm{decision}"
    if kind == ReminderKind.ESCALATION:
        return f"Danh sách đơn vị chưa báo cáo, gửi đơn vị tổng hợp sau hạn{decision}"
    if kind == ReminderKind.COMPILE:
        return f"Nhắc đơn vị tổng hợp báo cáo năm gửi UBND tỉnh trước 31/12{decision}"
    if kind == ReminderKind.DIGEST:
        return f"Bản tin tuần gửi đơn vị tổng hợp (thay đổi, đơn vị chưa báo cáo){decision}"
    if kind == ReminderKind.TASK_DEADLINE and rule.task is not None:
        deadline = f"{rule.task.deadline:%d/%m/%Y}" if rule.task.deadline else "(chưa đặt)"
        return f"Hạn chót nhiệm vụ {rule.task.code}: {deadline}"
    if kind == ReminderKind.ONCE and rule.fire_at is not None:
        moment = calendar.local(rule.fire_at)
        return f"Nhắc một lần lúc {moment:%H:%M %d/%m/%Y}: {rule.text}"
    if kind == ReminderKind.RECURRING:
        label = (rule.params or {}).get("schedule") or rule.cron
        return f"Nhắc định kỳ {label}: {rule.text}"
    if kind == ReminderKind.ALERTS:
        return "Cảnh báo cho quản trị viên khi nhắc việc gửi không được (của hệ thống)"
    return "Thông báo hệ thống"


def _number(rule_id: int) -> str:
    """ "#12 " — or nothing for a default rule the reminder service has not saved yet."""
    return f"#{rule_id} " if rule_id > 0 else ""


def _occurrence_line(occ: Occurrence, calendar: WorkCalendar, count: int = 1) -> str:
    moment = calendar.local(occ.due)
    label = messages.KIND_LABEL.get(occ.kind, "nhắc việc")
    when = f"{calendar.describe_day(moment.date())} {moment:%H:%M}"
    if count > 1:
        return f"• {when} — {_number(occ.rule_id)}{label}: {count} đơn vị"
    detail = f" ({len(occ.tasks)} nhiệm vụ)" if occ.tasks else ""
    who = f" cho {occ.agency.name}" if occ.agency else ""
    return f"• {when} — {_number(occ.rule_id)}{label}{who}{detail}"


def _listed_rules(ctx: Context, config: ReminderConfig, now: datetime) -> list[ReminderRule]:
    """Rules not cancelled, then the defaults the reminder service has yet to save."""
    stored = ctx.session.scalars(
        select(ReminderRule)
        .options(selectinload(ReminderRule.programme), selectinload(ReminderRule.task))
        .where(ReminderRule.status != RuleStatus.CANCELLED.value)
        .order_by(ReminderRule.id)
    ).all()
    return [*stored, *unsaved_defaults(ctx.session, config, now)]


def list_reminders(ctx: Context, msg: Incoming) -> list[Reply]:
    """/nhacviec: the rules that reach this chat and the next reminders (reads only)."""
    session = ctx.session
    config = _config(ctx)
    calendar = config.calendar()
    now = ctx.now()
    audience = _audience(ctx, msg)
    chat = f"{msg.platform}:{msg.chat.id}"
    directory = Directory.load(session, ctx.settings)
    rules = _listed_rules(ctx, config, now)
    shown = [
        rule
        for rule in rules
        if audience.admin
        or (
            rule.kind != ReminderKind.ALERTS
            and _reaches(session, rule, directory, audience.agency_id, chat)
        )
    ]
    if audience.agency_name:
        header = f"Nhắc việc áp dụng cho {audience.agency_name}:"
    elif audience.admin:
        header = "Tất cả nhắc việc (anh/chị là quản trị viên):"
    else:
        header = "Chưa có nhắc việc nào gửi tới cuộc trò chuyện này."
    lines = [header]
    for rule in shown:
        status = STATUS_LABEL.get(rule.status, "")
        lines.append(f"{_number(rule.id) or '• '}{describe_rule(rule, calendar)} — {status}")
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
        if audience.admin
        or (audience.agency_id is not None and occ.agency and occ.agency.id == audience.agency_id)
        or any(f"{d.platform}:{d.chat_id}" == chat for d in occ.destinations)
    ]
    if mine:
        lines += ["", "Lần nhắc sắp tới:"]
        lines += _upcoming_lines(mine, calendar, summarise=audience.admin)
    if not shown and not mine and msg.chat.kind is ChatKind.GROUP:
        lines.append(
            "Để nhận nhắc việc của đơn vị trong nhóm này, gõ /lienket <tên đơn vị>, "
            "ví dụ: /lienket so y te."
        )
    if audience.admin and any(rule.id < 0 for rule in shown):
        lines.append(
            "(Các nhắc việc mặc định chưa có số sẽ được đánh số khi bộ nhắc việc chạy lần đầu.)"
        )
    if audience.admin:
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


def _upcoming_lines(
    found: list[Occurrence], calendar: WorkCalendar, *, summarise: bool
) -> list[str]:
    if not summarise:
        return [_occurrence_line(occ, calendar) for occ in found[:UPCOMING_SHOWN]]
    groups: dict[tuple[datetime, int], list[Occurrence]] = defaultdict(list)
    for occ in found:
        groups[(occ.due, occ.rule_id)].append(occ)
    return [
        _occurrence_line(items[0], calendar, len(items))
        for _, items in sorted(groups.items())[:UPCOMING_SHOWN]
    ]


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
        f"Đã đặt hạn chót cho nhiệm vụ {task.code} ({messages.short(task.title, 80)}): "
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
    if rule.kind == ReminderKind.ALERTS.value:
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
