"""Every DAUMOI_* variable, declared once: its type, default and meaning (pydantic-settings).

`Config.from_mapping` validates the variables of a mapping (the environment, a test's
`Settings.extra`); a bad value raises ConfigError naming the variable and what it expects.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from datetime import date
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from core.textnorm import fold

PREFIX = "DAUMOI_"
DEFAULT_DATABASE_URL = "sqlite:///daumoi.sqlite3"
_CLOCK = r"\d{1,2}(?:[:h.]\d{2})?"
_LISTEN = re.compile(r"^(?:[\w.\-]*|\[[0-9a-fA-F:]+\]):\d{1,5}$")
_DATABASE_URL = re.compile(
    r"^(?:sqlite(?:\+\w+)?://(?:/.*)?|(?:postgres|postgresql)(?:\+\w+)?://\S+)$"
)
_PASSWORD = re.compile(r"(://[^:/@\s]+:)[^@\s]+@")
_DAYS = re.compile(r"^\s*[0-6](?:\s*-\s*[0-6])?(?:\s*,\s*[0-6](?:\s*-\s*[0-6])?)*\s*$")
# Variables that are not settings of the bot: the test suite's and the benchmarks' own.
NOT_SETTINGS = frozenset(
    {"DAUMOI_TEST_POSTGRES_URL", "DAUMOI_FUZZ_MESSAGES", "DAUMOI_FUZZ_SECONDS", "DAUMOI_FUZZ_SEED"}
)


def _secret(description: str, default: str = "") -> Any:
    return Field(default, description=description, json_schema_extra={"secret": True})


class ConfigError(ValueError):
    """A variable has a value the bot cannot use (the message names it, in Vietnamese)."""


class Config(BaseSettings):
    """The bot's configuration; field `x` is the variable DAUMOI_X."""

    model_config = SettingsConfigDict(
        env_prefix=PREFIX, extra="ignore", case_sensitive=False, validate_default=True
    )

    # -- core ----------------------------------------------------------------------------------
    database_url: str = Field(
        DEFAULT_DATABASE_URL,
        description="SQLite file or postgresql://… (postgres:// also accepted)",
    )
    platforms: str = Field(
        "", description="platforms `daumoi run` starts (telegram, zalo; comma-separated)"
    )
    admins: str = Field("", description="administrators as platform:user_id, comma-separated")
    timezone: str = Field("Asia/Ho_Chi_Minh", description="time zone of deadlines and reminders")
    require_services: bool = Field(False, description="tests: PostgreSQL must be there (CI sets 1)")
    log_level: Literal["", "DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = Field(
        "", description="log level (empty: INFO when serving Telegram/Zalo, else WARNING)"
    )
    log_format: Literal["text", "json"] = Field(
        "text", description="log lines as text, or one JSON object per line for collectors"
    )
    succession_file: str = Field(
        "", description="CSV of agency successions instead of the shipped one"
    )
    vocabulary_file: str = Field("", description="extra vocabulary CSV added to the shipped one")
    facts_file: str = Field(
        "", description="CSV of facts about the decision instead of the shipped one"
    )
    data_refresh_seconds: float = Field(
        2.0, description="how often the data version is checked (0: never)"
    )
    connect_retry_first: float = Field(
        1.0, gt=0, description="seconds before the 2nd attempt to reach a platform at start"
    )
    connect_retry_max: float = Field(60.0, gt=0, description="longest wait between those attempts")

    # -- several instances ---------------------------------------------------------------------
    shared_limits: bool = Field(
        True, description="on PostgreSQL, count flood limits across instances (0: per process)"
    )
    leader_check_seconds: float = Field(
        2.0, gt=0, description="how often a standby tries to take over polling or ticking"
    )
    health_listen: str = Field(
        "", description="host:port of /healthz, /readyz and /metrics when no webhook server runs"
    )
    metrics_listen: str = Field("", description="host:port of /metrics alone (polling mode)")

    # -- web view ------------------------------------------------------------------------------
    web_listen: str = Field(
        "", description="host:port of the web view (/web/…) for leaders and the coordinators"
    )
    web_url: str = Field(
        "", description="public HTTPS address of the web view, e.g. https://…/web (links, Mini App)"
    )

    # -- Telegram ------------------------------------------------------------------------------
    telegram_token: str = _secret("bot token from @BotFather")
    telegram_library: Literal["ptb", "aiogram"] = Field(
        "ptb", description="python-telegram-bot (ptb) or aiogram"
    )
    telegram_api_url: str = Field("https://api.telegram.org", description="Bot API base URL")
    telegram_timeout: float = Field(10.0, gt=0, description="seconds for one Bot API call")
    webhook_url: str = Field("", description="public HTTPS URL for updates (empty: polling)")
    webhook_secret: str = _secret("checked on every webhook call (generated when empty)")
    webhook_listen: str = Field("127.0.0.1:8080", description="host:port the webhook binds")
    telegram_rate_per_second: float | None = Field(
        None, gt=0, description="messages a second overall (default 30)"
    )
    telegram_group_per_minute: float | None = Field(
        None, gt=0, description="messages a minute into one group (default 20)"
    )
    telegram_chat_per_second: float | None = Field(
        None, gt=0, description="reminders a second into one chat (default 1)"
    )

    # -- Zalo ----------------------------------------------------------------------------------
    zalo_token: str = _secret("Zalo Bot API token")
    zalo_api_url: str = Field(
        "https://bot-api.zaloplatforms.com", description="Zalo Bot API base URL"
    )
    zalo_timeout: float = Field(10.0, gt=0, description="seconds for one Zalo API call")
    zalo_webhook_url: str = Field("", description="public HTTPS URL for Zalo updates")
    zalo_webhook_secret: str = _secret("checked on every Zalo webhook call (random when empty)")
    zalo_listen: str = Field("127.0.0.1:8081", description="host:port of Zalo's HTTP server")
    zalo_file_ttl_hours: float = Field(24.0, gt=0, description="hours a report link stays valid")
    public_url: str = Field("", description="public address of DAUMOI_ZALO_LISTEN (file links)")

    # -- reminders -----------------------------------------------------------------------------
    reminders: bool = Field(True, description="send reminders (0 turns them off)")
    reminder_time: str = Field(
        "08:30", pattern=rf"^\s*{_CLOCK}\s*$", description="time of day reminders go out (HH:MM)"
    )
    reminder_days_before: str = Field(
        "30,14,7,3,1,0",
        pattern=r"^\s*\d+(?:\s*,\s*\d+)*\s*$",
        description="days before a deadline to remind (comma-separated)",
    )
    reminder_overdue_every: int = Field(
        3, gt=0, description="working days between overdue reminders"
    )
    reminder_catch_up_hours: float = Field(
        12.0, ge=0, description="hours a missed reminder is still sent"
    )
    reminder_tick_seconds: float = Field(30.0, gt=0, description="seconds between ticks")
    reminder_lease_seconds: float = Field(
        120.0, gt=0, description="seconds a claimed reminder stays reserved"
    )
    reminder_lease_margin: float = Field(
        15.0, ge=0, description="seconds before a lease ends that no send starts"
    )
    reminder_concurrency: int = Field(32, gt=0, description="chats reminders are sent to at once")
    reminder_max_attempts: int = Field(
        6, gt=0, description="attempts before a reminder is given up"
    )
    reminder_backoff_seconds: float = Field(
        30.0, gt=0, description="seconds before the first retry, then doubled"
    )
    reminder_max_wait_seconds: float = Field(
        120.0, ge=0, description="seconds `remind run-once` waits for retries"
    )
    working_hours: str = Field(
        "08:00-17:00",
        pattern=rf"^\s*{_CLOCK}\s*-\s*{_CLOCK}\s*$",
        description="office hours reminders are sent in",
    )
    working_days: str = Field("", description="weekdays 0-6 (0 = Monday), e.g. 0-4")
    extra_holidays: str = Field("", description="extra days off, YYYY-MM-DD, comma-separated")
    digest_day: str = Field("thu2", description="weekday of the weekly digest (thu2 … cn)")
    digest_time: str = Field(
        "08:00", pattern=rf"^\s*{_CLOCK}\s*$", description="time of the weekly digest (HH:MM)"
    )

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        if not _DATABASE_URL.match(value.strip()):
            raise ValueError(
                "sqlite:///đường/dẫn/tệp.sqlite3 hoặc postgresql://người_dùng@máy_chủ:cổng/tên"
            )
        return value.strip()

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("tên múi giờ, ví dụ Asia/Ho_Chi_Minh") from None
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.strip().upper() if isinstance(value, str) else value

    @field_validator(
        "webhook_listen",
        "zalo_listen",
        "health_listen",
        "metrics_listen",
        "web_listen",
        mode="after",
    )
    @classmethod
    def _listen(cls, value: str) -> str:
        if value and not _LISTEN.match(value.strip()):
            raise ValueError("máy:cổng, ví dụ 127.0.0.1:8080")
        return value.strip()

    @field_validator("working_days")
    @classmethod
    def _days(cls, value: str) -> str:
        if value.strip() and not _DAYS.match(value):
            raise ValueError("các thứ từ 0 đến 6 (0 là thứ Hai), ví dụ 0-4 hoặc 0,1,2,3,4")
        return value

    @field_validator("digest_day")
    @classmethod
    def _weekday(cls, value: str) -> str:
        parse_weekday(value)
        return value

    @field_validator("extra_holidays")
    @classmethod
    def _holidays(cls, value: str) -> str:
        for part in (p.strip() for p in value.split(",")):
            if part:
                try:
                    date.fromisoformat(part)
                except ValueError:
                    raise ValueError("các ngày dạng YYYY-MM-DD, cách nhau bởi dấu phẩy") from None
        return value

    @field_validator("reminder_time", "digest_time", "working_hours")
    @classmethod
    def _clock_range(cls, value: str) -> str:
        for hour, minute in re.findall(r"(\d{1,2})(?:[:h.](\d{2}))?", value):
            if int(hour) > 23 or int(minute or 0) > 59:
                raise ValueError("giờ trong ngày dạng HH:MM")
        return value

    @classmethod
    def from_mapping(cls, variables: Mapping[str, str]) -> Config:
        """Validate the DAUMOI_* variables of a mapping (others ignored), defaulting the rest."""
        values = {
            name[len(PREFIX) :].lower(): value
            for name, value in variables.items()
            if name.upper().startswith(PREFIX) and name[len(PREFIX) :].lower() in cls.model_fields
        }
        values = {
            key: value
            for key, value in values.items()
            if value.strip() != "" or cls.model_fields[key].annotation is str
        }
        try:
            return cls.model_validate(values)
        except ValidationError as exc:
            raise ConfigError(_first_problem(exc, variables)) from None

    @classmethod
    def variables(cls) -> list[str]:
        """Every variable's name, in declaration order."""
        return [variable(name) for name in cls.model_fields]

    def shown(self) -> list[tuple[str, str]]:
        """(variable, value) for every setting, secrets masked."""
        rows = []
        for name, info in type(self).model_fields.items():
            value = getattr(self, name)
            extra = info.json_schema_extra
            secret = isinstance(extra, dict) and extra.get("secret")
            text = "" if value is None else str(value)
            if isinstance(value, bool):
                text = "1" if value else "0"
            if secret and text:
                text = "***"
            rows.append((variable(name), _PASSWORD.sub(r"\1***@", text)))
        return rows


_WEEKDAYS = {"mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6, "cn": 6}
_WEEKDAYS |= {f"thu{n}": n - 2 for n in range(2, 8)} | {f"t{n}": n - 2 for n in range(2, 8)}
_WEEKDAYS |= {f"thu{name}": n for n, name in enumerate(("hai", "ba", "tu", "nam", "sau", "bay"))}
_WEEKDAYS |= {"chunhat": 6}


def parse_weekday(text: str) -> int:
    """ "thu2"/"thứ hai"/"mon"/"monday" → 0 … "cn"/"chủ nhật"/"sun" → 6 (else ValueError)."""
    key = "".join(fold(text).split())
    found = _WEEKDAYS.get(key, _WEEKDAYS.get(key[:3]))
    if found is None:
        raise ValueError("một thứ trong tuần: thu2 … thu7, cn (hoặc mon … sun)")
    return found


def variable(field_name: str) -> str:
    """The environment variable of a field."""
    return PREFIX + field_name.upper()


def _first_problem(exc: ValidationError, variables: Mapping[str, str]) -> str:
    error = exc.errors()[0]
    field_name = str(error["loc"][0]) if error["loc"] else ""
    name = variable(field_name)
    given = next((v for k, v in variables.items() if k.upper() == name), "")
    expected = _expected(error)
    return f"Biến {name}={given!r} không dùng được: cần {expected}."


_TYPE_WORDS = {
    "float_parsing": "một số (ví dụ 30 hoặc 2.5)",
    "int_parsing": "một số nguyên (ví dụ 3)",
    "bool_parsing": "1 hoặc 0 (true/false)",
    "greater_than": "một số lớn hơn {gt}",
    "greater_than_equal": "một số không âm",
    "literal_error": "một trong các giá trị {expected}",
    "string_pattern_mismatch": "đúng dạng (giờ HH:MM, khoảng 08:00-17:00, hoặc danh sách số)",
}


def _expected(error: Any) -> str:
    kind = error.get("type", "")
    context = error.get("ctx") or {}
    if kind in _TYPE_WORDS:
        words = {k: str(v).replace(" or ", " hoặc ") for k, v in context.items()}
        return _TYPE_WORDS[kind].format(**words)
    message = str(error.get("msg", "")).removeprefix("Value error, ")
    return message or "một giá trị khác"


def unknown_variables(variables: Mapping[str, str], known: frozenset[str]) -> list[str]:
    """A warning line for each DAUMOI_* variable nobody reads, with the closest known name."""
    names = set(Config.variables()) | NOT_SETTINGS | known
    lines = []
    for name in sorted(k for k in variables if k.upper().startswith(PREFIX)):
        if name.upper() in names:
            continue
        close = difflib.get_close_matches(name.upper(), sorted(names), n=1, cutoff=0.75)
        hint = f" — có phải {close[0]}?" if close else ""
        lines.append(f"Biến {name} không được dùng{hint}")
    return lines
