"""Each platform's limits, in one place: message sizes, what it can render, flood rates."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class RateLimits:
    """A platform's flood limits; sends are spaced evenly at `safety` × each rate."""

    overall_per_second: float | None = None
    group_per_minute: float | None = None
    chat_per_second: float | None = None
    group_window: float = 60.0  # seconds group_per_minute is counted over (tests shorten it)
    safety: float = 0.97  # stay clear of the server's window edges and clock jitter


@dataclass(frozen=True)
class PlatformLimits:
    """What a platform accepts and how fast."""

    max_text_len: int
    max_caption_len: int = 0
    supports_buttons: bool = False
    supports_files: bool = False
    supports_edits: bool = False
    supports_web_app: bool = False  # a button may open a page inside the app (Telegram Mini App)
    markup: str = "plain"  # how bold/code spans are sent: "html" (Telegram) or "plain"
    rates: RateLimits = field(default_factory=RateLimits)


# Telegram: 4,096 characters a message, 1,024 a caption; about 30 messages/s per bot, at most
# 20 a minute into one group and about 1 a second into one chat.
TELEGRAM_RATES = RateLimits(overall_per_second=30, group_per_minute=20, chat_per_second=1)
TELEGRAM = PlatformLimits(
    max_text_len=4096,
    max_caption_len=1024,
    supports_buttons=True,
    supports_files=True,
    supports_edits=True,
    supports_web_app=True,
    markup="html",
    rates=TELEGRAM_RATES,
)
# Zalo Bot API: 2,000 characters, no buttons, no documents, no edits; it publishes no rates,
# so stay well below anything plausible.
ZALO_RATES = RateLimits(overall_per_second=5, chat_per_second=1)
ZALO = PlatformLimits(max_text_len=2000, rates=ZALO_RATES)
# Zalo with DAUMOI_PUBLIC_URL: files go out as expiring links (a caption leaves room for it).
ZALO_WITH_LINKS = PlatformLimits(
    max_text_len=2000, max_caption_len=1500, supports_files=True, rates=ZALO_RATES
)
CONSOLE = PlatformLimits(max_text_len=4096)

LIMITS = {"telegram": TELEGRAM, "zalo": ZALO, "console": CONSOLE}


def limits_for(platform: str) -> PlatformLimits:
    """The limits of a platform by name (the console's for an unknown one)."""
    return LIMITS.get(platform, CONSOLE)
