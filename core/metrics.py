"""The process's Prometheus metrics, defined once on one registry that `/metrics` shows.

Counters are process-wide (prometheus_client is thread-safe: handlers count from worker
threads). Label values are bounded: commands by their canonical name or "other", send results
from the port's error set. Gauges that need the database come from collectors the composition
root adds for as long as it runs (`collecting`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.registry import Collector

from core.chat_client import BadRequest, ChatGone, Forbidden, NotModified, RetryAfter, Transient

log = logging.getLogger(__name__)
T = TypeVar("T")

CONTENT_TYPE = CONTENT_TYPE_LATEST
disable_created_metrics()  # type: ignore[no-untyped-call]  # no `_created` series
REGISTRY = CollectorRegistry()
ProcessCollector(registry=REGISTRY)
PlatformCollector(registry=REGISTRY)
GCCollector(registry=REGISTRY)

# The search engine's confidence verdicts (data.search.types.Confidence; a test keeps them equal).
SEARCH_OUTCOMES = ("exact", "confident", "ambiguous", "none")
SEND_RESULTS = ("ok", "429", "5xx", "gone", "moved", "forbidden", "bad_request", "error")
REPLY = "reply"
REMINDER = "reminder"

UPDATES = Counter(
    "daumoi_updates",
    "Updates received, by platform and command (a command's name, other: an unknown command, "
    "text, button, file, event, ignored).",
    ("platform", "command"),
    registry=REGISTRY,
)
REPLY_SECONDS = Histogram(
    "daumoi_reply_seconds",
    "Seconds from an update's arrival to the last part of its replies sent.",
    ("platform",),
    buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0),
    registry=REGISTRY,
)
SEARCHES = Counter(
    "daumoi_search",
    "Lookups answered (/tim, free text), by the search's confidence.",
    ("outcome",),
    registry=REGISTRY,
)
SENDS = Counter(
    "daumoi_sends",
    "Calls that send or edit a message, by platform, path (reply or reminder) and result "
    "(ok, 429, 5xx: also timeouts and network errors, gone, moved, forbidden, bad_request, error).",
    ("platform", "path", "result"),
    registry=REGISTRY,
)
REMINDERS = Counter(
    "daumoi_reminders",
    "Reminder outbox rows sent, or dead-lettered (given up).",
    ("result",),
    registry=REGISTRY,
)
IMPORTS = Counter(
    "daumoi_imports",
    "Decision imports: ok, refused (the file or text was refused) or failed (anything else).",
    ("result",),
    registry=REGISTRY,
)
for _outcome in SEARCH_OUTCOMES:
    SEARCHES.labels(_outcome)
for _result in ("sent", "dead"):
    REMINDERS.labels(_result)
for _result in ("ok", "refused"):
    IMPORTS.labels(_result)


def exposition() -> bytes:
    """Every metric in the text exposition format (for GET /metrics, content type CONTENT_TYPE)."""
    return generate_latest(REGISTRY)


@contextmanager
def collecting(collector: Collector) -> Iterator[None]:
    """Add a collector for the with block; nothing when one with the same metrics is there
    (another instance of the same service in this process already reports them)."""
    try:
        REGISTRY.register(collector)
    except ValueError:
        log.debug("metrics of %s are collected already", type(collector).__name__)
        yield
        return
    try:
        yield
    finally:
        REGISTRY.unregister(collector)


def send_result(error: BaseException | None) -> str:
    """The `result` label of a send that raised error (None: it worked)."""
    if error is None or isinstance(error, NotModified):
        return "ok"
    if isinstance(error, RetryAfter):
        return "429"
    if isinstance(error, Transient):
        return "5xx"
    if isinstance(error, ChatGone):
        return "moved" if error.new_chat_id else "gone"
    if isinstance(error, Forbidden):
        return "forbidden"
    if isinstance(error, BadRequest):
        return "bad_request"
    return "error"


async def timed_send(platform: str, path: str, chat_id: str, call: Callable[[], Awaitable[T]]) -> T:
    """Await one send, count its result and log it at debug with its latency (never the text)."""
    started = time.monotonic()
    try:
        value = await call()
    except Exception as exc:
        _sent(platform, path, chat_id, send_result(exc), started)
        raise
    _sent(platform, path, chat_id, "ok", started)
    return value


def _sent(platform: str, path: str, chat_id: str, result: str, started: float) -> None:
    SENDS.labels(platform, path, result).inc()
    if log.isEnabledFor(logging.DEBUG):
        millis = (time.monotonic() - started) * 1000
        log.debug("%s %s send to chat %s: %s in %.0f ms", platform, path, chat_id, result, millis)


@contextmanager
def counting_import() -> Iterator[None]:
    """Count the import run in the with block: ok, refused (a ValueError) or failed."""
    try:
        yield
    except ValueError:
        IMPORTS.labels("refused").inc()
        raise
    except Exception:
        IMPORTS.labels("failed").inc()
        raise
    IMPORTS.labels("ok").inc()
