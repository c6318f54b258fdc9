"""Reminder fan-out: 1,000 reminders to 300 groups against the fake Bot API's flood limits.

Three runs, each on a fresh SQLite database and a fresh fake server enforcing Telegram's limits
(≤ 30 messages/s overall, ≤ 20/min per group, sliding windows):

- A: 1,000 reminders due together in 300 groups. Each group gets one merged message, so the
  ideal is 300 messages / 30 per second = 10 s.
- B: the same with 10 % of the messages answered 500 once: nothing may be lost.
- C: 1,000 separate messages (each reminder too long to share a message): 3-4 per group, so
  the per-group limit (one message every 3 s) matters as well as the overall one.

Every run uses Telegram's real rates (the limiter and the fake server take them as parameters;
`_run(scale=…)` multiplies both, but at higher rates this single process — fake server, client
and SQLite sharing one GIL — becomes the bottleneck rather than the limits).
"""

from __future__ import annotations

import asyncio
import random
import re
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from bot.bridge import AdapterOptions
from bot.platforms import telegram
from core.chat_client import ChatClient
from core.limits import RateLimits
from core.settings import Settings
from data.store.db import Database
from data.store.models import OutboxStatus, ReminderKind, ReminderOutbox, ReminderRule
from scheduler import outbox
from scheduler.config import ReminderConfig
from scheduler.delivery import Delivery, DeliveryReport
from scheduler.outbox import NewRow
from tests.fake_telegram import DEFAULT_TOKEN, FakeTelegram, Limits

REMINDERS = 1000
GROUPS = 300
TARGET_RATIO = 1.1
_MARK = re.compile(r"\[r(\d+)\]")


@dataclass
class Outcome:
    """What one run measured."""

    name: str
    reminders: int
    messages: int
    seconds: float
    ideal: float
    answered_429: int
    injected_5xx: int
    lost: int
    duplicated: int
    report: DeliveryReport

    @property
    def ratio(self) -> float:
        """Measured time over the ideal the limits allow."""
        return self.seconds / self.ideal


class _Chopped:
    """Telegram's client with a shorter text limit, so each reminder is its own message (run C)."""

    def __init__(self, inner: ChatClient, max_text_len: int) -> None:
        self.inner = inner
        self.platform = inner.platform
        self.limits = replace(inner.limits, max_text_len=max_text_len)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


@asynccontextmanager
async def _open_client(settings: Settings, max_text_len: int | None) -> AsyncIterator[ChatClient]:
    """Telegram's ChatClient (the adapter's own) on the fake server."""
    options = AdapterOptions.from_settings(settings, "telegram")
    async with telegram.connect(settings, options) as connection:
        client = connection.client
        yield client if max_text_len is None else _Chopped(client, max_text_len)  # type: ignore[misc]


def _groups() -> list[str]:
    return [f"-100{2000 + n}" for n in range(GROUPS)]


def _enqueue(database: Database, chats: list[str], now: datetime) -> None:
    rows = []
    for number in range(REMINDERS):
        chat = chats[number % len(chats)]
        text = (
            f"Kính gửi đơn vị: còn 7 ngày đến hạn báo cáo kết quả thực hiện năm 2026 "
            f"(15/12/2026). Nhắc việc số [r{number}]."
        )
        due = now - timedelta(microseconds=number)  # (rule, chat, due) is unique
        rows.append(NewRow(0, "telegram", chat, due, ReminderKind.ONCE.value, text))
    with database.unit_of_work() as session:
        rule = ReminderRule(
            kind=ReminderKind.ONCE.value,
            text="bench",
            params={},
            created_by="bench",
            created_at=now,
            updated_at=now,
        )
        session.add(rule)
        session.flush()
        rows = [NewRow(rule.id, r.platform, r.chat_id, r.due, r.kind, r.text) for r in rows]
        outbox.insert(session, rows, now)


async def _deliver(
    database: Database, server: FakeTelegram, config: ReminderConfig, chop: int | None
) -> tuple[DeliveryReport, float]:
    settings = Settings(
        telegram_token=DEFAULT_TOKEN,
        telegram_api_url=server.base_url,
        platforms=("telegram",),
        extra={"DAUMOI_TELEGRAM_TIMEOUT": "10"},
    )
    async with _open_client(settings, chop) as client:
        delivery = Delivery(
            database,
            {"telegram": client},
            config,
            settings,
            clock=lambda: datetime.now(UTC),
        )
        try:
            began = time.perf_counter()
            report = await delivery.drain(max_wait=60)
            return report, time.perf_counter() - began
        finally:
            delivery.close()


def _run(
    name: str,
    *,
    scale: float = 1.0,
    faults: float = 0.0,
    chop: int | None = None,
) -> Outcome:
    limits = Limits(overall_per_second=int(30 * scale), group_per_minute=int(20 * scale))
    config = ReminderConfig(backoff_base=1.0, concurrency=64).with_limits(
        "telegram",
        RateLimits(
            overall_per_second=30 * scale, group_per_minute=20 * scale, chat_per_second=scale
        ),
    )
    chats = _groups()
    with tempfile.TemporaryDirectory() as folder:
        database = Database.connect(f"sqlite:///{Path(folder) / 'bench.sqlite3'}")
        try:
            _enqueue(database, chats, datetime.now(UTC))
            server = FakeTelegram(limits=limits)
            with server.running():
                injected = 0
                if faults:
                    for chat in random.Random(7).sample(chats, int(len(chats) * faults)):
                        server.fail_next("sendMessage", "500", chat_id=chat)
                        injected += 1
                report, seconds = asyncio.run(_deliver(database, server, config, chop))
                sent = server.calls("sendMessage")
                answered_429 = (
                    sum(1 for call in server.errors if call.method.lower() == "sendmessage")
                    - injected
                )
            marks = Counter(int(m) for call in sent for m in _MARK.findall(call.text))
            with database.session() as session:
                statuses = Counter(session.scalars(select(ReminderOutbox.status)))
        finally:
            database.engine.dispose()
    messages = len(sent)
    ideal = (messages + injected) / (30 * scale)  # a failed attempt also takes a send slot
    lost = (
        REMINDERS
        - len(marks)
        + sum(count for status, count in statuses.items() if status != OutboxStatus.SENT.value)
    )
    return Outcome(
        name=name,
        reminders=REMINDERS,
        messages=messages,
        seconds=seconds,
        ideal=ideal,
        answered_429=answered_429,
        injected_5xx=injected,
        lost=lost,
        duplicated=sum(count - 1 for count in marks.values() if count > 1),
        report=report,
    )


def run() -> str:
    """Run the three fan-outs and return the Markdown section."""
    outcomes = [
        _run("A: 1,000 reminders → 300 groups (merged per group)"),
        _run("B: as A, 10 % of messages answered 500 once", faults=0.10),
        _run("C: 1,000 separate messages (3-4 per group)", chop=120),
    ]
    lines = [
        "## Reminder delivery (fake Bot API enforcing Telegram's flood limits)",
        "",
        f"Fan-out of {REMINDERS:,} reminders across {GROUPS} group chats through the real "
        "delivery path (outbox claim → aiolimiter pacing → python-telegram-bot → fake server "
        "with sliding-window limits: 30 messages/s overall, 20/min per group), at Telegram's "
        "real rates. The ideal is the number of send attempts the run needs divided by the "
        "overall limit (30/s). Reminders due together for one group are merged into one "
        f"message (runs A, B). Goal: ≤ {TARGET_RATIO}× the ideal and 0 answers 429 (A, C); "
        "nothing lost and nothing sent twice (all runs).",
        "",
        "| Run | Messages | Time | Ideal | Ratio | 429 answers | 5xx injected | Retried "
        "| Lost | Duplicated |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for o in outcomes:
        timely = o.ratio <= TARGET_RATIO or o.injected_5xx > 0  # B's goal is only "nothing lost"
        good = timely and o.answered_429 == 0 and o.lost == 0 and o.duplicated == 0
        verdict = "✅" if good else "❌"
        lines.append(
            f"| {o.name} | {o.messages} | {o.seconds:.2f} s | {o.ideal:.2f} s | "
            f"{o.ratio:.3f}× {verdict} | {o.answered_429} | {o.injected_5xx} | "
            f"{o.report.retried} | {o.lost} | {o.duplicated} |"
        )
    lines += [
        "",
        "Pacing uses aiolimiter buckets of size 1 (evenly spaced sends, no initial burst) at "
        "97 % of each limit; a bucket that bursts would overrun the server's sliding window "
        "right after the burst and collect 429s. The 3 % safety margin is most of the gap to "
        "the ideal, with the event loop's wake-up latency (a size-1 bucket cannot catch up "
        "after a late wake-up). In B the failed rows wait for their backoff (1 s here) in the "
        "outbox and go out with later claims; the tail is the backoff of the last failures.",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    print(run())
