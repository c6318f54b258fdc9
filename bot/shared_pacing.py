"""Send pacing shared by every instance on one PostgreSQL database (issue 14).

`SharedLimiter` keeps PlatformLimiter's rules (per-chat spacing unless replying, a per-group
bucket with a burst, overall spacing, a 429 pause holding every send) but counts them in
`rate_slot` rows, so N instances together stay within one bot's limits. Each slot is one
database round trip on a small thread pool, in order chat → group → overall, each after
waiting for the one before. Chat and group slots are reserved ahead (a queue); the overall
slot only when it starts within HORIZON, by one task of each instance at a time, so sends
held up by a busy process never go out together afterwards in a burst that a 1-s window
would count.

If the database fails, that send (and those of the next few seconds) is paced by the
in-process PlatformLimiter instead, with a warning: never unpaced, never an error.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Callable, Coroutine
from concurrent.futures import Executor, ThreadPoolExecutor
from typing import Any, TypeVar

from sqlalchemy.exc import SQLAlchemyError

from core.limits import RateLimits
from core.pacing import PlatformLimiter, telegram_is_group
from data.store.rate_slots import Rate, RateSlots, scope_name

log = logging.getLogger(__name__)

T = TypeVar("T")

DB_TIMEOUT = 5.0  # seconds a reservation may take before the send is paced in-process
RETRY_AFTER = 30.0  # seconds of in-process pacing after a database failure
PRUNE_EVERY = 300.0  # seconds between deletions of long-idle scopes (any instance may)
HORIZON = 0.02  # seconds ahead an overall slot is taken (hides the round trip)
# Spread, between instances, of the time from taking an overall slot to the platform receiving
# the message (scheduling on a busy machine): 30 slots must span 1 s plus this, else a late
# message of one instance and a prompt one of another fall in one 1-s window (measured: ~40 ms).
JITTER = 0.05
_THREADS = 2


def overall_rate(limits: RateLimits) -> Rate:
    """The platform's overall spacing: safety × rate, with room for JITTER in each 1-s window."""
    per_second = limits.overall_per_second
    if not per_second:
        return Rate(0.0)  # no overall limit: the scope only carries pauses
    spaced = 1.0 / (per_second * limits.safety)
    return Rate(max(spaced, (1.0 + JITTER) / per_second))


class SharedLimiter:
    """Paces one platform's sends across every instance sharing the database (a core Pacer)."""

    def __init__(
        self,
        limits: RateLimits,
        slots: RateSlots,
        platform: str,
        *,
        is_group: Callable[[str], bool] = telegram_is_group,
    ) -> None:
        self.limits = limits
        self.slots = slots
        self.platform = platform
        self._is_group = is_group
        self._local = PlatformLimiter(limits, is_group)
        self._overall = overall_rate(limits)
        self._horizon = min(self._overall.interval * 0.6, HORIZON)
        self._overall_turn = asyncio.Lock()
        group = limits.group_per_minute
        self._group = Rate.bucket(group, limits.group_window) if group else None
        self._executor = ThreadPoolExecutor(_THREADS, thread_name_prefix=f"daumoi-{platform}-rate")
        # Overall slots get a thread of their own: never queued behind chat and group slots.
        self._overall_thread = ThreadPoolExecutor(1, thread_name_prefix=f"daumoi-{platform}-send")
        self._resume_at = 0.0  # loop time before which this instance sends nothing (a 429)
        self._local_until = -math.inf  # loop time until which sends are paced in-process
        self._next_prune = 0.0
        self._background: set[asyncio.Task[None]] = set()  # pauses and prunes under way

    def close(self) -> None:
        """Stop the database threads (waits for reservations in progress)."""
        self._executor.shutdown(wait=True)
        self._overall_thread.shutdown(wait=True)

    # -- rates ------------------------------------------------------------------------------

    def _group_per_second(self, chat_id: str) -> float | None:
        rate = self.limits.group_per_minute
        if not rate or not self._is_group(chat_id):
            return None
        return rate / self.limits.group_window

    def _chat_rate(self, chat_id: str) -> Rate | None:
        rates = [r for r in (self.limits.chat_per_second, self._group_per_second(chat_id)) if r]
        return Rate.spaced(min(rates), self.limits.safety) if rates else None

    # -- pacing -----------------------------------------------------------------------------

    async def acquire(self, chat_id: str, *, reply: bool = False) -> None:
        """Wait until a message to chat_id may go out (reply=True: an answer to a user)."""
        loop = asyncio.get_running_loop()
        if loop.time() < self._local_until:
            await self._local.acquire(chat_id, reply=reply)
            return
        try:
            await self._acquire_shared(chat_id, reply=reply)
        except (SQLAlchemyError, OSError, TimeoutError) as exc:
            if loop.time() >= self._local_until:
                log.warning(
                    "%s: shared rate limits unavailable (%s); pacing in this process for %.0f s",
                    self.platform,
                    str(exc).splitlines()[0] if str(exc) else type(exc).__name__,
                    RETRY_AFTER,
                )
            self._local_until = loop.time() + RETRY_AFTER
            await self._local.acquire(chat_id, reply=reply)

    async def _acquire_shared(self, chat_id: str, *, reply: bool) -> None:
        if not reply and (chat := self._chat_rate(chat_id)) is not None:
            await self._wait_for(scope_name(self.platform, "chat", chat_id), chat)
        if self._group is not None and self._is_group(chat_id):
            await self._wait_for(scope_name(self.platform, "group", chat_id), self._group)
        loop = asyncio.get_running_loop()
        await self._take_overall()
        while loop.time() < self._resume_at:  # a 429 here meanwhile: that slot is void
            await self._take_overall()
        if loop.time() >= self._next_prune:
            self._next_prune = loop.time() + PRUNE_EVERY
            self._in_background(self._prune())

    async def _take_overall(self) -> None:
        """Take the platform's slot once it is near: one task of this instance tries at a time."""
        loop = asyncio.get_running_loop()
        async with self._overall_turn:
            while True:
                while (wait := self._resume_at - loop.time()) > 0:
                    await asyncio.sleep(wait)
                taken, wait = await self._in_db(
                    self.slots.take,
                    self.platform,
                    self._overall,
                    self._horizon,
                    executor=self._overall_thread,
                )
                if taken:
                    break
                await asyncio.sleep(wait)
        if wait > 0:  # the next task may try meanwhile: its slot is at least one interval later
            await asyncio.sleep(wait)

    async def _wait_for(self, scope: str, rate: Rate) -> None:
        wait = await self._in_db(self.slots.reserve, scope, rate)
        if wait > 0:
            await asyncio.sleep(wait)

    async def _in_db(
        self, work: Callable[..., T], *args: object, executor: Executor | None = None
    ) -> T:
        loop = asyncio.get_running_loop()
        call = loop.run_in_executor(executor or self._executor, work, *args)
        return await asyncio.wait_for(call, DB_TIMEOUT)

    def pause(self, seconds: float) -> None:
        """Hold every send of this platform, in every instance, for seconds (after a 429)."""
        loop = asyncio.get_running_loop()
        self._resume_at = max(self._resume_at, loop.time() + seconds)
        self._local.pause(seconds)
        self._in_background(self._hold(seconds))

    def _in_background(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _prune(self) -> None:
        try:
            await self._in_db(self.slots.prune)
        except (SQLAlchemyError, OSError) as exc:
            log.debug("%s: idle rate slots not pruned: %s", self.platform, exc)

    async def _hold(self, seconds: float) -> None:
        try:
            await self._in_db(self.slots.hold, self.platform, seconds)
        except (SQLAlchemyError, OSError, TimeoutError) as exc:
            log.warning("%s: pause not shared with other instances: %s", self.platform, exc)
