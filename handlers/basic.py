"""Greeting and help: /trogiup shows what this person may do in this chat."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum, StrEnum

from core.model import ChatKind, Incoming, Reply
from core.textnorm import fold
from data.store import people as people_store
from data.store.models import Role
from handlers import people
from handlers.context import Context
from handlers.permissions import ADMINS_ONLY

GREETING = "\n".join(
    [
        "Xin chào! Tôi là trợ lý tra cứu Chương trình hành động thực hiện Chiến lược phát triển "
        "khu vực dịch vụ của tỉnh Quảng Ngãi (Quyết định 1731/QĐ-UBND).",
        "",
        "Tôi giúp anh/chị tìm nhanh nhiệm vụ, đơn vị chủ trì, đơn vị phối hợp và các giải pháp "
        "cụ thể. Gõ không dấu, viết tắt đều được.",
        "",
        "Thử ngay:",
        "• /tim san bay chu lai",
        "• /nhiemvu 2.4",
        "• /donvi skhdt",
        "• /linhvuc",
        "",
        "Trong chat riêng, anh/chị cũng có thể gõ thẳng từ khóa, không cần lệnh. "
        "Gõ /trogiup để xem tất cả các lệnh.",
    ]
)
ADMIN_TOPIC = "quantri"
_ADMIN_TOPICS = frozenset({ADMIN_TOPIC, "admin"})
_ADMIN_SUFFIX = " (quản trị)"
_STRANGER_HINT = (
    "Cán bộ đầu mối: đăng ký bằng mã mời (/dangky trong chat riêng), rồi cập nhật tiến độ "
    "bằng /capnhat."
)
_TIP = (
    "Mẹo: gõ không dấu hay viết tắt đều được (skhdt, gtvt). Mã nhiệm vụ có dạng 2.4; "
    "khi có danh sách, trả lời bằng số để chọn."
)


class Audience(IntEnum):
    """Who may use a command; each level may use everything below it."""

    EVERYONE = 0
    REGISTERED = 1  # any registered person (observers too)
    FOCAL = 2
    ADMIN = 3


class Where(StrEnum):
    """Where a command is used."""

    PRIVATE = "private"
    GROUP = "group"
    BOTH = "both"

    def allows(self, group: bool) -> bool:
        """Whether the command is used in a group (group) or a private chat (not group)."""
        return self is Where.BOTH or (self is Where.GROUP) == group


@dataclass(frozen=True)
class HelpEntry:
    """One command as /trogiup lists it."""

    name: str
    aliases: tuple[str, ...]
    description: str
    example: str
    audience: Audience = Audience.EVERYONE
    where: Where = Where.BOTH


def start(ctx: Context, msg: Incoming) -> list[Reply]:
    """Greet the user; /start <code> (a deep link's payload) registers like /dangky <code>."""
    if msg.args.strip():
        return people.register(ctx, msg)
    return [Reply(GREETING)]


def audience_of(ctx: Context, msg: Incoming) -> Audience:
    """The sender's level: stranger, registered (observer), focal point or admin."""
    who = people_store.actor(ctx.session, ctx.settings, msg.platform, msg.user.id)
    if who.is_admin:
        return Audience.ADMIN
    if who.role is Role.FOCAL:
        return Audience.FOCAL
    return Audience.REGISTERED if who.role is not None else Audience.EVERYONE


def help_for(ctx: Context, msg: Incoming, entries: Sequence[HelpEntry]) -> list[Reply]:
    """/trogiup: what this person may do here; /trogiup quantri: the admin commands."""
    level = audience_of(ctx, msg)
    topic = fold(msg.args.strip())
    if topic in _ADMIN_TOPICS and level is not Audience.ADMIN:
        return [Reply(ADMINS_ONLY)]
    return help_replies(entries, level, group=msg.chat.kind is ChatKind.GROUP, topic=topic)


def _line(entry: HelpEntry, description: str) -> str:
    names = " ".join(f"/{name}" for name in (entry.name, *entry.aliases))
    example = entry.example if entry.example != f"/{entry.name}" else ""
    return f"{names} — {description}" + (f". Ví dụ: {example}" if example else "")


def help_replies(
    entries: Sequence[HelpEntry],
    level: Audience = Audience.EVERYONE,
    *,
    group: bool = False,
    topic: str = "",
) -> list[Reply]:
    """The commands level may use here (group or private chat), or the admin page (topic)."""
    if topic in _ADMIN_TOPICS and level is Audience.ADMIN:
        return [Reply(_admin_page(entries))]
    mine = [e for e in entries if e.audience <= level and e.audience is not Audience.ADMIN]
    here = [e for e in mine if e.where.allows(group) and e.name not in ("start", "trogiup")]
    where = "trong nhóm này" if group else "trong chat riêng"
    lines = [f"Các lệnh anh/chị dùng được {where}:"]
    lines += [_line(entry, entry.description) for entry in here]
    other = [e for e in mine if not e.where.allows(group)]
    if other and level >= Audience.FOCAL:
        place = "Trong chat riêng" if group else "Trong nhóm"
        lines.append(f"{place}: " + ", ".join(f"/{e.name}" for e in other) + ".")
    if level is Audience.EVERYONE:
        lines.append(_STRANGER_HINT)
    if level is Audience.ADMIN:
        lines.append(f"Lệnh quản trị: gõ /trogiup {ADMIN_TOPIC}")
    lines += ["", _TIP]
    return [Reply("\n".join(lines))]


def _admin_page(entries: Sequence[HelpEntry]) -> str:
    lines = ["Lệnh quản trị:"]
    for entry in entries:
        if entry.audience is Audience.ADMIN:
            description = entry.description.removesuffix(_ADMIN_SUFFIX)
            if entry.where is Where.PRIVATE:
                description += " (chat riêng)"
            lines.append(_line(entry, description))
    return "\n".join(lines)
