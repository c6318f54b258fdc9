"""Keep this process's catalog and search index as fresh as the database, whoever wrote it.

On PostgreSQL a LISTEN hears the NOTIFY every data change sends at commit, so a reload starts
at once; the data version is also checked every few seconds (the fallback when the listening
connection broke, and the only way on SQLite).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from contextlib import suppress

import psycopg
from sqlalchemy.exc import SQLAlchemyError

from core.settings import Settings
from data.store.db import Database
from data.store.freshness import DataStamp, data_version
from data.store.notify import ChangeListener

log = logging.getLogger(__name__)

DEFAULT_INTERVAL = 2.0  # seconds: an import anywhere is answered within a few seconds


def interval_from(settings: Settings) -> float:
    """DAUMOI_DATA_REFRESH_SECONDS (default 2; 0 or less turns the check off)."""
    return settings.config.data_refresh_seconds


class DataWatch:
    """Reloads when another process changed the data: on its NOTIFY, or seen by the version."""

    def __init__(
        self,
        database: Database,
        reload: Callable[[], None],
        interval: float = DEFAULT_INTERVAL,
        *,
        listen: bool = True,
    ) -> None:
        self.database = database
        self.reload = reload
        self.interval = interval
        self.listen = listen
        self.reloads = 0
        self._listener: ChangeListener | None = None

    def _version(self) -> DataStamp:
        with self.database.session() as session:
            return data_version(session)

    async def run(self, stop: asyncio.Event) -> None:
        """Watch until stop is set; a database hiccup is logged and checked again later."""
        if self.interval <= 0:
            return
        seen: DataStamp | None = None
        try:
            while not stop.is_set():
                try:
                    current = await asyncio.to_thread(self._version)
                    if seen is not None and current != seen:
                        await asyncio.to_thread(self.reload)
                        self.reloads += 1
                        log.info("data changed by another process: catalog and search reloaded")
                    seen = current
                except SQLAlchemyError as exc:
                    log.warning("data version unknown (%s); checking again later", exc)
                await self._pause(stop)
        finally:
            if self._listener is not None:
                await self._listener.close()
                self._listener = None

    async def _pause(self, stop: asyncio.Event) -> None:
        """Until a change is announced, stop is set, or the interval passed."""
        if self.listen and self._listener is None:
            self._listener = await ChangeListener.open(self.database.engine)
        stopping = asyncio.create_task(stop.wait())
        waiting: asyncio.Task[bool] | None = None
        try:
            if self._listener is None:
                with suppress(TimeoutError):
                    await asyncio.wait_for(asyncio.shield(stopping), self.interval)
                return
            waiting = asyncio.create_task(self._listener.wait(self.interval))
            await asyncio.wait({stopping, waiting}, return_when=asyncio.FIRST_COMPLETED)
            if waiting.done() and isinstance(waiting.exception(), psycopg.Error):
                log.warning("lost the data-change listener; checking the version instead")
                await self._listener.close()
                self._listener = None
        finally:
            for task in (stopping, waiting):
                if task is not None and not task.done():
                    task.cancel()
                    with suppress(asyncio.CancelledError, psycopg.Error):
                        await task
