"""Keep this process's catalog and search index as fresh as the database, whoever wrote it."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from contextlib import suppress

from sqlalchemy.exc import SQLAlchemyError

from core.settings import Settings
from data.store.db import Database
from data.store.freshness import data_version

log = logging.getLogger(__name__)

DEFAULT_INTERVAL = 2.0  # seconds: an import anywhere is answered within a few seconds


def interval_from(settings: Settings) -> float:
    """DAUMOI_DATA_REFRESH_SECONDS (default 2; 0 or less turns the check off)."""
    value = settings.extra.get("DAUMOI_DATA_REFRESH_SECONDS", "").strip()
    try:
        return float(value) if value else DEFAULT_INTERVAL
    except ValueError:
        return DEFAULT_INTERVAL


class DataWatch:
    """Checks the data version every few seconds and reloads when another process changed it."""

    def __init__(
        self, database: Database, reload: Callable[[], None], interval: float = DEFAULT_INTERVAL
    ) -> None:
        self.database = database
        self.reload = reload
        self.interval = interval

    def _version(self) -> tuple[int, str]:
        with self.database.session() as session:
            return data_version(session)

    async def run(self, stop: asyncio.Event) -> None:
        """Watch until stop is set; a database hiccup is logged and checked again later."""
        if self.interval <= 0:
            return
        seen: tuple[int, str] | None = None
        while not stop.is_set():
            try:
                current = await asyncio.to_thread(self._version)
                if seen is not None and current != seen:
                    await asyncio.to_thread(self.reload)
                    log.info("data changed by another process: catalog and search reloaded")
                seen = current
            except SQLAlchemyError as exc:
                log.warning("data version unknown (%s); checking again later", exc)
            with suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.interval)
