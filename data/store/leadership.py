"""Leader locks: one process of several on a PostgreSQL database holds each role.

A role (polling one platform, ticking reminders) is a PostgreSQL session advisory lock held on a
dedicated AUTOCOMMIT connection of its own engine. The lock lives exactly as long as that
session: a process that exits, is killed (`kill -9`) or loses its connection frees it, and the
server ends a session whose client vanished within about 10 s (the TCP keepalives set below).
On SQLite every lock is granted: one process per SQLite file is the documented setup.
"""

from __future__ import annotations

import threading
import zlib
from contextlib import suppress

from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.pool import NullPool

NAMESPACE = "daumoi-leader"
# Seconds: how long the client waits on a silent network before a call fails (libpq
# connect_timeout and tcp_user_timeout), and the server-side keepalives of the lock session.
NETWORK_TIMEOUT = 5
SERVER_KEEPALIVE = (5, 2, 3)  # idle, interval, count: a vanished client is dropped in ~11 s


def _signed(value: int) -> int:
    """An unsigned 32-bit value as the signed int4 PostgreSQL's two-key locks take."""
    return value - (1 << 32) if value >= 1 << 31 else value


def lock_key(role: str, namespace: str = NAMESPACE) -> tuple[int, int]:
    """The stable (namespace, role) key pair of a role's advisory lock (CRC-32 of each)."""
    return _signed(zlib.crc32(namespace.encode())), _signed(zlib.crc32(role.encode()))


class LeaderLock:
    """One role's advisory lock: try to take it, check it is still held, release it.

    Calls may come from several threads; they run one at a time. Database errors of
    try_acquire propagate (the caller logs them and tries again); a failing check means lost.
    """

    def __init__(self, engine: Engine, role: str, *, namespace: str = NAMESPACE) -> None:
        self.role = role
        self.key = lock_key(role, namespace)
        self.granted_always = engine.dialect.name != "postgresql"
        self._engine: Engine | None = None
        if not self.granted_always:
            self._engine = create_engine(
                engine.url,
                poolclass=NullPool,
                isolation_level="AUTOCOMMIT",
                connect_args={
                    "connect_timeout": NETWORK_TIMEOUT,
                    "tcp_user_timeout": NETWORK_TIMEOUT * 1000,
                    "keepalives": 1,
                    "keepalives_idle": NETWORK_TIMEOUT,
                    "keepalives_interval": 1,
                    "keepalives_count": 3,
                },
            )
        self._connection: Connection | None = None
        self._held = False
        self._mutex = threading.Lock()

    @property
    def held(self) -> bool:
        """Whether the last take or check found the lock ours (no database call)."""
        return self._held or self.granted_always

    def try_acquire(self) -> bool:
        """Take the lock if no other session holds it; True when this process holds it now."""
        if self.granted_always:
            return True
        with self._mutex:
            if self._held:
                return True
            try:
                connection = self._connect()
                taken = connection.execute(
                    text("SELECT pg_try_advisory_lock(:a, :b)"), self._params()
                ).scalar_one()
            except BaseException:
                self._drop()
                raise
            self._held = bool(taken)
            return self._held

    def check(self) -> bool:
        """Whether the lock is still ours: its session alive and holding it (else lost)."""
        if self.granted_always:
            return True
        with self._mutex:
            if not self._held or self._connection is None:
                return False
            try:
                found = self._connection.execute(
                    text(
                        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'"
                        " AND pid = pg_backend_pid() AND granted AND objsubid = 2"
                        " AND classid = CAST(CAST(:a AS bigint) & 4294967295 AS oid)"
                        " AND objid = CAST(CAST(:b AS bigint) & 4294967295 AS oid)"
                    ),
                    self._params(),
                ).scalar_one()
            except Exception:
                found = 0
            if not found:
                self._drop()  # a session we cannot check must not keep the lock either
            return bool(found)

    def release(self) -> None:
        """Give the lock up (closing its session; nothing when not held)."""
        if self.granted_always:
            return
        with self._mutex:
            if self._held and self._connection is not None:
                with suppress(Exception):
                    self._connection.execute(
                        text("SELECT pg_advisory_unlock(:a, :b)"), self._params()
                    )
            self._drop()

    def close(self) -> None:
        """Release the lock and the engine of its connection."""
        self.release()
        if self._engine is not None:
            self._engine.dispose()

    def _params(self) -> dict[str, int]:
        return {"a": self.key[0], "b": self.key[1]}

    def _connect(self) -> Connection:
        if self._connection is None:
            assert self._engine is not None
            connection = self._engine.connect()
            try:
                idle, interval, count = SERVER_KEEPALIVE
                connection.execute(
                    text(
                        "SELECT set_config('application_name', :name, false),"
                        " set_config('tcp_keepalives_idle', :idle, false),"
                        " set_config('tcp_keepalives_interval', :interval, false),"
                        " set_config('tcp_keepalives_count', :count, false)"
                    ),
                    {
                        "name": f"daumoi leader {self.role}"[:63],
                        "idle": str(idle),
                        "interval": str(interval),
                        "count": str(count),
                    },
                )
            except BaseException:
                with suppress(Exception):
                    connection.close()
                raise
            self._connection = connection
        return self._connection

    def _drop(self) -> None:
        """Forget the session (closing it frees a lock it may still hold on the server)."""
        self._held = False
        connection, self._connection = self._connection, None
        if connection is not None:
            with suppress(Exception):
                connection.invalidate()
            with suppress(Exception):
                connection.close()
