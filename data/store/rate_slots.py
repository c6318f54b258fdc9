"""Send slots shared by every instance on one PostgreSQL database (GCRA, one statement each).

Each scope (a platform, one of its chats, one of its groups) keeps a theoretical arrival time
(`rate_slot.tat`, epoch seconds of the database clock). Reserving a slot pushes it forward by
the scope's interval and answers how long the caller waits before sending, so instances on
machines with skewed clocks still agree: only the database's clock is read.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from sqlalchemy import Engine, text

# The database clock in epoch seconds, read once per statement; the statement's commit does not
# wait for the WAL flush (a slot lost in a server crash costs nothing), which makes it ~10× faster.
_CLOCK = (
    "WITH clock AS (SELECT extract(epoch FROM clock_timestamp())::float8 AS now, "
    "set_config('synchronous_commit', 'off', true) AS unflushed) "
)

# GCRA with queueing: tat' = max(tat, now) + interval, and the send may go at
# max(now, tat - tolerance) = max(now, tat' - interval - tolerance). A new scope sends at once.
_RESERVE = text(
    _CLOCK + "INSERT INTO rate_slot (scope, tat) SELECT :scope, clock.now + :interval FROM clock "
    "ON CONFLICT (scope) DO UPDATE "
    "SET tat = GREATEST(rate_slot.tat, excluded.tat - :interval) + :interval "
    "RETURNING GREATEST(0.0, rate_slot.tat - :interval - :tolerance - (SELECT now FROM clock))"
)
# As _RESERVE, but the slot is only taken when it starts within `horizon` s; else the row is
# left alone and the answer is how long until it does (read from the statement's snapshot, so
# possibly a little early: the caller just tries again). Slots are never queued far ahead, so
# sends held up by a busy process cannot later go out together in a burst.
_TAKE = text(
    _CLOCK + ", taken AS ("
    "INSERT INTO rate_slot (scope, tat) SELECT :scope, clock.now + :interval FROM clock "
    "ON CONFLICT (scope) DO UPDATE "
    "SET tat = GREATEST(rate_slot.tat, excluded.tat - :interval) + :interval "
    "WHERE rate_slot.tat - :tolerance <= excluded.tat - :interval + :horizon "
    "RETURNING true AS taken, "
    "GREATEST(0.0, rate_slot.tat - :interval - :tolerance - (SELECT now FROM clock)) AS wait) "
    "SELECT taken, wait FROM taken UNION ALL "
    "SELECT false, GREATEST(0.0, tat - :tolerance - :horizon - (SELECT now FROM clock)) "
    "FROM rate_slot WHERE scope = :scope AND NOT EXISTS (SELECT 1 FROM taken)"
)
_HOLD = text(
    _CLOCK + "INSERT INTO rate_slot (scope, tat) SELECT :scope, clock.now + :seconds FROM clock "
    "ON CONFLICT (scope) DO UPDATE SET tat = GREATEST(rate_slot.tat, excluded.tat)"
)
# A row whose tat has passed behaves exactly like no row, so deleting it changes nothing.
_PRUNE = text(
    "DELETE FROM rate_slot WHERE tat < extract(epoch FROM clock_timestamp())::float8 - :idle"
)
_MAX_SCOPE = 96  # rate_slot.scope is varchar(96)


@dataclass(frozen=True)
class Rate:
    """One scope's rate: a send every `interval` s, up to `tolerance` s ahead (a burst)."""

    interval: float
    tolerance: float = 0.0

    @classmethod
    def spaced(cls, per_second: float | None, safety: float = 1.0) -> Rate | None:
        """Evenly spaced sends at safety × per_second, no burst (like AsyncLimiter(1, …))."""
        if not per_second:
            return None
        return cls(1.0 / (per_second * safety))

    @classmethod
    def bucket(cls, count: float, window: float) -> Rate:
        """count sends per window, a burst of count allowed (like AsyncLimiter(count, window))."""
        interval = window / count
        return cls(interval, max(0.0, window - interval))


def supported(engine: Engine) -> bool:
    """Whether slots can be shared on this engine's database (PostgreSQL only)."""
    return engine.dialect.name == "postgresql"


def scope_name(*parts: str) -> str:
    """A scope key from its parts ("telegram", "chat", id); an overlong one is hashed."""
    name = ":".join(parts)
    if len(name) <= _MAX_SCOPE:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:40]
    return f"{name[: _MAX_SCOPE - len(digest) - 1]}#{digest}"


class RateSlots:
    """Reserves and holds send slots in `rate_slot`; every call is one autocommit statement."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine.execution_options(isolation_level="AUTOCOMMIT")

    def reserve(self, scope: str, rate: Rate) -> float:
        """Take the scope's next slot; return the seconds to wait before sending."""
        params = {"scope": scope, "interval": rate.interval, "tolerance": rate.tolerance}
        with self.engine.connect() as connection:
            wait = connection.execute(_RESERVE, params).scalar_one()
        return float(wait)

    def take(self, scope: str, rate: Rate, horizon: float = 0.0) -> tuple[bool, float]:
        """Take the scope's next slot if it starts within horizon s: (True, seconds to wait).

        Otherwise (False, seconds until it does): try again then.
        """
        params = {
            "scope": scope,
            "interval": rate.interval,
            "tolerance": rate.tolerance,
            "horizon": horizon,
        }
        with self.engine.connect() as connection:
            row = connection.execute(_TAKE, params).first()
        if row is None:  # the row was created meanwhile, after this statement's snapshot
            return False, 0.0
        return bool(row[0]), float(row[1])

    def hold(self, scope: str, seconds: float) -> None:
        """Let no slot of the scope start before now + seconds (after a 429)."""
        with self.engine.connect() as connection:
            connection.execute(_HOLD, {"scope": scope, "seconds": float(seconds)})

    def prune(self, idle: float = 60.0) -> int:
        """Delete scopes whose slots passed more than idle s ago; return how many."""
        with self.engine.connect() as connection:
            return connection.execute(_PRUNE, {"idle": float(idle)}).rowcount
