"""Greeting and help."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from core.model import Incoming, Reply
from handlers.context import Context

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


@dataclass(frozen=True)
class HelpEntry:
    """One command as /trogiup lists it."""

    name: str
    aliases: tuple[str, ...]
    description: str
    example: str


def start(ctx: Context, msg: Incoming) -> list[Reply]:
    """Greet the user and say what the bot does."""
    return [Reply(GREETING)]


def help_replies(entries: Sequence[HelpEntry]) -> list[Reply]:
    """Every command with its aliases, what it does and an example."""
    lines = ["Các lệnh anh/chị có thể dùng:", ""]
    for entry in entries:
        names = " ".join(f"/{name}" for name in (entry.name, *entry.aliases))
        example = entry.example if entry.example != f"/{entry.name}" else ""
        lines.append(f"{names} — {entry.description}" + (f". Ví dụ: {example}" if example else ""))
    lines += [
        "",
        "Mẹo: gõ không dấu hay viết tắt đều được (skhdt, gtvt, sân bay → san bay). "
        "Mã nhiệm vụ có dạng 2.4. Khi tôi đưa ra danh sách, trả lời bằng số để chọn.",
    ]
    return [Reply("\n".join(lines))]
