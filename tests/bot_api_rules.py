"""What the Telegram Bot API refuses in setMyCommands: command lists and scopes (for the fake)."""

from __future__ import annotations

import json
import re
from typing import Any

_SCOPES = frozenset({"default", "all_private_chats", "all_group_chats", "all_chat_administrators"})
_CHAT_SCOPES = frozenset({"chat", "chat_administrators", "chat_member"})


def command_problem(commands: list[Any]) -> str:
    """What the Bot API would refuse in a setMyCommands list ("" when valid)."""
    if len(commands) > 100:
        return "too many commands"
    for entry in commands:
        name = str(entry.get("command", "")) if isinstance(entry, dict) else ""
        text = str(entry.get("description", "")) if isinstance(entry, dict) else ""
        if not re.fullmatch(r"[a-z0-9_]{1,32}", name) or not 1 <= len(text) <= 256:
            return f"invalid bot command {entry!r}"
    return ""


def scope_problem(scope: Any) -> str:
    """What the Bot API would refuse in a BotCommandScope ("" when valid or absent)."""
    if scope is None:
        return ""
    if isinstance(scope, str):
        try:
            scope = json.loads(scope)
        except ValueError:
            return "can't parse scope JSON object"
    kind = scope.get("type") if isinstance(scope, dict) else None
    if kind in _SCOPES:
        return ""
    if kind in _CHAT_SCOPES:
        return "" if scope.get("chat_id") not in (None, "") else "chat_id is empty"
    return f"unsupported scope {scope!r}"
