"""Talk to the bot in a terminal (or through a pipe): one line in, the replies out."""

from __future__ import annotations

from typing import TextIO

from core.model import CONSOLE_CAPABILITIES, Chat, ChatKind, Incoming, User
from core.ports import MessageHandler
from core.render import render
from core.textnorm import fold

PLATFORM = "console"
PROMPT = "Bạn: "
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
            for part in render(reply, CONSOLE_CAPABILITIES):
                stdout.write(part.text + "\n\n")
        stdout.flush()
