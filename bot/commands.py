"""The one command table: Vietnamese names, English aliases, handlers and help text."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from core.model import Incoming, Reply
from core.textnorm import fold
from handlers import (
    basic,
    flows,
    groups,
    lookup,
    people,
    reminders,
    reports,
    status_flow,
    status_history,
    status_mine,
    status_return,
    status_update,
)
from handlers.context import Context
from handlers.flows import FlowHandler

Handler = Callable[[Context, Incoming], list[Reply]]
_UPDATE_EXAMPLE = "/capnhat 2.4 dang thuc hien 60% Đã làm việc với hãng bay"


@dataclass(frozen=True)
class Command:
    """One command users can type, with the handler that answers it."""

    name: str
    aliases: tuple[str, ...]
    handler: Handler
    description: str
    example: str = ""
    in_groups: bool = True

    @property
    def names(self) -> tuple[str, ...]:
        """The Vietnamese name first, then the aliases."""
        return (self.name, *self.aliases)


def _help(ctx: Context, msg: Incoming) -> list[Reply]:
    return basic.help_replies(
        [basic.HelpEntry(c.name, c.aliases, c.description, c.example) for c in COMMANDS]
    )


COMMANDS: tuple[Command, ...] = (
    Command("start", ("batdau",), basic.start, "Giới thiệu bot và cách dùng", "/start"),
    Command("trogiup", ("help",), _help, "Danh sách lệnh và ví dụ", "/trogiup"),
    Command("tim", ("search",), lookup.search, "Tìm nhiệm vụ, đơn vị", "/tim san bay chu lai"),
    Command("nhiemvu", ("task",), lookup.task, "Xem một nhiệm vụ theo mã", "/nhiemvu 2.4"),
    Command("donvi", ("agency",), lookup.agency, "Nhiệm vụ của một đơn vị", "/donvi so tai chinh"),
    Command("linhvuc", ("sector",), lookup.sector, "Các lĩnh vực dịch vụ", "/linhvuc 5"),
    Command(
        "lienket", ("link",), groups.link_group, "Liên kết nhóm chat với đơn vị", "/lienket so y te"
    ),
    Command(
        "huylienket", ("unlink",), groups.unlink_group, "Hủy liên kết nhóm chat", "/huylienket"
    ),
    Command("toi", ("whoami", "me"), people.whoami, "Anh/chị là ai với bot", "/toi"),
    Command(
        "dangky",
        ("register",),
        people.register,
        "Đăng ký bằng mã mời (chat riêng)",
        "/dangky ABCDE-23456",
        in_groups=False,
    ),
    Command(
        "maketnoi",
        ("linkcode",),
        people.link_code,
        "Mã để dùng chung tài khoản trên Telegram và Zalo",
        "/maketnoi",
        in_groups=False,
    ),
    Command(
        "capnhat",
        ("update",),
        status_update.update,
        "Cập nhật tình hình nhiệm vụ",
        _UPDATE_EXAMPLE,
    ),
    Command(
        "cuatoi",
        ("mine",),
        status_mine.mine,
        "Nhiệm vụ của đơn vị tôi, phần còn thiếu",
        "/cuatoi",
    ),
    Command(
        "lichsu",
        ("history",),
        status_history.history,
        "Lịch sử cập nhật nhiệm vụ",
        "/lichsu 2.4",
    ),
    Command(
        "baocao",
        ("report",),
        reports.report,
        "Báo cáo năm: tóm tắt, Excel, Word, biểu đồ",
        "/baocao xlsx",
    ),
    Command("huy", ("cancel",), flows.cancel, "Hủy thao tác đang làm dở", "/huy"),
    Command(
        "moi",
        ("invite",),
        people.invite,
        "Tạo mã mời cán bộ đầu mối (quản trị)",
        "/moi so y te",
        in_groups=False,
    ),
    Command(
        "nguoidung",
        ("users",),
        people.list_people,
        "Danh sách người dùng (quản trị)",
        "/nguoidung",
        in_groups=False,
    ),
    Command(
        "thuhoi",
        ("revoke",),
        people.revoke,
        "Thu hồi quyền người dùng (quản trị)",
        "/thuhoi 3",
        in_groups=False,
    ),
    Command(
        "tralai",
        ("return",),
        status_return.return_update,
        "Trả lại cập nhật để bổ sung (quản trị)",
        "/tralai 2.4 Bổ sung số liệu",
    ),
    Command(
        "nhacviec",
        ("reminders",),
        reminders.list_reminders,
        "Nhắc việc và lần nhắc tới",
        "/nhacviec",
    ),
    Command(
        "hanchot",
        ("deadline",),
        reminders.set_deadline,
        "Đặt hạn chót nhiệm vụ (quản trị)",
        "/hanchot 2.4 30/06/2027",
    ),
    Command(
        "nhacmot",
        ("remindonce",),
        reminders.remind_once,
        "Nhắc một lần (quản trị)",
        "/nhacmot 20/12/2026 09:00 Họp giao ban",
    ),
    Command(
        "nhaclap",
        ("remindevery",),
        reminders.remind_every,
        "Nhắc định kỳ (quản trị)",
        "/nhaclap thu2 08:30 Cập nhật tiến độ",
    ),
    Command(
        "tamdung", ("pause",), reminders.pause, "Tạm dừng một nhắc việc (quản trị)", "/tamdung 3"
    ),
    Command("tieptuc", ("resume",), reminders.resume, "Bật lại nhắc việc (quản trị)", "/tieptuc 3"),
    Command(
        "huynhac",
        ("cancelreminder",),
        reminders.cancel,
        "Hủy một nhắc việc (quản trị)",
        "/huynhac 3",
    ),
)


# Guided conversations by kind: free text goes to the user's open flow before search.
FLOWS: dict[str, FlowHandler] = {status_flow.FLOW_KIND: status_flow.flow_text}


def _index(commands: tuple[Command, ...]) -> dict[str, Command]:
    return {fold(name): command for command in commands for name in command.names}


_BY_NAME = _index(COMMANDS)


def find(name: str) -> Command | None:
    """Return the command called name (or one of its aliases), ignoring case and marks."""
    return _BY_NAME.get(fold(name))


def all_names() -> Iterator[str]:
    """Every name and alias users may type, without the slash."""
    for command in COMMANDS:
        yield from command.names


def menu() -> list[tuple[str, str]]:
    """(name, description) pairs for a platform's command menu (Telegram setMyCommands)."""
    return [(command.name, command.description) for command in COMMANDS]
