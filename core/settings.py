"""Settings read from the environment (and an optional .env file)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_DATABASE_URL = "sqlite:///daumoi.sqlite3"


def _split(value: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in value.split(",") if part.strip())


@dataclass(frozen=True)
class Settings:
    """Everything the composition root needs to build the services."""

    database_url: str = DEFAULT_DATABASE_URL
    platforms: tuple[str, ...] = ()
    telegram_token: str = ""
    telegram_library: str = "ptb"
    telegram_api_url: str = "https://api.telegram.org"
    webhook_url: str = ""
    webhook_secret: str = ""
    webhook_listen: str = "127.0.0.1:8080"
    zalo_token: str = ""
    zalo_api_url: str = "https://bot-api.zaloplatforms.com"
    public_url: str = ""
    admins: tuple[str, ...] = ()
    timezone: str = "Asia/Ho_Chi_Minh"
    require_services: bool = False
    extra: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Build settings from DAUMOI_* variables, loading ./.env first when present."""
        if environ is None:
            _load_dotenv()
            environ = os.environ
        get = environ.get
        telegram_token = get("DAUMOI_TELEGRAM_TOKEN", "")
        zalo_token = get("DAUMOI_ZALO_TOKEN", "")
        platforms = _split(get("DAUMOI_PLATFORMS", ""))
        if not platforms:
            platforms = tuple(
                name
                for name, token in (("telegram", telegram_token), ("zalo", zalo_token))
                if token
            )
        return cls(
            database_url=get("DAUMOI_DATABASE_URL", DEFAULT_DATABASE_URL),
            platforms=platforms,
            telegram_token=telegram_token,
            telegram_library=get("DAUMOI_TELEGRAM_LIBRARY", "ptb"),
            telegram_api_url=get("DAUMOI_TELEGRAM_API_URL", "https://api.telegram.org").rstrip("/"),
            webhook_url=get("DAUMOI_WEBHOOK_URL", ""),
            webhook_secret=get("DAUMOI_WEBHOOK_SECRET", ""),
            webhook_listen=get("DAUMOI_WEBHOOK_LISTEN", "127.0.0.1:8080"),
            zalo_token=zalo_token,
            zalo_api_url=get("DAUMOI_ZALO_API_URL", "https://bot-api.zaloplatforms.com").rstrip(
                "/"
            ),
            public_url=get("DAUMOI_PUBLIC_URL", ""),
            admins=_split(get("DAUMOI_ADMINS", "")),
            timezone=get("DAUMOI_TIMEZONE", "Asia/Ho_Chi_Minh"),
            require_services=get("DAUMOI_REQUIRE_SERVICES", "") not in ("", "0", "false"),
            extra={k: v for k, v in environ.items() if k.startswith("DAUMOI_")},
        )


def _load_dotenv() -> None:
    env_file = Path(".env")
    if env_file.is_file():
        from dotenv import load_dotenv

        load_dotenv(env_file, override=False)
