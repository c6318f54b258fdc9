"""Wait for the data version's NOTIFY on PostgreSQL (a dedicated psycopg connection)."""

from __future__ import annotations

import logging
from contextlib import suppress

import psycopg
from sqlalchemy import Engine

from data.store.freshness import CHANNEL

log = logging.getLogger(__name__)


class ChangeListener:
    """A LISTEN on the data channel; `wait` returns True when another process changed data."""

    def __init__(self, connection: psycopg.AsyncConnection[object]) -> None:
        self._connection = connection

    @classmethod
    async def open(cls, engine: Engine) -> ChangeListener | None:
        """Listen on engine's PostgreSQL database; None on SQLite or when it cannot connect."""
        if engine.dialect.name != "postgresql":
            return None
        conninfo = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        try:
            connection = await psycopg.AsyncConnection.connect(conninfo, autocommit=True)
            await connection.execute(f"LISTEN {CHANNEL}")
        except psycopg.Error as exc:
            log.warning("cannot listen for data changes (%s); checking the version instead", exc)
            return None
        return cls(connection)

    async def wait(self, timeout: float) -> bool:
        """Wait up to timeout seconds; True when a change was announced (psycopg.Error when
        the connection broke)."""
        async for _ in self._connection.notifies(timeout=timeout, stop_after=1):
            return True
        return False

    async def close(self) -> None:
        """Stop listening and close the connection."""
        with suppress(psycopg.Error):
            await self._connection.close()
