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


def _as_object(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return None
    return value


def _https(url: Any) -> bool:
    return isinstance(url, str) and url.startswith("https://") and len(url) > len("https://")


def button_problem(button: Any, chat_id: Any) -> str:
    """What the Bot API refuses in one InlineKeyboardButton ("" when valid).

    Exactly one action field; a web_app button only in a private chat (a user's id, positive)
    and only with an HTTPS address.
    """
    if not isinstance(button, dict) or not str(button.get("text", "")):
        return "BUTTON_TEXT_INVALID"
    kinds = [k for k in _BUTTON_KINDS if button.get(k) is not None]
    if len(kinds) != 1:
        return "exactly one of the optional fields must be used in an InlineKeyboardButton"
    web_app = button.get("web_app")
    if web_app is not None:
        if str(chat_id).startswith("-"):
            return "BUTTON_TYPE_INVALID"
        if not isinstance(web_app, dict) or not _https(web_app.get("url")):
            return "BUTTON_URL_INVALID"
    return ""


_BUTTON_KINDS = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)


def menu_button_problem(menu_button: Any) -> str:
    """What the Bot API refuses in setChatMenuButton's MenuButton ("" when valid or absent)."""
    if menu_button is None:
        return ""
    button = _as_object(menu_button)
    kind = button.get("type") if isinstance(button, dict) else None
    if kind in ("commands", "default"):
        return ""
    if kind != "web_app":
        return f"unsupported menu button {menu_button!r}"
    web_app = button.get("web_app")
    if not str(button.get("text", "")).strip():
        return "menu button text is empty"
    if not isinstance(web_app, dict) or not _https(web_app.get("url")):
        return "BUTTON_URL_INVALID"
    return ""
