"""What the chat bridge counts and logs about updates and replies (core/metrics.py holds the
metrics): one debug line per update with its chat and kind, never its text."""

from __future__ import annotations

import logging
import time

from bot import commands
from core import metrics
from core.model import Incoming, parse_command

log = logging.getLogger(__name__)


def kind_of(incoming: Incoming | None, events: int) -> str:
    """The `command` label: a command's canonical name, other (unknown command), text,
    button, file, event (membership and the like) or ignored (nothing for the core)."""
    if incoming is None:
        return "event" if events else "ignored"
    if incoming.choice_token is not None:
        return "button"
    parsed = None if incoming.command else parse_command(incoming.text)
    name = incoming.command or (parsed.name if parsed is not None else None)
    if name is None:
        return "file" if incoming.file_ref is not None else "text"
    command = commands.find(name)
    return command.name if command is not None else "other"


def received(platform: str, incoming: Incoming | None, events: int) -> float:
    """Count an update and log it at debug; the monotonic time it arrived."""
    kind = kind_of(incoming, events)
    metrics.UPDATES.labels(platform, kind).inc()
    if incoming is not None:
        chat = incoming.chat
        log.debug("%s update %s in %s chat %s", platform, kind, chat.kind.value, chat.id)
    else:
        log.debug("%s update %s (%d chat events)", platform, kind, events)
    return time.monotonic()


def replied(platform: str, started: float | None, replies: int) -> None:
    """Record how long an update took until its last reply part was sent (if it had replies)."""
    if started is None or not replies:
        return
    seconds = time.monotonic() - started
    metrics.REPLY_SECONDS.labels(platform).observe(seconds)
    log.debug("%s update answered with %d replies in %.0f ms", platform, replies, seconds * 1000)
