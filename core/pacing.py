"""Per-platform send pacing with aiolimiter: overall, per group, per chat, and 429 pauses."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

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


class PlatformLimiter:
    """Spaces sends so the platform's limits are never hit; pauses everything after a 429."""

    def __init__(
        self, limits: RateLimits, is_group: Callable[[str], bool] = telegram_is_group
    ) -> None:
        self.limits = limits
        self._is_group = is_group
        self._overall = _spaced(limits.overall_per_second, limits.safety)
        self._chats: dict[str, AsyncLimiter] = {}
        self._resume_at = 0.0

    def _chat_rate(self, chat_id: str) -> float | None:
        rates = [self.limits.chat_per_second]
        if self._is_group(chat_id) and self.limits.group_per_minute:
            rates.append(self.limits.group_per_minute / 60.0)
        present = [rate for rate in rates if rate]
        return min(present) if present else None

    def _chat(self, chat_id: str) -> AsyncLimiter | None:
        limiter = self._chats.get(chat_id)
        if limiter is None:
            limiter = _spaced(self._chat_rate(chat_id), self.limits.safety)
            if limiter is None:
                return None
            if len(self._chats) >= _FORGET_AFTER:
                for key, idle in list(self._chats.items()):
                    if idle.has_capacity():
                        del self._chats[key]
            self._chats[chat_id] = limiter
        return limiter

    async def acquire(self, chat_id: str) -> None:
        """Wait until a message to chat_id may go out."""
        chat = self._chat(chat_id)
        if chat is not None:
            await chat.acquire()
        loop = asyncio.get_running_loop()
        while (wait := self._resume_at - loop.time()) > 0:
            await asyncio.sleep(wait)
        if self._overall is not None:
            await self._overall.acquire()

    def pause(self, seconds: float) -> None:
        """Hold every send of this platform for seconds (after flood control answered 429)."""
        loop = asyncio.get_running_loop()
        self._resume_at = max(self._resume_at, loop.time() + seconds)
