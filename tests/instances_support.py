"""Support for the two-instance end-to-end test: processes, a load balancer, the outbox.

The test plays Telegram and a load balancer at once: it POSTs updates (with the shared secret)
straight to each `daumoi run` instance's webhook port, redelivers once to the other instance
when one does not answer 200, and reads what the bot sent from a fake Bot API that enforces
Telegram's flood limits and counts every 429 it answers.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from aiohttp import ClientError, ClientSession, ClientTimeout
from sqlalchemy import select

from data.importing.importer import SEED_FILE
from data.store.db import Database
from data.store.models import OutboxStatus, ReminderOutbox
from scheduler import outbox
from tests import fake_telegram as ft
from tests.fake_telegram import FakeTelegram, Limits
from tests.scheduler_support import plain_rule, rows_for_chats

DAUMOI = Path(sys.executable).with_name("daumoi")
SECRET = "two-instances-shared-secret"
WEBHOOK_URL = "https://daumoi.invalid/telegram/webhook"  # the load balancer's public address
WEBHOOK_PATH = "/telegram/webhook"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


# -- the fake Bot API -----------------------------------------------------------------------------


class CountingTelegram(FakeTelegram):
    """The fake Bot API, enforcing Telegram's limits and remembering every 429 it answered."""

    def __init__(self, limits: Limits) -> None:
        super().__init__(limits=limits)
        self.too_many: list[tuple[str, str]] = []  # (chat id, the limit's retry_after text)

    def _check_limits(self, method: str, params: Mapping[str, Any]) -> Any:
        refused = super()._check_limits(method, params)
        if refused is not None:
            with self._lock:
                self.too_many.append((str(params.get("chat_id", "")), str(refused.text)))
        return refused

    def texts_by_chat(self) -> dict[str, list[str]]:
        """Every message the bot got through, per chat, in order."""
        found: dict[str, list[str]] = defaultdict(list)
        with self._lock:
            for call in self.sent:
                if call.method.lower() in self.send_methods:
                    found[call.chat_id].append(call.text)
        return found


# -- instances ------------------------------------------------------------------------------------


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Instance:
    """One `daumoi run --platform telegram` process serving its webhook on its own port."""

    name: str
    port: int
    log_path: Path
    process: subprocess.Popen[bytes] | None = None
    _log: IO[bytes] | None = None

    @property
    def url(self) -> str:
        """Where the load balancer posts updates for this instance."""
        return f"http://127.0.0.1:{self.port}{WEBHOOK_PATH}"

    @property
    def pid(self) -> int:
        """The process id (lease owners name it)."""
        assert self.process is not None
        return self.process.pid

    def start(self, env: Mapping[str, str], cwd: Path) -> None:
        """Start the process, its output going to log_path."""
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            [str(DAUMOI), "run", "--platform", "telegram"],
            env={**env, "DAUMOI_WEBHOOK_LISTEN": f"127.0.0.1:{self.port}"},
            cwd=cwd,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def kill_9(self) -> None:
        """SIGKILL: no shutdown code runs, leases and connections are left as they are."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it does not end within 15 s (cleanup; never raises)."""
        process = self.process
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)
        if self._log is not None:
            self._log.close()
            self._log = None

    def tail(self, lines: int = 40) -> str:
        """The end of the instance's log (for failure messages)."""
        if not self.log_path.exists():
            return ""
        text = self.log_path.read_text(encoding="utf-8", errors="replace")
        return f"--- {self.name} (pid {self.process.pid if self.process else '?'}) ---\n" + (
            "\n".join(text.splitlines()[-lines:])
        )

    def wait_listening(self, timeout: float) -> None:
        """Block until the webhook port accepts connections (the bridge is up by then)."""
        deadline = time.monotonic() + timeout
        while True:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited early\n{self.tail()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{self.name} not listening\n{self.tail()}") from None
                time.sleep(0.1)


def instance_env(database_url: str, fake: FakeTelegram) -> dict[str, str]:
    """What both instances share: one database, one token, one public webhook URL, one secret."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("DAUMOI_")}
    env.update(
        {
            "DAUMOI_DATABASE_URL": database_url,
            "DAUMOI_PLATFORMS": "telegram",
            "DAUMOI_TELEGRAM_TOKEN": fake.token,
            "DAUMOI_TELEGRAM_API_URL": fake.base_url,
            "DAUMOI_TELEGRAM_TIMEOUT": "20",
            # Telegram's own rates (30/s, 20/min per group): the instances share them through
            # PostgreSQL (bot/shared_pacing.py); two that did not would send up to 60/s.
            "DAUMOI_WEBHOOK_URL": WEBHOOK_URL,
            "DAUMOI_WEBHOOK_SECRET": SECRET,
            "DAUMOI_REMINDER_TICK_SECONDS": "1",
            "DAUMOI_REMINDER_LEASE_SECONDS": "5",
            "DAUMOI_REMINDER_LEASE_MARGIN": "1",
            # One request slot: a send is recorded before the next starts, so the send-then-crash
            # window (one HTTP response plus one UPDATE, scheduler/delivery.py) holds one message.
            "DAUMOI_REMINDER_CONCURRENCY": "1",
            "DAUMOI_DATA_REFRESH_SECONDS": "1",
            "DAUMOI_LEADER_CHECK_SECONDS": "1",
            "DAUMOI_LOG_LEVEL": "INFO",
        }
    )
    return env


# -- updates and the load balancer ----------------------------------------------------------------

_update_ids = itertools.count(50_000)
_message_ids = itertools.count(1)


def private_user(user_id: int) -> dict[str, Any]:
    """A person whose private chat id is their user id."""
    return ft.user(user_id, first_name=f"Người {user_id}", last_name="Thử", username=f"u{user_id}")


def update_for(chat: Mapping[str, Any], sender: Mapping[str, Any], text: str) -> dict[str, Any]:
    """A message update as Telegram sends it to a webhook (bot_command entity included)."""
    message: dict[str, Any] = {
        "message_id": next(_message_ids),
        "date": int(time.time()),
        "chat": dict(chat),
        "from": dict(sender),
        "text": text,
    }
    if text.startswith("/"):
        length = len(text.split(maxsplit=1)[0])
        message["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
    return {"update_id": next(_update_ids), "message": message}


@dataclass
class Posted:
    """One update the load balancer delivered, and what each attempt got back."""

    update_id: int
    chat_id: str
    expect: tuple[str, ...]  # the answer to this update contains one of these
    first: str  # the instance it was sent to first
    posted_at: float
    attempts: list[tuple[str, int]] = field(default_factory=list)  # (instance, HTTP status or 0)
    acked_at: float | None = None

    @property
    def acked(self) -> bool:
        """Whether an instance answered 200."""
        return any(status == 200 for _name, status in self.attempts)

    @property
    def acked_by(self) -> str | None:
        """The instance that answered 200."""
        return next((name for name, status in self.attempts if status == 200), None)


class LoadBalancer:
    """Posts updates to the instances' webhooks; a failed delivery goes once to the other one."""

    def __init__(self, instances: Mapping[str, Instance]) -> None:
        self.instances = dict(instances)
        self.posted: list[Posted] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._session: ClientSession | None = None

    async def __aenter__(self) -> LoadBalancer:
        self._session = ClientSession(timeout=ClientTimeout(total=30))
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.settle()
        assert self._session is not None
        await self._session.close()

    def offer(self, update: dict[str, Any], target: str, expect: tuple[str, ...]) -> Posted:
        """Start delivering update to target in the background; return its record."""
        chat_id = str(update["message"]["chat"]["id"])
        record = Posted(update["update_id"], chat_id, expect, target, time.monotonic())
        self.posted.append(record)
        task = asyncio.create_task(self._deliver(update, record))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return record

    async def settle(self) -> None:
        """Wait until every delivery in flight has its outcome."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def _deliver(self, update: dict[str, Any], record: Posted) -> None:
        others = [name for name in self.instances if name != record.first]
        for name in [record.first, *others[:1]]:  # as Telegram would, one redelivery
            status = await self._post(self.instances[name], update)
            record.attempts.append((name, status))
            if status == 200:
                record.acked_at = time.monotonic()
                return

    async def _post(self, instance: Instance, update: dict[str, Any]) -> int:
        assert self._session is not None
        try:
            async with self._session.post(
                instance.url, json=update, headers={SECRET_HEADER: SECRET}
            ) as response:
                await response.read()
                return response.status
        except (ClientError, TimeoutError, OSError):
            return 0


async def offer_at_rate(
    balancer: LoadBalancer,
    traffic: Iterable[tuple[dict[str, Any], str, tuple[str, ...]]],
    per_second: float,
) -> list[Posted]:
    """Offer (update, target, expected texts) at a steady rate, not waiting for answers."""
    began = time.monotonic()
    offered = []
    for index, (update, target, expect) in enumerate(traffic):
        delay = began + index / per_second - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        offered.append(balancer.offer(update, target, expect))
    return offered


# -- answers --------------------------------------------------------------------------------------


@dataclass
class AnswerCheck:
    """How the bot's messages line up with the updates: each should have exactly one answer."""

    unanswered: list[Posted]
    extra: dict[str, list[str]]  # chat id -> messages that answer no update

    @property
    def ok(self) -> bool:
        """Every update answered once, nothing else said."""
        return not self.unanswered and not any(self.extra.values())

    def summary(self) -> str:
        """A short account for an assertion message."""
        lines = [f"{len(self.unanswered)} unanswered, {sum(map(len, self.extra.values()))} extra"]
        lines += [
            f"  unanswered {p.update_id} chat {p.chat_id} {p.expect!r} attempts {p.attempts}"
            for p in self.unanswered[:10]
        ]
        lines += [
            f"  extra to {chat}: {[text[:60] for text in texts]}"
            for chat, texts in [item for item in self.extra.items() if item[1]][:10]
        ]
        return "\n".join(lines)


def check_answers(posted: Iterable[Posted], texts: Mapping[str, list[str]]) -> AnswerCheck:
    """Pair each update with its own message to its chat (one containing what it expects)."""
    by_chat: dict[str, list[Posted]] = defaultdict(list)
    for record in posted:
        by_chat[record.chat_id].append(record)
    unanswered: list[Posted] = []
    extra: dict[str, list[str]] = {}
    for chat_id, records in by_chat.items():
        said = list(texts.get(chat_id, []))
        pairs = _pairs(records, said)
        unanswered += [record for index, record in enumerate(records) if index not in pairs]
        used = set(pairs.values())
        extra[chat_id] = [text for index, text in enumerate(said) if index not in used]
    return AnswerCheck(unanswered, extra)


def _pairs(records: list[Posted], said: list[str]) -> dict[int, int]:
    """A largest pairing of updates with messages that answer them (augmenting paths)."""
    fits = [
        [index for index, text in enumerate(said) if any(e in text for e in record.expect)]
        for record in records
    ]
    owner: dict[int, int] = {}  # message index -> update index

    def place(update: int, seen: set[int]) -> bool:
        for message in fits[update]:
            if message not in seen:
                seen.add(message)
                if message not in owner or place(owner[message], seen):
                    owner[message] = update
                    return True
        return False

    for update in range(len(records)):
        place(update, set())
    return {update: message for message, update in owner.items()}


async def wait_for_answers(
    balancer: LoadBalancer, fake: CountingTelegram, limit: float, quiet: float = 5.0
) -> bool:
    """Wait until every posted update has its answer, or nothing was sent for quiet seconds
    (an answer was dropped: the assertions report it), or limit seconds passed."""
    began = last_change = time.monotonic()
    last_count = -1
    while True:
        texts = await asyncio.to_thread(fake.texts_by_chat)
        if all_answered(balancer.posted, texts):
            return True
        count = sum(map(len, texts.values()))
        now = time.monotonic()
        if count != last_count:
            last_count, last_change = count, now
        if now - last_change > quiet or now - began > limit:
            return False
        await asyncio.sleep(0.2)


def all_answered(posted: Iterable[Posted], texts: Mapping[str, list[str]]) -> bool:
    """Whether every chat got at least as many messages as updates were posted to it."""
    wanted = Counter(record.chat_id for record in posted)
    return all(len(texts.get(chat, [])) >= count for chat, count in wanted.items())


# -- the import, reminders and the outbox ---------------------------------------------------------

NEW_DECISION = "9998/QĐ-UBND"
NEW_WORDS = "cáp treo Thiên Ấn"  # in no task of the seed decision
NEW_QUERY = "cap treo thien an"


def decision_variant(directory: Path) -> Path:
    """The seed decision under another number, one task mentioning NEW_WORDS."""
    text = SEED_FILE.read_text(encoding="utf-8").replace("1731/QĐ-UBND", NEW_DECISION)
    text = text.replace("sân bay Chu Lai", f"sân bay Chu Lai và {NEW_WORDS}", 1)
    path = directory / "qd_9998_2026.txt"
    path.write_text(text, encoding="utf-8")
    return path


def enqueue_reminders(url: str, chats: list[str]) -> None:
    """One reminder due now for each chat, as the ticker would have materialised them."""
    database = Database.connect(url, migrate=False)
    try:
        now = datetime.now(UTC)
        with database.unit_of_work() as session:
            rule = plain_rule(session, now)
            outbox.insert(session, rows_for_chats(rule.id, chats, 1, now), now)
    finally:
        database.engine.dispose()


@dataclass(frozen=True)
class OutboxRow:
    """What the database says about one reminder."""

    chat_id: str
    status: str
    lease_owner: str | None


class OutboxReader:
    """Reads the reminder outbox of the shared database from the test process."""

    def __init__(self, url: str) -> None:
        self.database = Database.connect(url, migrate=False)
        self._lock = threading.Lock()

    def rows(self, chats: Iterable[str]) -> dict[str, OutboxRow]:
        """The outbox rows of these chats, by chat id."""
        wanted = list(chats)
        with self._lock, self.database.session() as session:
            found = session.scalars(
                select(ReminderOutbox).where(ReminderOutbox.chat_id.in_(wanted))
            )
            return {
                row.chat_id: OutboxRow(row.chat_id, row.status, row.lease_owner) for row in found
            }

    def leases_by_pid(self, chats: Iterable[str]) -> Counter[int]:
        """Pending rows leased right now, per owning process id (owners are host:pid:…)."""
        held: Counter[int] = Counter()
        for row in self.rows(chats).values():
            if row.status == OutboxStatus.PENDING.value and row.lease_owner:
                held[int(row.lease_owner.split(":")[1])] += 1
        return held

    def sent(self, chats: Iterable[str]) -> set[str]:
        """Chats whose reminder the database records as sent."""
        return {c for c, row in self.rows(chats).items() if row.status == OutboxStatus.SENT.value}

    def close(self) -> None:
        """Release the connections."""
        self.database.engine.dispose()


async def wait_until(condition: Any, timeout: float, what: str, step: float = 0.1) -> float:
    """Await a (blocking, quick) condition; seconds it took, or TimeoutError naming what."""
    began = time.monotonic()
    while not await asyncio.to_thread(condition):
        if time.monotonic() - began > timeout:
            raise TimeoutError(f"{what}: not within {timeout:.0f} s")
        await asyncio.sleep(step)
    return time.monotonic() - began
