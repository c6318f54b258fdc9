"""Per-platform send pacing with aiolimiter: overall, per group, per chat, and 429 pauses.

One `PlatformLimiter` per platform is shared by replies and reminders, so both draw on the
same allowance. Reminders (fan-outs) are spaced evenly at every limit; replies skip the
per-chat spacing and take a group's per-minute allowance as a bucket, so a short answer in a
group goes out at once, as with python-telegram-bot's AIORateLimiter.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Protocol

from aiolimiter import AsyncLimiter

from core.limits import RateLimits

_FORGET_AFTER = 2048  # chat limiters kept before idle ones are dropped


def telegram_is_group(chat_id: str) -> bool:
    """Telegram groups and supergroups have negative ids."""
    return chat_id.startswith("-")


def _spaced(per_second: float | None, safety: float) -> AsyncLimiter | None:
    # max_rate=1: no bursts, one send every 1/rate seconds. A bucket that bursts (max_rate=N)
    # would overrun a sliding window like Telegram's right after the burst.
    if not per_second:
        return None
    return AsyncLimiter(1, 1.0 / (per_second * safety))


def _forget_idle(limiters: dict[str, AsyncLimiter]) -> None:
    if len(limiters) >= _FORGET_AFTER:
        for key, idle in list(limiters.items()):
            if idle.has_capacity(idle.max_rate):
                del limiters[key]


class Pacer(Protocol):
    """Paces one platform's sends: in this process (PlatformLimiter) or across instances."""

    limits: RateLimits

    async def acquire(self, chat_id: str, *, reply: bool = False) -> None:
        """Wait until a message to chat_id may go out (reply=True: an answer to a user)."""
        ...

    def pause(self, seconds: float) -> None:
        """Hold every send of this platform for seconds (after flood control answered 429)."""
        ...

    def close(self) -> None:
        """Release what the pacer holds (threads, connections); it paces nothing afterwards."""
        ...


class PlatformLimiter:
    """Spaces sends so the platform's limits are never hit; pauses everything after a 429."""

    def __init__(
        self, limits: RateLimits, is_group: Callable[[str], bool] = telegram_is_group
    ) -> None:
        self.limits = limits
        self._is_group = is_group
        self._overall = _spaced(limits.overall_per_second, limits.safety)
        self._chats: dict[str, AsyncLimiter] = {}
        self._groups: dict[str, AsyncLimiter] = {}
        self._resume_at = 0.0

    def _group_rate(self, chat_id: str) -> float | None:
        rate = self.limits.group_per_minute
        if not rate or not self._is_group(chat_id):
            return None
        return rate / self.limits.group_window

    def _chat(self, chat_id: str) -> AsyncLimiter | None:
        limiter = self._chats.get(chat_id)
        if limiter is None:
            rates = [r for r in (self.limits.chat_per_second, self._group_rate(chat_id)) if r]
            limiter = _spaced(min(rates), self.limits.safety) if rates else None
            if limiter is None:
                return None
            _forget_idle(self._chats)
            self._chats[chat_id] = limiter
        return limiter

    def _group(self, chat_id: str) -> AsyncLimiter | None:
        limiter = self._groups.get(chat_id)
        if limiter is None:
            if self._group_rate(chat_id) is None:
                return None
            _forget_idle(self._groups)
            allowance = float(self.limits.group_per_minute or 0)
            limiter = AsyncLimiter(allowance, self.limits.group_window)
            self._groups[chat_id] = limiter
        return limiter

    async def acquire(self, chat_id: str, *, reply: bool = False) -> None:
        """Wait until a message to chat_id may go out (reply=True: an answer to a user)."""
        if not reply and (chat := self._chat(chat_id)) is not None:
            await chat.acquire()
        if (group := self._group(chat_id)) is not None:
            await group.acquire()
        loop = asyncio.get_running_loop()
        while (wait := self._resume_at - loop.time()) > 0:
            await asyncio.sleep(wait)
        if self._overall is not None:
            await self._overall.acquire()

    def pause(self, seconds: float) -> None:
        """Hold every send of this platform for seconds (after flood control answered 429)."""
        loop = asyncio.get_running_loop()
        self._resume_at = max(self._resume_at, loop.time() + seconds)

    def close(self) -> None:
        """Nothing to release: the in-process limiter holds only timestamps."""
