"""The narrow surface adapters talk to: the core handles messages and chat events."""

from __future__ import annotations

from typing import Protocol

from core.model import ChatEvent, Incoming, Reply


class MessageHandler(Protocol):
    """What every platform adapter calls; implemented by bot.router.Router."""

    def handle(self, incoming: Incoming) -> list[Reply]:
        """Answer one incoming message (or button press) with zero or more replies."""
        ...

    def handle_event(self, event: ChatEvent) -> list[Reply]:
        """Record a chat-level event (bot removed, group migrated, …)."""
        ...
