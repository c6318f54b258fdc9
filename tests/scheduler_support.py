"""Helpers for the scheduler tests: a settable clock, a scripted chat client, database fixtures."""

from __future__ import annotations

import asyncio
import itertools
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.chat_client import BadRequest
from core.limits import limits_for
from core.model import Attachment, Choice
from data.store.models import (
    Agency,
    ChatRecord,
    Person,
    PersonIdentity,
    ReminderKind,
    ReminderRule,
    StatusUpdate,
    Task,
)
from data.store.succession import current_agency
from scheduler.outbox import NewRow
from tests.telegram_html import shown

VN = ZoneInfo("Asia/Ho_Chi_Minh")


def vn(year: int, month: int, day: int, hour: int = 8, minute: int = 30) -> datetime:
    """An aware Vietnam-time datetime."""
    return datetime(year, month, day, hour, minute, tzinfo=VN)


@dataclass
class FakeClock:
    """A clock tests move by hand."""

    now: datetime = field(default_factory=lambda: datetime(2026, 11, 26, 1, 0, tzinfo=UTC))

    def __call__(self) -> datetime:
        return self.now

    def set(self, moment: datetime) -> None:
        """Jump to moment."""
        self.now = moment.astimezone(UTC)

    def advance(self, **delta: float) -> None:
        """Move forward."""
        self.now += timedelta(**delta)


@dataclass(frozen=True)
class Sent:
    """One message the fake client accepted."""

    platform: str
    chat_id: str
    text: str
    at: datetime
    message_id: str
    thread_id: str | None = None  # the forum topic it was posted in


class ScriptedClient:
    """A ChatClient that records texts and raises scripted core errors for chosen chats."""

    def __init__(
        self,
        platform: str = "telegram",
        *,
        clock: Callable[[], datetime] | None = None,
        max_text_len: int = 4096,
        delay: float = 0.0,
        log: list[Sent] | None = None,
    ) -> None:
        self.platform = platform
        self.limits = replace(limits_for(platform), max_text_len=max_text_len)
        self.clock = clock or (lambda: datetime.now(UTC))
        self.delay = delay
        self.sent: list[Sent] = log if log is not None else []
        self.attempts: list[tuple[str, str]] = []
        self.errors: dict[str, list[Exception]] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def fail(self, chat_id: str, *errors: Exception) -> None:
        """Make the next sends to chat_id raise these errors, in order."""
        self.errors.setdefault(chat_id, []).extend(errors)

    async def send_text(
        self,
        chat_id: str,
        text: str,
        choices: Sequence[Choice] = (),
        *,
        thread_id: str | None = None,
    ) -> str:
        """Record the message or raise the next scripted error."""
        if self.delay:
            await asyncio.sleep(self.delay)
        with self._lock:
            self.attempts.append((chat_id, text))
            queued = self.errors.get(chat_id)
            if queued:
                raise queued.pop(0)
            message_id = f"m{next(self._ids)}"
            seen = shown(text, self.limits)  # what the user sees (Telegram parses the HTML)
            self.sent.append(
                Sent(self.platform, chat_id, seen, self.clock(), message_id, thread_id)
            )
        return message_id

    async def send_file(
        self,
        chat_id: str,
        file: Attachment,
        caption: str = "",
        choices: Sequence[Choice] = (),
        *,
        thread_id: str | None = None,
    ) -> str:
        """Reminders send no files."""
        raise BadRequest("files are not scripted")

    async def edit(
        self, chat_id: str, message_id: str, text: str, choices: Sequence[Choice] = ()
    ) -> None:
        """Reminders edit nothing."""
        raise BadRequest("edits are not scripted")

    async def answer_callback(
        self, callback_id: str, text: str = "", *, alert: bool = False
    ) -> None:
        """Nothing to acknowledge."""

    async def chat_action(
        self, chat_id: str, action: str = "typing", *, thread_id: str | None = None
    ) -> None:
        """Nothing to show."""

    async def is_chat_admin(self, chat_id: str, user_id: str) -> bool | None:
        """Unknown."""
        return None

    def texts(self, chat_id: str) -> list[str]:
        """Texts delivered to one chat."""
        return [s.text for s in self.sent if s.chat_id == chat_id]


# -- database helpers ---------------------------------------------------------------------------


def agency(session: Session, name: str) -> Agency:
    """The agency with exactly this (2021 or current) name."""
    return session.scalars(select(Agency).where(Agency.name == name)).one()


def link_chat(
    session: Session,
    agency_name: str,
    chat_id: str,
    *,
    platform: str = "telegram",
    title: str | None = None,
    thread_id: str | None = None,
) -> ChatRecord:
    """A group chat linked (from a forum topic, if thread_id) to the agency of today."""
    today = current_agency(agency(session, agency_name))
    record = ChatRecord(
        platform=platform,
        chat_id=chat_id,
        kind="group",
        title=title or f"Nhóm {today.name}",
        active=True,
        agency_id=today.id,
        linked_at=datetime(2026, 1, 1, tzinfo=UTC),
        thread_id=thread_id,
    )
    session.add(record)
    session.flush()
    return record


def add_person(
    session: Session,
    role: str,
    user_id: str,
    *,
    agency_name: str | None = None,
    platform: str = "telegram",
    private_chat: bool = True,
) -> Person:
    """A person with one platform identity (private chat id = user id, as on Telegram)."""
    person = Person(
        display_name=f"Người {user_id}",
        role=role,
        agency_id=agency(session, agency_name).id if agency_name else None,
        active=True,
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
    )
    person.identities.append(
        PersonIdentity(
            platform=platform,
            user_id=user_id,
            private_chat_id=user_id if private_chat else None,
        )
    )
    session.add(person)
    session.flush()
    return person


def report(
    session: Session, agency_name: str, codes: list[str], year: int, *, status: str = "in_progress"
) -> None:
    """Active status updates by an agency (as named) on tasks, for a year."""
    reporter = agency(session, agency_name)
    author = session.scalars(select(Person).order_by(Person.id)).first()
    if author is None:
        author = add_person(session, "focal", f"author-{reporter.id}", agency_name=agency_name)
    for code in codes:
        task = session.scalars(select(Task).where(Task.code == code)).one()
        session.add(
            StatusUpdate(
                task_id=task.id,
                agency_id=reporter.id,
                year=year,
                author_id=author.id,
                status=status,
                progress=50,
                state="active",
                created_at=datetime(year, 6, 1, tzinfo=UTC),
            )
        )
    session.flush()


def plain_rule(session: Session, now: datetime) -> ReminderRule:
    """A one-off rule to hang hand-made outbox rows on."""
    rule = ReminderRule(
        kind=ReminderKind.ONCE.value,
        text="kiểm thử",
        params={},
        created_by="test",
        created_at=now,
        updated_at=now,
        fire_at=now,
    )
    session.add(rule)
    session.flush()
    return rule


def rows_for_chats(
    rule_id: int, chats: list[str], per_chat: int, due: datetime, *, platform: str = "telegram"
) -> list[NewRow]:
    """per_chat rows for each chat, with distinct due times and recognisable texts."""
    return [
        NewRow(
            rule_id=rule_id,
            platform=platform,
            chat_id=chat,
            due=due - timedelta(seconds=index),
            kind="once",
            text=f"Nhắc việc số {index + 1} cho nhóm {chat} [{chat}#{index}]",
        )
        for chat in chats
        for index in range(per_chat)
    ]


def day_of(moment: datetime) -> date:
    """The Vietnam-time date of moment."""
    return moment.astimezone(VN).date()
