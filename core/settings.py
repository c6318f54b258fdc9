"""Settings read from the environment (and an optional .env file)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from core.config import DEFAULT_DATABASE_URL, Config


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

    @cached_property
    def config(self) -> Config:
        """Every DAUMOI_* setting, typed (from `extra`; ConfigError for a bad value)."""
        return Config.from_mapping(self.extra)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Build settings from DAUMOI_* variables, loading ./.env first when present.

        Raises core.config.ConfigError (one Vietnamese line) when a variable has a bad value.
        """
        if environ is None:
            _load_dotenv()
            environ = os.environ
        extra = {k: v for k, v in environ.items() if k.upper().startswith("DAUMOI_")}
        config = Config.from_mapping(extra)
        platforms = _split(config.platforms)
        if not platforms:
            platforms = tuple(
                name
                for name, token in (
                    ("telegram", config.telegram_token),
                    ("zalo", config.zalo_token),
                )
                if token
            )
        settings = cls(
            database_url=config.database_url,
            platforms=platforms,
            telegram_token=config.telegram_token,
            telegram_library=config.telegram_library,
            telegram_api_url=config.telegram_api_url.rstrip("/"),
            webhook_url=config.webhook_url,
            webhook_secret=config.webhook_secret,
            webhook_listen=config.webhook_listen,
            zalo_token=config.zalo_token,
            zalo_api_url=config.zalo_api_url.rstrip("/"),
            public_url=config.public_url,
            admins=_split(config.admins),
            timezone=config.timezone,
            require_services=config.require_services,
            extra=extra,
        )
        settings.__dict__["config"] = config  # already validated: no second parse
        return settings


def _load_dotenv() -> None:
    env_file = Path(".env")
    if env_file.is_file():
        from dotenv import load_dotenv

        load_dotenv(env_file, override=False)
