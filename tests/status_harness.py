"""Harness for people and status tests: a seeded router with admins, people made in one call."""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import select

from bot.router import Router
from core.limits import LIMITS as CAPABILITIES
from core.model import Chat, ChatKind, Incoming, Reply, User
from core.render import render
from core.settings import Settings
from data.store import repositories as repo
from data.store.db import Database
from data.store.models import Agency, Role, StatusUpdate, Task
from tests.databases import database_url
from tests.store_support import register
from tests.telegram_html import shown

if TYPE_CHECKING:
    from tests.bot_harness import Clock

pytest_plugins = ("tests.bot_harness",)

GROUP_ID = "group-1"  # the group chat of tests.bot_harness

ADMIN = "admin"  # listed in DAUMOI_ADMINS on the console
SETTINGS = Settings(admins=("console:admin", "telegram:9001"))


@dataclass
class Sent:
    """What one message produced: text for the sender's chat, and replies meant elsewhere."""

    replies: list[Reply]
    here: str
    elsewhere: dict[str, list[str]] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.here


class Desk:
    """Users talking to the router, plus shortcuts to set up people and read the database."""

    def __init__(self, database: Database, search: Any, clock: Clock) -> None:
        self.database = database
        self.search = search
        self.clock = clock
        self.router = Router(database, search, SETTINGS, CAPABILITIES, now=clock)
        self._updates = itertools.count(1)

    def restart(self) -> None:
        """A new process: a fresh database connection and router on the same database."""
        url = database_url(self.database)
        self.database.engine.dispose()
        self.database = Database.connect(url, migrate=False)
        self.router = Router(self.database, self.search, SETTINGS, CAPABILITIES, now=self.clock)

    def incoming(
        self,
        text: str,
        user: str,
        *,
        platform: str = "console",
        group: bool = False,
        token: str | None = None,
        update_id: str | None = None,
        file_ref: str | None = None,
    ) -> Incoming:
        """An incoming message as an adapter would build it."""
        kind = ChatKind.GROUP if group else ChatKind.PRIVATE
        return Incoming(
            platform=platform,
            chat=Chat(id=GROUP_ID if group else f"private-{user}", kind=kind),
            user=User(id=user, display_name=user.title()),
            text=text,
            choice_token=token,
            update_id=update_id,
            file_ref=file_ref,
        )

    def send(self, text: str, user: str = ADMIN, **options: Any) -> Sent:
        """Send a message; return the replies, rendered for the platform."""
        incoming = self.incoming(text, user, **options)
        replies = self.router.handle(incoming)
        capabilities = CAPABILITIES[incoming.platform]
        here: list[str] = []
        elsewhere: dict[str, list[str]] = {}
        for reply in replies:
            parts = [shown(part.text, capabilities) for part in render(reply, capabilities)]
            if reply.chat_id and reply.chat_id != incoming.chat.id:
                elsewhere.setdefault(reply.chat_id, []).extend(parts)
            else:
                here.extend(parts)
        return Sent(replies, "\n\n".join(here), elsewhere)

    def say(self, text: str, user: str = ADMIN, **options: Any) -> str:
        """The text shown in the sender's chat."""
        return self.send(text, user, **options).here

    def press(self, sent: Sent, label: str, user: str, platform: str = "telegram") -> Sent:
        """Press the button whose label contains label."""
        for reply in sent.replies:
            for choice in reply.choices:
                if label in choice.label:
                    return self.send("", user, token=choice.token, platform=platform)
        raise AssertionError(
            f"no button {label!r} in {[c.label for r in sent.replies for c in r.choices]}"
        )

    def next_update_id(self) -> str:
        """A fresh platform update id."""
        return str(next(self._updates))

    # -- setting up people --------------------------------------------------------------------

    def invite(self, agency: str, role: str = "") -> str:
        """An invitation code made by the configured admin through /moi."""
        text = self.say(f"/moi {agency} {role}".strip())
        match = re.search(r"/dangky (\S+)", text)
        assert match, text
        return match.group(1)

    def register(self, user: str, agency: str, role: str = "", platform: str = "console") -> str:
        """Invite and register a user; return the welcome text."""
        code = self.invite(agency, role)
        text = self.say(f"/dangky {code}", user, platform=platform)
        assert "Chào mừng" in text, text
        return text

    # -- reading the database -----------------------------------------------------------------

    def updates(self, code: str | None = None) -> list[StatusUpdate]:
        """Every stored status update (of one task), oldest first, detached."""
        with self.database.session() as session:
            query = select(StatusUpdate).order_by(StatusUpdate.id)
            if code is not None:
                query = query.join(Task, Task.id == StatusUpdate.task_id).where(Task.code == code)
            rows = list(session.scalars(query))
            session.expunge_all()
            return rows

    def agency(self, name: str) -> Agency:
        """An agency by name (detached)."""
        with self.database.session() as session:
            found = repo.agency_by_name(session, name)
            assert found is not None, name
            session.expunge_all()
            return found

    def add_person(
        self, user: str, role: Role, agency: str | None, platform: str = "console"
    ) -> int:
        """Create a person directly in the database (faster than /moi + /dangky)."""
        with self.database.unit_of_work() as session:
            return register(
                session,
                platform=platform,
                user=user,
                role=role,
                agency=agency,
                display_name=user.title(),
                private_chat_id=f"private-{user}",
                now=self.clock(),
            ).id


@pytest.fixture
def desk(seeded_db: Database, search_engine: Any, clock: Clock) -> Desk:
    """The router over a private seeded copy, with console:admin as configured admin."""
    return Desk(seeded_db, search_engine, clock)
