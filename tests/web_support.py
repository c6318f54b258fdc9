"""Harness for the web view tests: a seeded router and the web server on a free local port."""

from __future__ import annotations

import asyncio
import json
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from bot.platforms.web.server import start_web
from bot.router import Router
from core.limits import LIMITS
from core.model import Chat, ChatKind, Incoming, User
from core.settings import Settings
from data.store.catalog import load_catalog
from data.store.db import Database
from data.store.models import Role
from handlers.web.auth import sign_init_data
from handlers.web.service import WebService
from tests.bot_harness import Clock
from tests.store_support import register

BOT_TOKEN = "123456:TEST-web-view-token"
ADMIN_TG = "9001"


def settings_for(port: int) -> Settings:
    """Settings with a test bot token, the web view's public address and one admin."""
    extra = {
        "DAUMOI_TELEGRAM_TOKEN": BOT_TOKEN,
        "DAUMOI_WEB_URL": f"http://127.0.0.1:{port}/web",
        "DAUMOI_WEB_LISTEN": f"127.0.0.1:{port}",
    }
    return Settings(admins=(f"telegram:{ADMIN_TG}",), telegram_token=BOT_TOKEN, extra=extra)


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Site:
    """The web view running in a thread, and the router users chat with."""

    base: str
    router: Router
    service: WebService
    clock: Clock
    database: Database

    def add_person(self, platform: str, user: str, role: Role, agency: str | None) -> None:
        """A registered person (invitation made and redeemed in the database)."""
        with self.database.unit_of_work() as session:
            register(
                session,
                platform=platform,
                user=user,
                role=role,
                agency=agency,
                display_name=f"Cán bộ {user}",
                private_chat_id=f"private-{user}",
                now=self.clock(),
            )

    def say(self, text: str, user: str, platform: str = "zalo") -> str:
        """What the router answers a private message."""
        incoming = Incoming(
            platform=platform,
            chat=Chat(f"private-{user}", ChatKind.PRIVATE),
            user=User(user, user),
            text=text,
        )
        return "\n".join(reply.text for reply in self.router.handle(incoming))

    def login_link(self, user: str, platform: str = "zalo") -> str:
        """The link /web answers with."""
        text = self.say("/web", user, platform)
        found = re.search(r"http://\S+", text)
        assert found, text
        return found.group(0)

    def init_data(self, user_id: str, *, age: float = 0, name: str = "Lan") -> str:
        """initData as Telegram signs it for a Mini App opened age seconds ago."""
        fields = {
            "auth_date": str(int(self.clock().timestamp() - age)),
            "query_id": f"AAH{user_id}",
            "user": json.dumps({"id": int(user_id), "first_name": name}, separators=(",", ":")),
        }
        return sign_init_data(BOT_TOKEN, fields)

    def lead_of(self, code: str) -> str:
        """Today's name of the lead agency of a task."""
        with self.database.unit_of_work() as session:
            catalog = load_catalog(session)
        entry = catalog.tasks_by_code(code)[0]
        assert entry.lead is not None
        return entry.lead.current_name

    def task_id(self, code: str) -> int:
        """The id of a task by code."""
        return self.router.catalog.get().tasks_by_code(code)[0].id


def serve(database: Database, search: Any, clock: Clock) -> Iterator[Site]:
    """Start the web view on a free port in its own thread; stop it afterwards."""
    port = free_port()
    settings = settings_for(port)
    router = Router(database, search, settings, LIMITS, now=clock)
    service = WebService(
        database, settings, catalog=router.catalog.get, search=lambda: search, now=clock
    )
    loop = asyncio.new_event_loop()
    started = threading.Event()
    holder: dict[str, Any] = {}

    def run() -> None:
        asyncio.set_event_loop(loop)
        holder["runner"] = loop.run_until_complete(start_web(f"127.0.0.1:{port}", service))
        started.set()
        loop.run_forever()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert started.wait(20), "web server did not start"
    try:
        yield Site(f"http://127.0.0.1:{port}/web", router, service, clock, database)
    finally:
        asyncio.run_coroutine_threadsafe(holder["runner"].cleanup(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)


@pytest.fixture
def site(seeded_db: Database, search_engine: Any, clock: Clock) -> Iterator[Site]:
    """The web view over a seeded database."""
    yield from serve(seeded_db, search_engine, clock)
