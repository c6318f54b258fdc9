"""Deliver claimed outbox rows through each platform's ChatClient: one message per chat, paced,
with the port's typed errors deciding what happens to the rows.

The send-then-crash window is one HTTP response plus one small UPDATE: each message's rows are
marked sent in their own transaction as soon as the platform returns its message id.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
import socket
import uuid
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from enum import Enum
from functools import partial
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import metrics
from core.chat_client import BadRequest, ChatClient, ChatGone, RetryAfter, TopicGone
from core.limits import RateLimits
from core.pacing import Pacer, PlatformLimiter
from core.render import pieces, text_length
from core.settings import Settings
from data.store import chats
from data.store.db import Database
from data.store.models import ChatRecord, ReminderOutbox
from scheduler import messages, outbox
from scheduler.config import ReminderConfig
from scheduler.occurrences import admin_destinations
from scheduler.outbox import Claimed, NewRow
from scheduler.rules import Kind, alerts_rule

log = logging.getLogger(__name__)
T = TypeVar("T")
SEPARATOR = "\n\n"
_MAX_MIGRATIONS = 2


@dataclass
class DeliveryReport:
    """What one delivery pass did."""

    messages: int = 0
    rows: int = 0
    rate_limited: int = 0
    retried: int = 0
    dead: int = 0
    gone: int = 0
    migrated: int = 0
    released: int = 0
    lost_leases: int = 0

    def add(self, other: DeliveryReport) -> None:
        """Accumulate another report into this one."""
        for item in fields(self):
            setattr(self, item.name, getattr(self, item.name) + getattr(other, item.name))


def pack(rows: Sequence[Claimed], limit: int) -> list[tuple[list[Claimed], str]]:
    """Group one chat's rows into as few messages as fit the platform's length limit.

    Rows for different forum topics never share a message (each batch has one thread_id).
    """
    topics: dict[str | None, list[Claimed]] = {}
    for row in rows:
        topics.setdefault(row.thread_id, []).append(row)
    return [batch for same in topics.values() for batch in _pack_topic(same, limit)]


def _pack_topic(rows: Sequence[Claimed], limit: int) -> list[tuple[list[Claimed], str]]:
    batches: list[tuple[list[Claimed], str]] = []
    current: list[Claimed] = []
    text = ""
    for row in rows:
        candidate = f"{text}{SEPARATOR}{row.text}" if current else row.text
        if current and text_length(candidate) > limit:
            batches.append((current, text))
            current, text = [row], row.text
        else:
            current.append(row)
            text = candidate
    if current:
        batches.append((current, text))
    return batches


class _Step(Enum):
    """What a chat's send loop does after one attempt."""

    NEXT = "next"  # go on with the next message
    AGAIN = "again"  # resend the same message (to the chat's new id)
    STOP = "stop"  # leave the rest for later


@dataclass
class _Target:
    """The chat being sent to and the client that reaches it; its id changes on migration."""

    platform: str
    client: ChatClient
    current: str
    migrations: int = 0


def _by_chat(rows: Sequence[Claimed]) -> dict[str, list[Claimed]]:
    by_chat: dict[str, list[Claimed]] = {}
    for row in rows:
        by_chat.setdefault(row.chat_id, []).append(row)
    return by_chat


def instance_id() -> str:
    """A name for this process in lease owners (host, pid, random suffix)."""
    return f"{socket.gethostname()[:20]}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class Delivery:
    """Claims due rows, sends them through the platforms' chat clients, records every outcome.

    `clients` is read on every pass, so a platform that connects later (added to the mapping)
    gets its rows then; until it does they stay pending. `pacers` are shared with the reply
    path; a platform without one is paced by a limiter built from `config.limits`.
    """

    def __init__(
        self,
        database: Database,
        clients: Mapping[str, ChatClient],
        config: ReminderConfig,
        settings: Settings | None = None,
        *,
        pacers: Mapping[str, Pacer] | None = None,
        clock: Callable[[], datetime],
        sleep: Callable[[float], Any] = asyncio.sleep,
        instance: str | None = None,
    ) -> None:
        self.database = database
        self.clients = clients
        self.pacers: Mapping[str, Pacer] = pacers if pacers is not None else {}
        self.config = config
        self.settings = settings
        self.clock = clock
        self._sleep = sleep
        self.instance = instance or instance_id()
        self._claims = itertools.count(1)
        self._limiters: dict[str, Pacer] = {}
        self._db = ThreadPoolExecutor(1, thread_name_prefix="daumoi-outbox")

    def close(self) -> None:
        """Stop the database thread."""
        self._db.shutdown(wait=True)

    # -- database access (one thread: SQLite has one writer anyway) ---------------------------

    async def in_db(self, work: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run work(session, *args) in its own unit of work on the database thread."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._db, partial(self._unit, work, *args, **kwargs))

    def _unit(self, work: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        with self.database.unit_of_work() as session:
            return work(session, *args, **kwargs)

    # -- passes ---------------------------------------------------------------------------

    def _limiter(self, platform: str) -> Pacer:
        shared = self.pacers.get(platform)
        if shared is not None:
            return shared
        limiter = self._limiters.get(platform)
        if limiter is None:
            limits = self.config.limits.get(platform, RateLimits())
            limiter = self._limiters[platform] = PlatformLimiter(limits)
        return limiter

    def _claim_limit(self, platform: str) -> int:
        """Chats in flight: enough to keep the overall rate busy while each chat waits for
        its own (slower) limit, yet small enough that retries interleave with a fan-out."""
        limits = self._limiter(platform).limits
        rate = limits.overall_per_second
        if not rate:
            return self.config.claim_limit
        per_chat = [r for r in (limits.chat_per_second, (limits.group_per_minute or 0) / 60) if r]
        wanted = rate * self.config.claim_seconds
        if per_chat:
            wanted = max(wanted, 2 * rate / min(per_chat))
        return max(1, min(self.config.claim_limit, int(wanted)))

    async def deliver_due(self) -> DeliveryReport:
        """Send everything due now on every platform; failures wait for their retry time."""
        connected = list(self.clients.items())  # a platform may connect between passes
        reports = await asyncio.gather(*(self._platform(name, c) for name, c in connected))
        total = DeliveryReport()
        for report in reports:
            total.add(report)
        metrics.REMINDERS.labels("sent").inc(total.rows)
        metrics.REMINDERS.labels("dead").inc(total.dead)
        return total

    async def drain(self, max_wait: float | None = None) -> DeliveryReport:
        """Deliver, then keep retrying while the next pending row is due within max_wait s."""
        limit = self.config.max_wait if max_wait is None else max_wait
        total = DeliveryReport()
        while True:
            total.add(await self.deliver_due())
            upcoming = await self.in_db(outbox.next_attempt, list(self.clients))
            if upcoming is None:
                return total
            wait = (upcoming - self.clock()).total_seconds()
            if wait > limit:
                return total
            await self._sleep(max(wait, 0.02))

    async def _platform(self, platform: str, client: ChatClient) -> DeliveryReport:
        """Keep a pipeline of claimed chats: claim more whenever half of them are done."""
        report = DeliveryReport()
        limit = self._claim_limit(platform)
        gate = asyncio.Semaphore(max(1, self.config.concurrency))  # requests in flight
        active: dict[str, asyncio.Task[bool]] = {}
        skip: set[str] = set()  # chats whose lease ran short this pass
        while True:
            if len(active) <= limit // 2:
                owner = f"{self.instance}:{next(self._claims)}"
                rows = await self.in_db(
                    outbox.claim,
                    owner=owner,
                    now=self.clock(),
                    lease=self.config.lease,
                    platforms=[platform],
                    limit=limit - len(active),
                    exclude=sorted(set(active) | skip),
                )
                for chat_id, chat_rows in _by_chat(rows).items():
                    active[chat_id] = asyncio.create_task(
                        self._guarded(
                            owner, _Target(platform, client, chat_id), chat_rows, report, gate
                        )
                    )
            if not active:
                return report
            done, _ = await asyncio.wait(active.values(), return_when=asyncio.FIRST_COMPLETED)
            for chat_id, task in list(active.items()):
                if task in done:
                    del active[chat_id]
                    if not task.result():
                        skip.add(chat_id)

    async def _guarded(
        self,
        owner: str,
        chat: _Target,
        rows: list[Claimed],
        report: DeliveryReport,
        gate: asyncio.Semaphore,
    ) -> bool:
        """Deliver one chat's rows; False when they had to be released unsent."""
        try:
            return await self._send_chat(owner, chat, rows, report, gate)
        except Exception:  # never leave a claim half-handled because of a bug
            log.exception("delivery to %s:%s failed", chat.platform, chat.current)
            await self.in_db(outbox.release, [r.id for r in rows], owner)
            return False

    # -- one chat -------------------------------------------------------------------------

    async def _send_chat(
        self,
        owner: str,
        chat: _Target,
        rows: list[Claimed],
        report: DeliveryReport,
        gate: asyncio.Semaphore,
    ) -> bool:
        """Send one chat's rows in as few messages as fit; False if released unsent."""
        limiter = self._limiter(chat.platform)
        batches = pack(rows, chat.client.limits.max_text_len)
        index = 0
        while index < len(batches):
            batch, text = batches[index]
            remaining = [row.id for rows_, _ in batches[index:] for row in rows_]
            await limiter.acquire(chat.current)
            if self.clock() + self.config.lease_margin >= batch[0].lease_expires_at:
                # Another instance may claim these rows soon: do not race it.
                report.released += await self.in_db(outbox.release, remaining, owner)
                return False
            # A request slot is held until the outcome is recorded, so when every slot is
            # busy no send has completed unrecorded.
            async with gate:
                step = await self._attempt(owner, chat, batches, index, text, remaining, report)
            if step is _Step.STOP:
                return True
            if step is _Step.NEXT:
                index += 1
        return True

    async def _send(self, chat: _Target, text: str, thread_id: str | None) -> list[str]:
        """Send one message, in pieces if it is longer than the platform allows; their ids.

        A forum topic that is gone or closed does not lose the reminder: it goes to General.
        """
        ids: list[str] = []
        client = chat.client
        for number, piece in enumerate(pieces(text, client.limits)):
            if number:  # the first piece was paced by the chat loop
                await self._limiter(chat.platform).acquire(chat.current)
            try:
                ids.append(await client.send_text(chat.current, piece, thread_id=thread_id))
            except TopicGone as exc:
                if thread_id is None:
                    raise
                log.warning("topic %s of %s unusable (%s)", thread_id, chat.current, exc)
                thread_id = None
                ids.append(await client.send_text(chat.current, piece))
        return ids

    async def _attempt(
        self,
        owner: str,
        chat: _Target,
        batches: list[tuple[list[Claimed], str]],
        index: int,
        text: str,
        remaining: list[int],
        report: DeliveryReport,
    ) -> _Step:
        """Send one message and record what happened; say what the chat loop does next."""
        platform = chat.platform
        batch = batches[index][0]
        try:
            send = partial(self._send, chat, text, batch[0].thread_id)
            message_ids = await metrics.timed_send(platform, metrics.REMINDER, chat.current, send)
        except RetryAfter as exc:
            self._limiter(platform).pause(exc.seconds)
            report.rate_limited += 1
            at = self.clock() + timedelta(seconds=exc.seconds)
            await self.in_db(outbox.reschedule, remaining, owner, at, str(exc), failed=False)
            return _Step.STOP
        except ChatGone as exc:
            if exc.new_chat_id is not None:  # the group moved (Telegram supergroup upgrade)
                report.migrated += 1
                await self.in_db(self._migrate, platform, chat.current, exc.new_chat_id)
                chat.current = exc.new_chat_id
                chat.migrations += 1
                if chat.migrations > _MAX_MIGRATIONS:
                    error = f"chat migrated to {exc.new_chat_id}"
                    await self._give_up(owner, platform, chat.current, remaining, error, report)
                    return _Step.STOP
                return _Step.AGAIN
            report.gone += 1
            alerts_only = all(row.kind == Kind.ALERT for rows, _ in batches for row in rows)
            await self.in_db(
                self._chat_gone, owner, platform, chat.current, remaining, str(exc), alerts_only
            )
            report.dead += len(remaining)
            return _Step.STOP
        except BadRequest as exc:
            ids = [r.id for r in batch]
            await self._give_up(owner, platform, chat.current, ids, str(exc), report, rejected=True)
            return _Step.NEXT
        except Exception as exc:  # Transient, Forbidden (the rows wait), anything else: back off
            await self._failed(owner, platform, chat.current, batches[index:], exc, report)
            return _Step.STOP
        moved_to = chat.current if chat.migrations else None
        stored = await self.in_db(
            outbox.mark_sent, [r.id for r in batch], owner, self.clock(), message_ids, moved_to
        )
        report.messages += 1
        report.rows += len(batch)
        report.lost_leases += len(batch) - stored
        return _Step.NEXT

    async def _failed(
        self,
        owner: str,
        platform: str,
        chat_id: str,
        batches: list[tuple[list[Claimed], str]],
        exc: Exception,
        report: DeliveryReport,
    ) -> None:
        rows = [row for batch, _ in batches for row in batch]
        attempts = max(row.attempts for row in rows) + 1
        error = f"{type(exc).__name__}: {exc}"
        if attempts >= self.config.max_attempts:
            await self._give_up(owner, platform, chat_id, [r.id for r in rows], error, report)
            return
        log.info("transient failure sending to %s:%s (%s); retrying", platform, chat_id, error)
        at = self.clock() + timedelta(seconds=self.config.backoff(attempts))
        await self.in_db(outbox.reschedule, [r.id for r in rows], owner, at, error, failed=True)
        report.retried += len(rows)

    async def _give_up(
        self,
        owner: str,
        platform: str,
        chat_id: str,
        ids: list[int],
        error: str,
        report: DeliveryReport,
        *,
        rejected: bool = False,
    ) -> None:
        report.dead += await self.in_db(
            self._dead_letter, owner, platform, chat_id, ids, error, rejected
        )

    # -- database work for outcomes --------------------------------------------------------

    def _migrate(self, session: Session, platform: str, old: str, new: str) -> None:
        chats.migrate(session, platform, old, new)
        outbox.move_chat(session, platform, old, new)

    def _chat_gone(
        self,
        session: Session,
        owner: str,
        platform: str,
        chat_id: str,
        ids: list[int],
        error: str,
        alerts_only: bool,
    ) -> None:
        label = _chat_label(session, platform, chat_id)
        chats.mark_inactive(session, platform, chat_id)
        outbox.mark_dead(session, ids, owner, f"chat gone: {error}")
        # Everything else queued for that chat would fail the same way.
        outbox.kill_chat(session, platform, chat_id, f"chat gone: {error}")
        if not alerts_only:
            self._alert(session, messages.chat_gone_text(platform, chat_id, label))

    def _dead_letter(
        self,
        session: Session,
        owner: str,
        platform: str,
        chat_id: str,
        ids: list[int],
        error: str,
        rejected: bool,
    ) -> int:
        rows = list(session.scalars(select(ReminderOutbox).where(ReminderOutbox.id.in_(ids))))
        attempts = max((row.attempts for row in rows), default=0) + 1
        count = outbox.mark_dead(session, ids, owner, error)
        if count and not all(row.kind == Kind.ALERT for row in rows):
            label = _chat_label(session, platform, chat_id)
            text = (
                messages.rejected_text(platform, chat_id, label, error)
                if rejected
                else messages.dead_letter_text(platform, chat_id, label, attempts, error)
            )
            self._alert(session, text)
        return count

    def _alert(self, session: Session, text: str) -> None:
        """Queue an alert to every admin (delivered by the same loop, like any reminder)."""
        now = self.clock()
        rule = alerts_rule(session, self.config, now)
        admins = admin_destinations(session, self.settings)
        if not admins:
            log.warning("no admin to alert: %s", text)
            return
        for admin in admins:
            for nudge in range(100):  # two alerts in the same microsecond: keep both
                row = NewRow(
                    rule.id,
                    admin.platform,
                    admin.chat_id,
                    now + timedelta(microseconds=nudge),
                    Kind.ALERT,
                    text,
                )
                if outbox.insert(session, [row], now):
                    break


def _chat_label(session: Session, platform: str, chat_id: str) -> str:
    record = session.scalars(
        select(ChatRecord).where(ChatRecord.platform == platform, ChatRecord.chat_id == chat_id)
    ).first()
    if record is None:
        return "cuộc trò chuyện"
    name = f"nhóm “{record.title}”" if record.title else "nhóm chat"
    if record.agency is not None:
        name += f" của {record.agency.name}"
    return name
