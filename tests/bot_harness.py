"""In-process harness for the bot core: a seeded database (each backend), search, the router."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.router import Router
from core.limits import LIMITS as CAPABILITIES
from core.model import ChatKind, Incoming, Reply
from core.render import render
from core.settings import Settings
from data.store.db import Database
from tests.telegram_html import shown

GROUP_ID = "group-1"


@dataclass
class Clock:
    """A controllable clock for choice expiry."""

    now: datetime = field(default_factory=lambda: datetime(2026, 11, 26, 9, 0, tzinfo=UTC))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        """Move the clock forward."""
        self.now += timedelta(**delta)


class Bot:
    """Talk to the router as users on some platform would; replies come back rendered."""

    def __init__(self, router: Router, clock: Clock) -> None:
        self.router = router
        self.clock = clock

    def incoming(
        self,
        text: str,
        *,
        platform: str = "console",
        user: str = "u1",
        chat: str | None = None,
        group: bool = False,
        addressed: bool = True,
        token: str | None = None,
    ) -> Incoming:
        """Build an Incoming like an adapter would."""
        from core.model import Chat, User

        kind = ChatKind.GROUP if group else ChatKind.PRIVATE
        chat_id = chat or (GROUP_ID if group else f"private-{user}")
        return Incoming(
            platform=platform,
            chat=Chat(id=chat_id, kind=kind),
            user=User(id=user, display_name=user),
            text=text,
            addressed=addressed,
            choice_token=token,
        )

    def replies(self, text: str, **options: Any) -> list[Reply]:
        """The router's raw replies (choices carry tokens)."""
        return self.router.handle(self.incoming(text, **options))

    def say(self, text: str, **options: Any) -> str:
        """The replies as the platform would show them, joined by blank lines."""
        platform = options.get("platform", "console")
        parts = [
            shown(part.text, CAPABILITIES[platform])
            for reply in self.replies(text, **options)
            for part in render(reply, CAPABILITIES[platform])
        ]
        return "\n\n".join(parts)


@pytest.fixture
def clock() -> Clock:
    """A fixed clock the test can advance."""
    return Clock()


@pytest.fixture
def bot(seeded_db: Database, search_engine: Any, clock: Clock) -> Bot:
    """The router over a private seeded database and the shared search index."""
    router = Router(seeded_db, search_engine, Settings(), CAPABILITIES, now=clock)
    return Bot(router, clock)
