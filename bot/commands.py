"""The one command table: Vietnamese names, English aliases, handlers, who may use them and where,
help text and the command menus by scope."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from core.model import Incoming, Reply
from core.textnorm import fold
from handlers import (
    basic,
    flows,
    groups,
    imports,
    lookup,
    people,
    reminders,
    reports,
    status_flow,
    status_history,
    status_mine,
    status_return,
    status_update,
    web_link,
)
from handlers.basic import Audience, Where
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
    audience: Audience = Audience.EVERYONE  # who may use it
    where: Where = Where.BOTH  # private chats, groups or both

    @property
    def names(self) -> tuple[str, ...]:
        """The Vietnamese name first, then the aliases."""
        return (self.name, *self.aliases)

    @property
    def in_groups(self) -> bool:
        """Whether the command answers in groups (private-only ones point to a private chat)."""
        return self.where is not Where.PRIVATE


def _help(ctx: Context, msg: Incoming) -> list[Reply]:
    return basic.help_for(ctx, msg, help_entries())


COMMANDS: tuple[Command, ...] = (
    Command("start", ("batdau",), basic.start, "Giới thiệu bot và cách dùng", "/start"),
    Command("trogiup", ("help",), _help, "Danh sách lệnh và ví dụ", "/trogiup"),
    Command("tim", ("search",), lookup.search, "Tìm nhiệm vụ, đơn vị", "/tim san bay chu lai"),
    Command("nhiemvu", ("task",), lookup.task, "Xem một nhiệm vụ theo mã", "/nhiemvu 2.4"),
    Command("donvi", ("agency",), lookup.agency, "Nhiệm vụ của một đơn vị", "/donvi so tai chinh"),
    Command("linhvuc", ("sector",), lookup.sector, "Các lĩnh vực dịch vụ", "/linhvuc 5"),
    Command(
        "lienket",
        ("link",),
        groups.link_group,
        "Liên kết nhóm chat với đơn vị",
        "/lienket so y te",
        audience=Audience.FOCAL,
        where=Where.GROUP,
    ),
    Command(
        "huylienket",
        ("unlink",),
        groups.unlink_group,
        "Hủy liên kết nhóm chat",
        "/huylienket",
        audience=Audience.FOCAL,
        where=Where.GROUP,
    ),
    Command("toi", ("whoami", "me"), people.whoami, "Anh/chị là ai với bot", "/toi"),
    Command(
        "dangky",
        ("register",),
        people.register,
        "Đăng ký bằng mã mời (chat riêng)",
        "/dangky ABCDE-23456",
        audience=Audience.EVERYONE,
        where=Where.PRIVATE,
    ),
    Command(
        "maketnoi",
        ("linkcode",),
        people.link_code,
        "Mã để dùng chung tài khoản trên Telegram và Zalo",
        "/maketnoi",
        audience=Audience.REGISTERED,
        where=Where.PRIVATE,
    ),
    Command(
        "capnhat",
        ("update",),
        status_update.update,
        "Cập nhật tình hình nhiệm vụ",
        _UPDATE_EXAMPLE,
        audience=Audience.FOCAL,
    ),
    Command(
        "cuatoi",
        ("mine",),
        status_mine.mine,
        "Nhiệm vụ của đơn vị tôi, phần còn thiếu",
        "/cuatoi",
        audience=Audience.REGISTERED,
    ),
    Command(
        "lichsu",
        ("history",),
        status_history.history,
        "Lịch sử cập nhật nhiệm vụ",
        "/lichsu 2.4",
        audience=Audience.REGISTERED,
    ),
    Command(
        "baocao",
        ("report",),
        reports.report,
        "Báo cáo năm: tóm tắt, Excel, Word, biểu đồ",
        "/baocao xlsx",
    ),
    Command(
        "web",
        ("trangweb",),
        web_link.web,
        "Mở trang theo dõi trên trình duyệt (đường dẫn một lần)",
        "/web",
        audience=Audience.REGISTERED,
        where=Where.PRIVATE,
    ),
    Command(
        "huy",
        ("cancel",),
        flows.cancel,
        "Hủy thao tác đang làm dở",
        "/huy",
        audience=Audience.FOCAL,
    ),
    Command(
        "moi",
        ("invite",),
        people.invite,
        "Tạo mã mời cán bộ đầu mối (quản trị)",
        "/moi so y te",
        audience=Audience.ADMIN,
        where=Where.PRIVATE,
    ),
    Command(
        "nguoidung",
        ("users",),
        people.list_people,
        "Danh sách người dùng (quản trị)",
        "/nguoidung",
        audience=Audience.ADMIN,
        where=Where.PRIVATE,
    ),
    Command(
        "thuhoi",
        ("revoke",),
        people.revoke,
        "Thu hồi quyền người dùng (quản trị)",
        "/thuhoi 3",
        audience=Audience.ADMIN,
        where=Where.PRIVATE,
    ),
    Command(
        imports.COMMAND,
        ("import",),
        imports.command,
        "Nhập quyết định mới từ tệp Word/PDF (quản trị)",
        "/nhapqd",
        audience=Audience.ADMIN,
        where=Where.PRIVATE,
    ),
    Command(
        "tralai",
        ("return",),
        status_return.return_update,
        "Trả lại cập nhật để bổ sung (quản trị)",
        "/tralai 2.4 Bổ sung số liệu",
        audience=Audience.ADMIN,
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
        audience=Audience.ADMIN,
    ),
    Command(
        "nhacmot",
        ("remindonce",),
        reminders.remind_once,
        "Nhắc một lần (quản trị)",
        "/nhacmot 20/12/2026 09:00 Họp giao ban",
        audience=Audience.ADMIN,
    ),
    Command(
        "nhaclap",
        ("remindevery",),
        reminders.remind_every,
        "Nhắc định kỳ (quản trị)",
        "/nhaclap thu2 08:30 Cập nhật tiến độ",
        audience=Audience.ADMIN,
    ),
    Command(
        "tamdung",
        ("pause",),
        reminders.pause,
        "Tạm dừng một nhắc việc (quản trị)",
        "/tamdung 3",
        audience=Audience.ADMIN,
    ),
    Command(
        "tieptuc",
        ("resume",),
        reminders.resume,
        "Bật lại nhắc việc (quản trị)",
        "/tieptuc 3",
        audience=Audience.ADMIN,
    ),
    Command(
        "huynhac",
        ("cancelreminder",),
        reminders.cancel,
        "Hủy một nhắc việc (quản trị)",
        "/huynhac 3",
        audience=Audience.ADMIN,
    ),
)


# Guided conversations by kind: free text goes to the user's open flow before search.
FLOWS: dict[str, FlowHandler] = {
    status_flow.FLOW_KIND: status_flow.flow_text,
    imports.FLOW_KIND: imports.flow_text,
}


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


def help_entries() -> list[basic.HelpEntry]:
    """The command table as /trogiup lists it."""
    return [
        basic.HelpEntry(c.name, c.aliases, c.description, c.example, c.audience, c.where)
        for c in COMMANDS
    ]


# --- menus ------------------------------------------------------------------------------------

# Menu scopes, named as the Telegram Bot API names its BotCommandScope types.
GROUP_CHATS = "all_group_chats"
PRIVATE_CHATS = "all_private_chats"
ONE_CHAT = "chat"
DESCRIPTION = (
    "Trợ lý tra cứu Chương trình hành động phát triển khu vực dịch vụ tỉnh Quảng Ngãi "
    "(Quyết định 1731/QĐ-UBND): tìm nhiệm vụ, đơn vị chủ trì, đơn vị phối hợp và giải pháp; "
    "cán bộ đầu mối cập nhật tình hình thực hiện, nhận nhắc việc và báo cáo năm. "
    "Gõ không dấu, viết tắt đều được. Bấm Bắt đầu, rồi gõ /trogiup để xem cách dùng."
)
SHORT_DESCRIPTION = (
    "Tra cứu nhiệm vụ, đơn vị của Quyết định 1731/QĐ-UBND (Quảng Ngãi); cập nhật tiến độ, "
    "nhắc việc."
)
AdminChats = Callable[[], Sequence[str]]  # the admins' known private chats on one platform
_ADMIN_CHATS: dict[str, AdminChats] = {}


@dataclass(frozen=True)
class Menu:
    """The command menu of one scope: all group chats, all private chats, or one chat."""

    scope: str
    commands: tuple[tuple[str, str], ...]  # (name, description)
    chat_id: str | None = None


def _entries(audience: Audience, group: bool) -> tuple[tuple[str, str], ...]:
    return tuple(
        (c.name, c.description)
        for c in COMMANDS
        if c.audience <= audience and c.where.allows(group)
    )


def menus(admin_chats: Sequence[str] = ()) -> list[Menu]:
    """Menus by scope: groups and private chats without admin commands, admins' own chats all."""
    found = [
        Menu(GROUP_CHATS, _entries(Audience.FOCAL, group=True)),
        Menu(PRIVATE_CHATS, _entries(Audience.FOCAL, group=False)),
    ]
    admin = _entries(Audience.ADMIN, group=False)
    found += [Menu(ONE_CHAT, admin, chat) for chat in dict.fromkeys(admin_chats)]
    return found


@contextmanager
def admin_chats_from(platform: str, source: AdminChats | None) -> Iterator[None]:
    """While the block runs, menus_for(platform) reads the admins' private chats from source."""
    if source is not None:
        _ADMIN_CHATS[platform] = source
    try:
        yield
    finally:
        if source is not None and _ADMIN_CHATS.get(platform) is source:
            del _ADMIN_CHATS[platform]


def menus_for(platform: str) -> list[Menu]:
    """The platform's menus, one for each admin's known private chat (may read the database)."""
    source = _ADMIN_CHATS.get(platform)
    return menus(source() if source is not None else ())
