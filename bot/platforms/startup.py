"""Connecting to a platform at start: retry an unreachable API with backoff, stop on a bad token."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from contextlib import suppress
from dataclasses import dataclass

from core.settings import Settings

log = logging.getLogger(__name__)


class TokenRejected(Exception):
    """The platform refused the token (401/404 on the first call): nothing will work."""


class PlatformUnreachable(Exception):
    """The platform could not be reached (network failure, timeout, 5xx): worth retrying."""


@dataclass(frozen=True)
class Backoff:
    """Capped exponential backoff between connection attempts, in seconds."""

    first: float = 1.0
    cap: float = 60.0

    @classmethod
    def from_settings(cls, settings: Settings) -> Backoff:
        """DAUMOI_CONNECT_RETRY_FIRST and DAUMOI_CONNECT_RETRY_MAX (seconds), else 1 and 60."""
        config = settings.config
        return cls(
            first=config.connect_retry_first,
            cap=max(config.connect_retry_max, config.connect_retry_first),
        )

    def delays(self) -> Callable[[], float]:
        """A function returning the next delay each time it is called: first, 2×, 4× … cap."""
        current = [self.first]

        def next_delay() -> float:
            delay = current[0]
            current[0] = min(delay * 2, self.cap)
            return delay

        return next_delay


def rejected_message(platform: str, variable: str) -> str:
    """The one line an operator reads when the token is refused."""
    return (
        f"{platform} từ chối mã truy cập (token): kiểm tra biến {variable} (và địa chỉ API nếu "
        "đã đổi) rồi chạy lại."
    )


async def keep_connecting(
    serve: Callable[[], Awaitable[None]],
    stop: asyncio.Event,
    *,
    platform: str,
    backoff: Backoff,
    retry_on: tuple[type[BaseException], ...] = (PlatformUnreachable,),
) -> None:
    """Run serve(); while it fails because the platform is unreachable, wait and run it again.

    TokenRejected (and anything unexpected) propagates; stop ends the waiting.
    """
    next_delay = backoff.delays()
    attempt = 1
    while not stop.is_set():
        try:
            await serve()
            return
        except retry_on as exc:
            delay = next_delay()
            log.warning(
                "Chưa kết nối được %s (lần %d: %s); thử lại sau %g giây.",
                platform,
                attempt,
                _reason(exc),
                delay,
            )
        attempt += 1
        with suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), delay)


def _reason(exc: BaseException) -> str:
    """The first line of the error, short."""
    text = str(exc).strip().splitlines()
    reason = text[0] if text else type(exc).__name__
    return reason[:200]
