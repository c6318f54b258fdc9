"""TEMPORARY (branch h1-outbound only): the reminder API h1b is writing, on today's service.

`ReminderService(database, settings, clients, *, pacers=None)`, `run_once(settings, database,
clients, *, now=None)` and `Delivery(database, clients, config, settings, ...)` take
ChatClients; here they adapt them to the old Sender port. At the merge, delete this module and
import these names from scheduler.service / scheduler.delivery instead.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

from core import chat_client as port
from core.chat_client import ChatClient
from core.pacing import PlatformLimiter
from core.render import split_text
from core.settings import Settings
from data.store.db import Database
from scheduler import delivery as old_delivery
from scheduler import sender as old
from scheduler import service as old_service
from scheduler.service import TickReport


class _Sender:
    def __init__(self, client: ChatClient) -> None:
        self.client = client
        self.platform = client.platform
        self.max_text_len = client.limits.max_text_len

    async def send(self, chat_id: str, text: str) -> list[str]:
        ids = []
        for part in split_text(text, self.max_text_len):
            try:
                ids.append(await self.client.send_text(chat_id, part))
            except port.RetryAfter as exc:
                raise old.RetryAfter(exc.seconds) from exc
            except port.ChatGone as exc:
                if exc.new_chat_id is not None:
                    raise old.ChatMigrated(exc.new_chat_id) from exc
                raise old.ChatGone(str(exc)) from exc
            except (port.Transient, port.Forbidden) as exc:
                raise old.Transient(str(exc)) from exc
            except port.SendError as exc:
                raise old.Rejected(str(exc)) from exc
        return ids


class _Senders(Mapping[str, Any]):
    """A live view: a platform that connects later is sent to from then on."""

    def __init__(self, clients: Mapping[str, ChatClient]) -> None:
        self.clients = clients

    def __getitem__(self, name: str) -> _Sender:
        return _Sender(self.clients[name])

    def __iter__(self) -> Iterator[str]:
        return iter(list(self.clients))

    def __len__(self) -> int:
        return len(self.clients)


class Delivery(old_delivery.Delivery):
    """Delivery over ChatClients."""

    def __init__(
        self,
        database: Database,
        clients: Mapping[str, ChatClient],
        *args: Any,
        pacers: Mapping[str, PlatformLimiter] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(database, {}, *args, **kwargs)
        self.senders = _Senders(clients)  # type: ignore[assignment]
        self._limiters.update(pacers or {})


class ReminderService(old_service.ReminderService):
    """The reminder service over ChatClients, pacing with the given limiters."""

    def __init__(
        self,
        database: Database,
        settings: Settings,
        clients: Mapping[str, ChatClient],
        *,
        pacers: Mapping[str, PlatformLimiter] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(database, settings, {}, **kwargs)
        self.delivery.senders = _Senders(clients)  # type: ignore[assignment]
        self.delivery._limiters.update(pacers or {})


async def run_once(
    settings: Settings,
    database: Database,
    clients: Mapping[str, ChatClient],
    *,
    now: datetime | None = None,
) -> TickReport:
    """Deliver what is due now through the given clients."""
    clock: Callable[[], datetime] = (lambda: datetime.now(UTC)) if now is None else (lambda: now)
    service = ReminderService(database, settings, clients, clock=clock)
    try:
        return await service.run_once(max_wait=None if now is None else 0)
    finally:
        service.shutdown()
