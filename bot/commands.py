"""The one command table: Vietnamese names, English aliases, handlers and help text."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from bot.model import Incoming, Reply
from data.textnorm import fold
from handlers import basic, groups, lookup
from handlers.context import Context

Handler = Callable[[Context, Incoming], list[Reply]]


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
)


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
