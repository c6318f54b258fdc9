"""Fuzzing at scale: 10,000+ hostile messages through the router; counts and slowest commands."""

from __future__ import annotations

import logging
import statistics
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from core.limits import LIMITS as CAPABILITIES
from tests.bot_harness import Clock
from tests.databases import SqliteTemplate
from tests.fuzz_messages import messages, problems
from tests.seed_db import build_seed, load_search
from tests.status_harness import Desk
from tests.test_fuzz import cast

SEED = 20261201
COUNT = 10_000
SLOWEST = 8


class _Errors(logging.Handler):
    """Counts ERROR records (internal errors the router logged)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1


def _command(text: str) -> str:
    if not text:
        return "(button)"
    head = text.split(maxsplit=1)[0] if text.strip() else ""
    return head.split("@", 1)[0][:20] if head.startswith("/") else "(text)"


def run(count: int = COUNT) -> str:
    """Send count generated messages on a seeded SQLite copy and summarise what happened."""
    errors = _Errors()
    logging.getLogger().addHandler(errors)
    timings: dict[str, list[float]] = defaultdict(list)
    raised = bad = 0
    examples: list[str] = []
    with tempfile.TemporaryDirectory() as folder:
        seed = build_seed(Path(folder))
        search = load_search(f"sqlite:///{seed}")
        work = Path(folder) / "work"
        work.mkdir()
        with SqliteTemplate(seed).clone(work) as database:
            desk = Desk(database, search, Clock())
            cast(desk)
            started = time.perf_counter()
            for message in messages(SEED, count):
                incoming = message.incoming
                before = time.perf_counter()
                try:
                    replies = desk.router.handle(incoming)
                except Exception:
                    raised += 1
                    continue
                timings[_command(incoming.text)].append((time.perf_counter() - before) * 1000)
                found = problems(replies, CAPABILITIES[incoming.platform])
                if found:
                    bad += 1
                    if len(examples) < 5:
                        examples.append(f"`{incoming.text[:60]!r}`: {found[0][:100]}")
            total = time.perf_counter() - started
    logging.getLogger().removeHandler(errors)
    everything = [ms for values in timings.values() for ms in values]
    slow = sorted(timings.items(), key=lambda item: max(item[1]), reverse=True)[:SLOWEST]
    lines = [
        "## Fuzzing the router",
        "",
        f"{count:,} generated messages (seed {SEED}; every command, random Unicode with NUL, lone "
        "surrogates, RTL and zero-width marks, 100k-character text, forged buttons; stranger, "
        f"focal point, observer and admin; private and group; console, Telegram, Zalo) on a "
        f"seeded SQLite copy in {total:.1f} s ({count / total:.0f} messages/s; median "
        f"{statistics.median(everything):.2f} ms per message).",
        "",
        "| count | value |",
        "|---|---:|",
        f"| exceptions escaping the router | {raised} |",
        f"| internal errors logged | {errors.count} |",
        f"| messages with a bad reply (internal error, English, too long, unsendable) | {bad} |",
        "",
        "Slowest commands:",
        "",
        "| command | messages | median ms | max ms |",
        "|---|---:|---:|---:|",
    ]
    for name, values in slow:
        lines.append(
            f"| `{name}` | {len(values)} | {statistics.median(values):.2f} | {max(values):.1f} |"
        )
    if examples:
        lines += ["", "First bad replies:", "", *(f"- {example}" for example in examples)]
    return "\n".join(lines)
