"""Talk to the bot in a terminal (or through a pipe): one line in, the replies out."""

from __future__ import annotations

import asyncio
import itertools
import sys
import threading
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager, suppress
from typing import TextIO

from bot.bridge import AdapterOptions, ChatBridge, Connection
from bot.platforms.startup import PlatformUnreachable
from core.limits import CONSOLE
from core.model import Attachment, Chat, ChatKind, Choice, Incoming, User
from core.ports import MessageHandler
from core.render import file_summary, render
from core.settings import Settings
from core.textnorm import fold

PLATFORM = "console"
TITLE = "console"
TOKEN_VARIABLE = ""
LIMITS = CONSOLE
RETRY_ON = (PlatformUnreachable,)
PROMPT = "Anh/chị: "
BANNER = (
    "daumoi — trợ lý tra cứu Quyết định 1731/QĐ-UBND. Gõ /trogiup để xem lệnh, /thoat để thoát."
)
GOODBYE = "Tạm biệt!"
EXIT_COMMANDS = frozenset({"/thoat", "/exit", "/quit"})


def _is_tty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def run_console(
    router: MessageHandler, stdin: TextIO, stdout: TextIO, user: str = "console-user"
) -> int:
    """Read lines until EOF, /thoat or Ctrl-C, printing each reply; return the exit status (0)."""
    interactive = _is_tty(stdin)
    if interactive:
        stdout.write(BANNER + "\n")
    try:
        try:
            _loop(router, stdin, stdout, user, interactive)
        except KeyboardInterrupt:
            stdout.write("\n")
        if interactive:
            stdout.write(GOODBYE + "\n")
        stdout.flush()
    except BrokenPipeError:
        pass  # the reader (e.g. `| head`) went away: nothing left to say
    return 0


def _loop(router: MessageHandler, stdin: TextIO, stdout: TextIO, user: str, prompt: bool) -> None:
    chat = Chat(id=f"console:{user}", kind=ChatKind.PRIVATE)
    sender = User(id=user, display_name=user)
    count = 0
    while True:
        if prompt:
            stdout.write(PROMPT)
            stdout.flush()
        line = stdin.readline()
        if not line:
            if prompt:
                stdout.write("\n")
            return
        text = line.rstrip("\r\n")
        if fold(text.strip()) in EXIT_COMMANDS:
            return
        if not text.strip():
            continue
        count += 1
        incoming = Incoming(
            platform=PLATFORM, chat=chat, user=sender, text=text, message_id=str(count)
        )
        for reply in router.handle(incoming):
            if reply.chat_id and reply.chat_id != chat.id:
                continue  # meant for someone else's chat (e.g. a notice to an author)
            for part in render(reply, CONSOLE):
                stdout.write(part.text + "\n\n")
        stdout.flush()


class ConsoleClient:
    """The ChatClient of the console: prints what would be sent (reminders, notices)."""

    platform = PLATFORM
    limits = CONSOLE

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream
        self._ids = itertools.count(1)

    async def send_text(
        self,
        chat_id: str,
        text: str,
        choices: Sequence[Choice] = (),
        *,
        thread_id: str | None = None,  # no topics here
    ) -> str:
        """Write the text with a header naming the chat."""
        stream = self._stream or sys.stdout
        stream.write(f"\n[Nhắc việc → {chat_id}]\n{text}\n")
        stream.flush()
        return f"{PLATFORM}-{next(self._ids)}"

    async def send_file(
        self,
        chat_id: str,
        file: Attachment,
        caption: str = "",
        choices: Sequence[Choice] = (),
        *,
        thread_id: str | None = None,  # no topics here
    ) -> str:
        """Write the caption and a line naming the file."""
        return await self.send_text(chat_id, f"{caption}\n{file_summary(file)}".strip())

    async def edit(
        self, chat_id: str, message_id: str, text: str, choices: Sequence[Choice] = ()
    ) -> None:
        """Write the new text."""
        await self.send_text(chat_id, text)

    async def answer_callback(
        self, callback_id: str, text: str = "", *, alert: bool = False
    ) -> None:
        """The console has no buttons."""

    async def chat_action(
        self, chat_id: str, action: str = "typing", *, thread_id: str | None = None
    ) -> None:
        """Nothing to show."""

    async def is_chat_admin(self, chat_id: str, user_id: str) -> bool | None:
        """The console has no groups."""
        return None


def configured(settings: Settings) -> bool:
    """The console needs nothing."""
    return True


def polls(settings: Settings) -> bool:
    """The console reads this process's own terminal: every instance has its own."""
    return False


@asynccontextmanager
async def connect(settings: Settings, options: AdapterOptions) -> AsyncIterator[Connection]:
    """The console is always there."""
    yield Connection(ConsoleClient(), "console")


async def receive(
    settings: Settings,
    connection: Connection,
    bridge: ChatBridge,
    stop: asyncio.Event,
    options: AdapterOptions,
) -> None:
    """Chat on stdin/stdout until EOF or stop; the blocking reads run in a daemon thread, which
    a stop (SIGTERM) leaves behind instead of waiting for a line that may never come."""
    loop = asyncio.get_running_loop()
    done = asyncio.Event()

    def chat() -> None:
        try:
            run_console(bridge.core, sys.stdin, sys.stdout)
        finally:
            with suppress(RuntimeError):  # the loop is gone: the process is stopping
                loop.call_soon_threadsafe(done.set)

    threading.Thread(target=chat, name="daumoi-console", daemon=True).start()
    ended = asyncio.create_task(done.wait())
    stopping = asyncio.create_task(stop.wait())
    try:
        await asyncio.wait({ended, stopping}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        ended.cancel()
        stopping.cancel()
