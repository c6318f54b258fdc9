"""Leader election between instances on one database: who polls each platform, who ticks reminders.

Each role ("poll:telegram", "poll:zalo", "reminders") is a PostgreSQL advisory lock
(data/store/leadership.py). A Role waits as a standby, trying every few seconds, until it holds
its lock; while the work runs it checks the lock every few seconds and stops the work when the
lock is lost (database restart, network loss), then stands by again. On SQLite every role leads.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from contextlib import suppress

from core.settings import Settings
from data.store.db import Database
from data.store.leadership import LeaderLock

log = logging.getLogger(__name__)

DEFAULT_CHECK_SECONDS = 2.0  # a dead leader is replaced within a few seconds
CHECK_TIMEOUT = 6.0  # seconds a check may take before the lock counts as lost
LEADER = "leader"
STANDBY = "standby"

Work = Callable[[asyncio.Event], Awaitable[None]]


def check_interval(settings: Settings) -> float:
    """DAUMOI_LEADER_CHECK_SECONDS: how often a standby tries and a leader checks (default 2)."""
    return settings.config.leader_check_seconds


class Role:
    """One role of this process: leads while it holds its lock, else stands by."""

    def __init__(
        self, lock: LeaderLock, *, label: str, doing: str, interval: float = DEFAULT_CHECK_SECONDS
    ) -> None:
        self.name = lock.role
        self.label = label  # "Telegram polling": "standby for …", "lost the … lock"
        self.doing = doing  # "polling Telegram": "now … (leader)"
        self.interval = interval
        self.state = STANDBY
        self._lock = lock

    async def run(self, stop: asyncio.Event, work: Work) -> None:
        """Run work(until) whenever this process leads, until stop is set or work ends by itself.

        `until` is set when stop is set or the lock is lost; after a loss the role stands by
        and runs work again once it leads again.
        """
        try:
            while not stop.is_set():
                if not await self._acquire(stop):
                    return
                until = asyncio.Event()
                watcher = asyncio.create_task(self._watch(stop, until))
                try:
                    await work(until)
                finally:
                    watcher.cancel()
                    with suppress(asyncio.CancelledError):
                        await watcher
                    lost = self.state == STANDBY
                    self.state = STANDBY
                    if not lost:
                        await asyncio.to_thread(self._lock.release)
                if not lost:
                    return  # stopped, or the work ended by itself
        finally:
            self.state = STANDBY
            await asyncio.to_thread(self._lock.close)

    async def _acquire(self, stop: asyncio.Event) -> bool:
        """Wait until the lock is ours (True) or stop is set (False)."""
        said_standby = failing = False
        while not stop.is_set():
            try:
                taken = await asyncio.to_thread(self._lock.try_acquire)
            except Exception as exc:  # database down or unreachable: try again later
                if not failing:
                    log.warning("%s: database unreachable (%s); trying again", self.label, exc)
                failing, taken = True, False
            else:
                if failing:
                    log.info("%s: database reachable again", self.label)
                failing = False
            if taken:
                self.state = LEADER
                # SQLite grants every role: one instance, nothing worth telling the operator
                level = logging.DEBUG if self._lock.granted_always else logging.INFO
                log.log(level, "now %s (leader)", self.doing)
                return True
            if not said_standby:
                log.info("standby for %s", self.label)
                said_standby = True
            with suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.interval)
        return False

    async def _watch(self, stop: asyncio.Event, until: asyncio.Event) -> None:
        """Set until when stop is set or a check finds the lock lost."""
        try:
            while True:
                with suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self.interval)
                if stop.is_set():
                    return
                try:
                    held = await asyncio.wait_for(
                        asyncio.to_thread(self._lock.check), max(CHECK_TIMEOUT, self.interval)
                    )
                except TimeoutError:
                    held = False
                if not held:
                    self.state = STANDBY
                    log.warning("lost the %s lock; standing by", self.label)
                    return
        finally:
            until.set()


class Leadership:
    """This process's roles by name; roles() is the snapshot readiness reports."""

    def __init__(self, database: Database, *, interval: float = DEFAULT_CHECK_SECONDS) -> None:
        self.database = database
        self.interval = interval
        self._roles: dict[str, Role] = {}

    @classmethod
    def from_settings(cls, database: Database, settings: Settings) -> Leadership:
        """Roles on database checked every DAUMOI_LEADER_CHECK_SECONDS."""
        return cls(database, interval=check_interval(settings))

    def role(self, name: str, *, label: str, doing: str) -> Role:
        """A new role of this process (a standby until it runs and takes its lock)."""
        lock = LeaderLock(self.database.engine, name)
        role = Role(lock, label=label, doing=doing, interval=self.interval)
        self._roles[name] = role
        return role

    def polling(self, platform: str, title: str) -> Role:
        """The role of polling one platform's updates ("poll:telegram")."""
        return self.role(f"poll:{platform}", label=f"{title} polling", doing=f"polling {title}")

    def reminders(self) -> Role:
        """The role of ticking reminders."""
        return self.role("reminders", label="reminder ticker", doing="ticking reminders")

    def roles(self) -> dict[str, str]:
        """Each role's state now: "leader" or "standby"."""
        return {name: role.state for name, role in sorted(self._roles.items())}
