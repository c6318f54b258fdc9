"""What the bridge reads from an update besides the core's answer: whether the sender's group
status matters, and which chat action to show while the answer is prepared."""

from __future__ import annotations

import re

from core.model import Attachment, ChatKind, Incoming, parse_command

# A bare number answers a list of choices, which may hold a link command.
_CHOICE_NUMBER = re.compile(r"\d{1,3}\s*[.)]?")
REPORT_COMMAND = "baocao"  # answered with a file when a format is named


def needs_chat_admin_check(incoming: Incoming) -> bool:
    """Whether a group message may change the group's link, so the sender's status matters.

    Link and unlink commands, and the ways of picking a choice (a button, a bare number), since
    a choice may stand for a link command.
    """
    if incoming.chat.kind is not ChatKind.GROUP:
        return False
    if incoming.choice_token is not None:
        return True
    if incoming.command is not None:
        from bot.commands import find
        from handlers.groups import CHAT_ADMIN_COMMANDS

        command = find(incoming.command)
        return command is not None and command.name in CHAT_ADMIN_COMMANDS
    return _CHOICE_NUMBER.fullmatch(incoming.text.strip()) is not None


def upload_action(file: Attachment) -> str:
    """The chat action shown while a file is on its way."""
    return "upload_photo" if file.mime_type.startswith("image/") else "upload_document"


def expected_action(incoming: Incoming) -> str | None:
    """The chat action for a message answered with a report file (/baocao with a format);
    None when the answer is text or cannot be told before the core runs (a button press)."""
    if incoming.choice_token is not None:
        return None
    parsed = (incoming.command, incoming.args) if incoming.command else parse_command(incoming.text)
    if parsed is None:
        return None
    from bot.commands import find
    from data.reports import formats
    from handlers.reports import parse_args

    command = find(parsed[0])
    if command is None or command.name != REPORT_COMMAND:
        return None
    fmt, _year, understood = parse_args(parsed[1])
    if fmt is None or not understood:
        return None
    image = formats.FORMATS[fmt].mime_type.startswith("image/")
    return "upload_photo" if image else "upload_document"
