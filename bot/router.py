"""Route each incoming message to its handler inside one unit of work."""

from __future__ import annotations

import logging
import re
import secrets
import threading
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager, nullcontext
from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from bot import choices, commands
from core.limits import LIMITS, PlatformLimits, limits_for
from core.model import ChatEvent, ChatKind, Incoming, Notice, Reply, parse_command
from core.settings import Settings
from core.textnorm import fold
from data.store import processed
from data.store.catalog import Catalog, CatalogCache
from data.store.db import Database
from handlers import flows, groups, imports, lookup
from handlers.context import Context

if TYPE_CHECKING:
    from data.search.engine import SearchEngine

log = logging.getLogger(__name__)

APOLOGY_TEMPLATE = (
    "Xin lỗi, tôi gặp sự cố khi xử lý yêu cầu này (mã sự cố: {incident}). Anh/chị vui lòng "
    "thử lại sau ít phút, hoặc gõ /trogiup để xem cách dùng."
)
_APOLOGY_RE = re.compile(re.escape(APOLOGY_TEMPLATE).replace(r"\{incident\}", "([0-9a-f]{6})"))
_NUMBER_RE = re.compile(r"(\d{1,3})\s*[.)]?")
_MENTION_RE = re.compile(r"^(?:@\w+[\s,:]*)+")
_MAX_SHOWN_NAME = 30


def _utc_now() -> datetime:
    return datetime.now(UTC)


class Router:
    """The core's MessageHandler: command table, pending choices, search fallback."""

    def __init__(
        self,
        database: Database,
        search: SearchEngine,
        settings: Settings,
        limits: Mapping[str, PlatformLimits] = LIMITS,
        now: Callable[[], datetime] = _utc_now,
        catalog: CatalogCache | None = None,
    ) -> None:
        self.database = database
        self.search = search  # replaced by App.rebuild_search after an import
        # Reloads itself after this process commits a change to the programme tables.
        self.catalog = catalog if catalog is not None else CatalogCache(database)
        # SQLite lets one unit of work write at a time (each claims its update first) and makes
        # the others poll with sleeps of 1 ms and more; waiting on a lock here is much faster.
        sqlite = database.engine.dialect.name == "sqlite"
        self._one_writer: AbstractContextManager[object] = (
            threading.Lock() if sqlite else nullcontext()
        )
        self.settings = settings
        self.limits = limits
        self.now = now

    def capabilities(self, platform: str) -> PlatformLimits:
        """What the platform can render (console-like when unknown)."""
        return self.limits.get(platform) or limits_for(platform)

    def handle(self, incoming: Incoming) -> list[Reply]:
        """Answer one message or button press; never raises."""
        if _is_group_chatter(incoming):
            return []  # the common case in busy groups: no unit of work at all
        try:
            catalog = self.catalog.get()
            with self._one_writer, self.database.unit_of_work() as session:
                ctx = self._context(session, incoming.platform, catalog)
                if incoming.update_id and not processed.claim(
                    session, incoming.platform, incoming.update_id, ctx.now()
                ):
                    return _duplicate(incoming)
                replies = self._dispatch(ctx, incoming, depth=0)
                return self._with_tokens(ctx, incoming, replies)
        except Exception:
            return _incident(incoming)

    def handle_event(self, event: ChatEvent) -> list[Reply]:
        """Record a chat event (bot added or removed, group migrated); never raises."""
        try:
            catalog = self.catalog.get()
            with self._one_writer, self.database.unit_of_work() as session:
                return groups.on_chat_event(self._context(session, event.platform, catalog), event)
        except Exception:
            log.exception("failed to handle %s event on chat %s", event.kind, event.chat.id)
            return []

    def _context(self, session: Session, platform: str, catalog: Catalog) -> Context:
        return Context(
            session=session,
            search=self.search,
            settings=self.settings,
            capabilities=self.capabilities(platform),
            now=self.now,
            catalog=catalog,
        )

    def _dispatch(self, ctx: Context, incoming: Incoming, depth: int) -> list[Reply]:
        if incoming.choice_token:
            found = choices.by_token(
                ctx.session, incoming.choice_token, user_id=incoming.user.id, now=ctx.now()
            )
            # The pressed message still shows the button (the platform names it): the answer
            # replaces that message; otherwise it comes below and the message stays as it is.
            on_message = incoming.choice_label is not None
            if found.status is not choices.Status.OK:
                return _press_problem(found, remove_keyboard=on_message)
            replies = self._follow(ctx, incoming, found, depth)
            if not on_message:
                return replies
            return _pressed(replies, incoming.chat.id, _shown_choice(incoming, found.action))
        if incoming.edited and depth == 0:
            return self._edited(ctx, incoming)
        in_group = incoming.chat.kind is ChatKind.GROUP
        parsed = (
            (incoming.command, incoming.args.strip())
            if incoming.command
            else parse_command(incoming.text)
        )
        if parsed is not None:
            name, args = fold(parsed[0]), parsed[1]
            command = commands.find(name)
            if command is None:
                return [] if in_group and not incoming.addressed else [_unknown_command(name)]
            if in_group and not command.in_groups:
                return [Reply(f"Lệnh /{command.name} chỉ dùng trong chat riêng với bot.")]
            return command.handler(ctx, replace(incoming, command=command.name, args=args))
        if incoming.document is not None and imports.takes(ctx, incoming):
            return imports.receive(ctx, incoming)  # a decision file (or link) to preview
        text = incoming.text.strip()
        if in_group:
            text = _MENTION_RE.sub("", text).strip()
        if not text:
            return [Reply("Anh/chị gõ từ khóa cần tìm, hoặc /trogiup để xem các lệnh.")]
        number = _NUMBER_RE.fullmatch(text)
        if depth > 0:
            return self._plain(ctx, incoming, text, number, depth)
        continued = flows.continue_flow(
            ctx, replace(incoming, text=text), commands.FLOWS, number=number is not None
        )
        if continued.replies is not None:
            return continued.replies
        replies = self._plain(ctx, incoming, text, number, depth)
        if continued.pending is not None:
            return _with_reminder(replies, flows.reminder(continued.pending), incoming.chat.id)
        return replies

    def _edited(self, ctx: Context, incoming: Incoming) -> list[Reply]:
        """An edited message: a lookup is answered again; anything that writes (an update, a
        flow's answer, a picked number, a registration) is not done a second time."""
        parsed = (
            (incoming.command, incoming.args) if incoming.command else parse_command(incoming.text)
        )
        if parsed is not None:
            command = commands.find(fold(parsed[0]))
            if command is not None and command.name in SAFE_WHEN_EDITED:
                return self._dispatch(ctx, replace(incoming, edited=False), depth=0)
            if command is None or incoming.chat.kind is ChatKind.GROUP:
                return []
            return [Reply(EDIT_NOT_APPLIED.format(command=command.name))]
        text = incoming.text.strip()
        if incoming.chat.kind is ChatKind.GROUP:
            text = _MENTION_RE.sub("", text).strip()
        typed_name = commands.find(fold(text).replace(" ", ""))
        if (
            not text
            or incoming.file_ref is not None
            or _NUMBER_RE.fullmatch(text) is not None
            or (typed_name is not None and typed_name.name not in SAFE_WHEN_EDITED)
            or flows.current(ctx.session, flows.Key.of(incoming), ctx.now()) is not None
        ):
            return []
        return self._plain(ctx, replace(incoming, edited=False), text, None, depth=1)

    def _plain(
        self,
        ctx: Context,
        incoming: Incoming,
        text: str,
        number: re.Match[str] | None,
        depth: int,
    ) -> list[Reply]:
        """Text that is no command and no flow's answer: a command name, a number, a search."""
        in_group = incoming.chat.kind is ChatKind.GROUP
        typed_name = commands.find(fold(text).replace(" ", ""))
        if typed_name is not None and not in_group:
            # "tro giup" or "help" typed without the slash means the command, not a search.
            return typed_name.handler(ctx, replace(incoming, command=typed_name.name, args=""))
        if number is not None and depth == 0:
            found = choices.by_number(
                ctx.session,
                platform=incoming.platform,
                chat_id=incoming.chat.id,
                user_id=incoming.user.id,
                number=int(number.group(1)),
                now=ctx.now(),
            )
            if found.status is not choices.Status.UNKNOWN:
                return self._follow(ctx, incoming, found, depth)
            return [_no_pending_list(int(number.group(1)))]
        return lookup.search(ctx, replace(incoming, command="tim", args=text))

    def _follow(
        self, ctx: Context, incoming: Incoming, found: choices.Lookup, depth: int
    ) -> list[Reply]:
        if found.status is choices.Status.OK and depth == 0:
            typed = replace(
                incoming,
                text=found.action,
                command=None,
                args="",
                choice_token=None,
                addressed=True,
            )
            return self._dispatch(ctx, typed, depth + 1)
        return [Reply(_CHOICE_PROBLEMS.get(found.status, _STALE).format(count=found.count))]

    def _with_tokens(self, ctx: Context, incoming: Incoming, replies: list[Reply]) -> list[Reply]:
        out = []
        for reply in replies:
            if reply.choices:
                tokens = choices.store(
                    ctx.session,
                    platform=incoming.platform,
                    chat_id=reply.chat_id or incoming.chat.id,
                    user_id=incoming.user.id,
                    actions=[choice.action for choice in reply.choices],
                    now=ctx.now(),
                )
                reply = replace(
                    reply,
                    choices=tuple(
                        replace(c, token=token)
                        for c, token in zip(reply.choices, tokens, strict=True)
                    ),
                )
            out.append(reply)
        return out


# Commands that only read: an edited message holding one is answered again.
SAFE_WHEN_EDITED = frozenset(
    {"trogiup", "tim", "nhiemvu", "donvi", "linhvuc", "toi", "cuatoi", "lichsu", "nhacviec"}
)
EDIT_NOT_APPLIED = (
    "Tin nhắn đã sửa không được thực hiện lại, nên lệnh /{command} trước đó vẫn giữ nguyên. "
    "Nếu cần thay đổi, anh/chị vui lòng gửi lệnh mới."
)
CHOSEN = "✓ Đã chọn: "
_STALE = "Lựa chọn này không còn hiệu lực. Anh/chị vui lòng tìm lại, ví dụ: /tim san bay chu lai"
_CHOICE_PROBLEMS = {
    choices.Status.OTHER_USER: (
        "Lựa chọn này dành cho người đã hỏi. Anh/chị có thể tự gõ lệnh, ví dụ: /nhiemvu 2.4"
    ),
    choices.Status.EXPIRED: (
        "Danh sách lựa chọn này đã hết hạn (sau 30 phút). Anh/chị vui lòng tìm lại nhé."
    ),
    choices.Status.OUT_OF_RANGE: "Anh/chị vui lòng chọn một số từ 1 đến {count}.",
    choices.Status.UNKNOWN: _STALE,
}


def _press_problem(found: choices.Lookup, *, remove_keyboard: bool) -> list[Reply]:
    """A press that picks nothing: said over the chat, not in it; dead buttons are removed
    (a foreign press leaves them to the person who asked)."""
    text = _CHOICE_PROBLEMS.get(found.status, _STALE).format(count=found.count)
    notice = Reply(text, notice=Notice.ALERT)
    if found.status is choices.Status.OTHER_USER or not remove_keyboard:
        return [notice]
    return [notice, Reply("", edit=True)]


def _pressed(replies: list[Reply], chat_id: str, shown: str | None) -> list[Reply]:
    """The answer to a press replaces the pressed message (its keyboard goes with it), with
    the choice made on top when shown; an answer that cannot replace it (a file, a message
    elsewhere) follows the message without its keyboard."""
    if replies:
        first = replies[0]
        if first.notice is None and first.file is None and first.chat_id in (None, chat_id):
            text = f"{CHOSEN}{shown}\n\n{first.text}" if shown else first.text
            return [replace(first, text=text, edit=True), *replies[1:]]
    return [Reply("", edit=True), *replies]


def _shown_choice(incoming: Incoming, action: str) -> str | None:
    """The pressed label when the press answers a guided step (the next question does not
    repeat it); a lookup's answer shows what was picked by itself."""
    parsed = parse_command(action)
    if incoming.choice_label is None or parsed is None or flows.parse_answer(parsed.args) is None:
        return None
    return incoming.choice_label


def _with_reminder(replies: list[Reply], line: str, chat_id: str) -> list[Reply]:
    """The answer with the pending flow's reminder as its last line: one message, not two.

    A list or a file keeps the reminder apart, so that it still comes after the options.
    """
    if replies:
        last = replies[-1]
        if not last.choices and last.file is None and last.chat_id in (None, chat_id):
            return [*replies[:-1], replace(last, text=f"{last.text}\n\n{line}")]
    return [*replies, Reply(line)]


def _is_group_chatter(incoming: Incoming) -> bool:
    """A group message not meant for the bot: neither addressed, a command nor a button."""
    if incoming.chat.kind is not ChatKind.GROUP or incoming.addressed:
        return False
    return (
        incoming.choice_token is None
        and parse_command(incoming.text) is None
        and not incoming.command
    )


def apology_incident(text: str) -> str | None:
    """The incident id when text is the router's apology for an internal error, else None."""
    match = _APOLOGY_RE.fullmatch(text)
    return match.group(1) if match else None


def new_incident_id() -> str:
    """A short random id that ties an apology to its log record."""
    return secrets.token_hex(3)


def _incident(incoming: Incoming) -> list[Reply]:
    """Log the failure being handled under a new incident id; apologise in private chats only."""
    incident = new_incident_id()
    log.exception(
        "incident %s: failed to handle %s message %r in %s chat %s",
        incident,
        incoming.platform,
        incoming.message_id,
        incoming.chat.kind.value,
        incoming.chat.id,
    )
    if incoming.chat.kind is ChatKind.GROUP:
        return []  # groups never see error messages
    return [Reply(APOLOGY_TEMPLATE.format(incident=incident))]


def _duplicate(incoming: Incoming) -> list[Reply]:
    """A redelivered update: applied once already, so only say so (never in groups)."""
    log.info(
        "%s update %s delivered again; not applied twice", incoming.platform, incoming.update_id
    )
    if incoming.chat.kind is ChatKind.GROUP:
        return []
    return [Reply("Tin nhắn này đã được xử lý trước đó (nhận trùng lặp), nên không thực hiện lại.")]


def _no_pending_list(number: int) -> Reply:
    return Reply(
        f"Số {number} không ứng với danh sách lựa chọn nào. Anh/chị có thể gõ /linhvuc {number} "
        f"để xem một lĩnh vực, /nhiemvu {number}.1 để xem một nhiệm vụ, "
        "hoặc /tim <từ khóa> để tìm kiếm."
    )


def _unknown_command(name: str) -> Reply:
    from rapidfuzz import fuzz, process

    shown = name[:_MAX_SHOWN_NAME] + ("…" if len(name) > _MAX_SHOWN_NAME else "")
    close: list[str] = []
    for candidate, _score, _index in process.extract(
        name, list(commands.all_names()), scorer=fuzz.ratio, limit=6, score_cutoff=55
    ):
        command = commands.find(candidate)
        if command is not None and f"/{command.name}" not in close:
            close.append(f"/{command.name}")
    text = f"Không có lệnh /{shown}."
    if close:
        text += " Có phải anh/chị muốn: " + ", ".join(close[:3]) + "?"
    text += "\nGõ /trogiup để xem tất cả các lệnh, hoặc /tim <từ khóa> để tìm kiếm."
    return Reply(text)
