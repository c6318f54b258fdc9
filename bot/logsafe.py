"""Process-wide logging that never shows a secret: every record and traceback is redacted.

Configured once with `logging.config.dictConfig`: text lines "time level logger: message", or
with DAUMOI_LOG_FORMAT=json one JSON object per line (time, level, logger, message, and
exc_info / stack_info when there are) for log collectors.
"""

from __future__ import annotations

import logging
import logging.config
import sys
import threading
from collections.abc import Iterable
from types import TracebackType
from typing import Any
from urllib.parse import quote

from pythonjsonlogger.json import JsonFormatter

from core.settings import Settings

MASK = "***"
_MIN_SECRET = 6  # shorter parts (a bot id such as "999") are not secret and would mask noise
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
JSON_FIELDS = ("time", "level", "logger", "message", "exc_info", "stack_info")
_CHATTY = ("apscheduler", "httpx", "httpcore", "aiohttp.access", "alembic")
log = logging.getLogger("daumoi")


def secrets_of(settings: Settings) -> list[str]:
    """The values that must never be shown: tokens (whole and their secret part), secrets."""
    found: set[str] = set()
    values = [
        settings.telegram_token,
        settings.zalo_token,
        settings.webhook_secret,
        settings.config.zalo_webhook_secret,
    ]
    for value in (v.strip() for v in values):
        if not value:
            continue
        found.add(value)
        _, _, tail = value.partition(":")
        if len(tail) >= _MIN_SECRET:
            found.add(tail)
    for value in list(found):
        found.add(quote(value, safe=""))
    return sorted((v for v in found if len(v) >= _MIN_SECRET), key=len, reverse=True)


class Redactor(logging.Filter):
    """A handler filter that masks secrets in a record's message, traceback and stack."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self.secrets = tuple(secrets)

    def redact(self, text: str) -> str:
        """Text with every secret masked."""
        for secret in self.secrets:
            if secret in text:
                text = text.replace(secret, MASK)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record in place (so every handler sees the masked text); keep it."""
        if not self.secrets:
            return True
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: show the template, not a crash
            message = str(record.msg)
        record.msg, record.args = self.redact(message), None
        if record.exc_info and record.exc_info[1] is not None:
            text = logging.Formatter().formatException(record.exc_info)
            record.exc_text = self.redact(text)
            record.exc_info = None
        elif record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


class JsonLines(JsonFormatter):
    """One JSON object per record with only JSON_FIELDS: a library's `extra` attributes are
    left out, so nothing reaches the line that the Redactor has not seen."""

    def __init__(self) -> None:
        super().__init__(
            "%(levelname)s %(name)s %(message)s",
            rename_fields={"levelname": "level", "name": "logger"},
            timestamp="time",
            json_ensure_ascii=False,
        )

    def process_log_record(self, log_data: dict[str, Any]) -> dict[str, Any]:
        """Keep the known fields, in a fixed order."""
        return {key: log_data[key] for key in JSON_FIELDS if key in log_data}


def logging_config(level: int | str, log_format: str = "text") -> dict[str, Any]:
    """The dictConfig of one stderr handler at level, as text lines or JSON lines."""
    formatter: dict[str, Any] = {"()": JsonLines} if log_format == "json" else {"format": FORMAT}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"daumoi": formatter},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "stream": sys.stderr,
                "formatter": "daumoi",
                # Some libraries set their own loggers to DEBUG; the handler keeps the level.
                "level": level,
            }
        },
        "root": {"level": level, "handlers": ["stderr"]},
    }


def configure(settings: Settings, level: int | str) -> Redactor:
    """Log to stderr at level in DAUMOI_LOG_FORMAT, with secrets masked on every root handler;
    route uncaught exceptions and warnings through logging so they are masked too."""
    redactor = Redactor(secrets_of(settings))
    root = logging.getLogger()
    if not root.handlers:
        logging.config.dictConfig(logging_config(level, settings.config.log_format))
    else:
        root.setLevel(level)
    for handler in root.handlers:
        handler.addFilter(redactor)
    if logging.getLevelName(level) != logging.DEBUG:
        for name in _CHATTY:  # a line per request or per job run: only when debugging
            logging.getLogger(name).setLevel(logging.WARNING)
    logging.captureWarnings(True)
    sys.excepthook = _log_uncaught
    threading.excepthook = _log_thread_exception
    sys.unraisablehook = _log_unraisable
    return redactor


def _log_uncaught(
    kind: type[BaseException], error: BaseException, trace: TracebackType | None
) -> None:
    log.critical("unexpected error", exc_info=(kind, error, trace))


def _log_thread_exception(args: threading.ExceptHookArgs) -> None:
    if args.exc_value is None:
        return
    name = args.thread.name if args.thread is not None else "?"
    log.critical(
        "unexpected error in thread %s",
        name,
        exc_info=(args.exc_type, args.exc_value, args.exc_traceback),
    )


def _log_unraisable(unraisable: sys.UnraisableHookArgs) -> None:
    if unraisable.exc_value is None:
        return
    log.warning(
        "ignored error: %s",
        unraisable.err_msg or "",
        exc_info=(unraisable.exc_type, unraisable.exc_value, unraisable.exc_traceback),
    )
