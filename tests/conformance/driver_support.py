"""What every conformance driver shares: the adapter thread and the chat-record queries."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, Self, TypeVar

from core.ports import MessageHandler
from core.settings import Settings
from data.store import chats
from data.store.db import Database
from data.store.models import ChatRecord

OptionsT = TypeVar("OptionsT")


class ServeThread(Generic[OptionsT]):
    """Run `_serve` in its own thread and event loop until stopped; subclasses name the platform."""

    def __init__(self, settings: Settings, core: MessageHandler, options: OptionsT) -> None:
        self.settings = settings
        self.core = core
        self.options = options
        self.error: BaseException | None = None
        self._loop = asyncio.new_event_loop()
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)

    async def _serve(self, stop: asyncio.Event) -> None:
        """Serve the platform until stop is set."""
        raise NotImplementedError

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self._main())
        except BaseException as exc:
            self.error = exc
        finally:
            self._loop.close()

    async def _main(self) -> None:
        self._stop = asyncio.Event()
        await self._serve(self._stop)

    def start(self) -> Self:
        """Start serving."""
        self._thread.start()
        return self

    def stop(self, timeout: float = 15) -> None:
        """Ask the adapter to stop and wait; re-raise anything it died of."""
        if self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._set_stop)
            self._thread.join(timeout)
            assert not self._thread.is_alive(), "adapter did not stop"
        if self.error is not None:
            raise self.error

    def _set_stop(self) -> None:
        if self._stop is not None:
            self._stop.set()
        else:  # not started serving yet: try again shortly
            self._loop.call_later(0.05, self._set_stop)

    @property
    def alive(self) -> bool:
        """Whether the adapter is still serving."""
        return self._thread.is_alive()


class ChatQueries:
    """Driver steps that read the chats a platform's adapter recorded in the database."""

    platform: str
    database: Database

    def chat_record(self, chat_id: str | int) -> ChatRecord | None:
        """The database record of a chat (fresh session)."""
        with self.database.unit_of_work() as session:
            record = chats.find(session, self.platform, str(chat_id))
            if record is not None:
                session.expunge(record)
            return record

    def linked_agency(self, chat_id: str | int) -> str | None:
        """The name of the agency a chat is linked to."""
        with self.database.unit_of_work() as session:
            record = chats.find(session, self.platform, str(chat_id))
            return record.agency.name if record is not None and record.agency else None

    def set_member_status(self, chat: Any, person: Any, status: str) -> None:
        """A user's status in a group, on platforms that can tell (a no-op elsewhere)."""

    def wait_until(self, condition: Callable[[], bool], timeout: float = 10) -> None:
        """Poll condition until it holds."""
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise AssertionError("condition not met in time")
            time.sleep(0.05)


@dataclass(frozen=True)
class Capability:
    """What a platform driver can exercise."""

    buttons: bool = True
    groups: bool = True
    migration: bool = True
    membership_events: bool = True
    command_menu: bool = True
    chat_admins: bool = True  # the adapter can tell group admins (Telegram getChatMember)
    max_text_len: int = 4096
