"""Chooses each platform's pacer: shared through PostgreSQL, or in this process."""

from __future__ import annotations

from collections.abc import Mapping

from bot.shared_pacing import SharedLimiter
from core.limits import RateLimits
from core.pacing import Pacer, PlatformLimiter
from core.settings import Settings
from data.store import rate_slots
from data.store.db import Database


def shared_limits_enabled(settings: Settings) -> bool:
    """DAUMOI_SHARED_LIMITS=0 keeps flood limits per process even on PostgreSQL."""
    return settings.config.shared_limits


def _paced(limits: RateLimits) -> bool:
    return any((limits.overall_per_second, limits.group_per_minute, limits.chat_per_second))


def pacers_for(
    settings: Settings, database: Database | None, rates: Mapping[str, RateLimits]
) -> dict[str, Pacer]:
    """One pacer per platform: a SharedLimiter on PostgreSQL, else a PlatformLimiter.

    Every instance on one PostgreSQL database then counts its sends against the same limits;
    SQLite (one instance) and platforms without rates (the console) pace in process.
    """
    if (
        database is None
        or not shared_limits_enabled(settings)
        or not rate_slots.supported(database.engine)
    ):
        return {name: PlatformLimiter(limits) for name, limits in rates.items()}
    slots = rate_slots.RateSlots(database.engine)
    return {
        name: SharedLimiter(limits, slots, name) if _paced(limits) else PlatformLimiter(limits)
        for name, limits in rates.items()
    }
