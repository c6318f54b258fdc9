"""Two `daumoi run` instances on one PostgreSQL, behind one webhook URL (issue 14, end to end).

Both instances serve the same bot in webhook mode; the test is Telegram and the load balancer:
it posts updates alternately to both at 60 updates/s to a mix of private chats and groups, while
a fake Bot API enforces Telegram's flood limits (30/s overall, 20/min per group, 1/s per chat)
and counts what it refuses. Halfway, `daumoi import` in a third process adds a decision, and
both instances are asked for a phrase only it contains. Then reminders fall due for 120 groups,
and the instance delivering them is killed with SIGKILL in the middle of the fan-out.

It asserts that every update got exactly one answer, that no call was refused with 429, that
both instances found the imported task within 5 s, that every reminder was delivered (at most
one twice: the one in the send-then-crash window) and that the survivor finished the reminders
and kept answering.

The kill is timed when no answer is owed by the victim: an update is acknowledged once its
transaction committed, and its answer is sent just after, so a SIGKILL in between loses that
answer (Telegram does not deliver an acknowledged update again). That window is not what this
test is about; reminders, which live in the database, are.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from data.importing.importer import ensure_seed
from data.store.db import Database
from tests import fake_telegram as ft
from tests.fake_telegram import Limits
from tests.instances_support import (
    DAUMOI,
    NEW_DECISION,
    NEW_QUERY,
    CountingTelegram,
    Instance,
    LoadBalancer,
    OutboxReader,
    Posted,
    check_answers,
    decision_variant,
    enqueue_reminders,
    free_port,
    instance_env,
    offer_at_rate,
    private_user,
    update_for,
    wait_for_answers,
    wait_until,
)

pytestmark = pytest.mark.postgres

# One chat: about one message a second with short bursts, as Telegram tolerates; replies are not
# spaced per chat (core/pacing.py), so two answers to one person can leave close together.
TELEGRAM_LIMITS = Limits(
    overall_per_second=30, group_per_minute=20, chat_per_second=1, chat_window=3.0
)
OFFERED_PER_SECOND = 60
LOAD_SECONDS = 5
PRIVATE_USERS = 150  # each writes every 2.8 s: within 1 message/s per chat
TALK_GROUPS = 12  # every tenth update, so each group gets one every 2 s
REMINDER_GROUPS = 120  # about 6 s of sending at 21/s
FRESH_WITHIN = 5.0  # the issue: an import is found by both instances within 5 s
PROBE_SECONDS = FRESH_WITHIN + 1.5  # ask both for the new phrase this long after the import
PROBES_PER_SECOND = 4
TRICKLE_PER_SECOND = 10  # updates while reminders go out
BOT = ft.BOT_USERNAME


def _code(code: str) -> tuple[str, ...]:
    """What the answer to a task code says: the task, or (two decisions) a choice of them."""
    return (f"Nhiệm vụ {code} ·", f"phù hợp với “{code}”", f"Mã {code} có trong")


# (text a private user sends, what its answer contains)
PRIVATE_QUESTIONS = [
    ("1.1", _code("1.1")),
    ("san bay chu lai", ("“san bay chu lai”",)),
    ("3.2", _code("3.2")),
    ("so y te", ("Viết tắt: SYT",)),
    ("2.4", _code("2.4")),
    ("/help", ("Các lệnh anh/chị dùng được",)),
]
GROUP_QUESTIONS = [
    (f"/nhiemvu@{BOT} 2.4", _code("2.4")),
    (f"/tim@{BOT} san bay chu lai", ("“san bay chu lai”",)),
    (f"/tim@{BOT} so y te", ("Viết tắt: SYT",)),
]
ANYTHING = ("",)


@pytest.fixture
def shared_database(pg_url: str) -> str:
    """A throwaway PostgreSQL database, migrated and seeded (dropped after the test)."""
    database = Database.connect(pg_url)
    try:
        ensure_seed(database)
    finally:
        database.engine.dispose()
    return pg_url


@pytest.fixture
def fake() -> Iterator[CountingTelegram]:
    server = CountingTelegram(TELEGRAM_LIMITS)
    with server.running():
        yield server


@dataclass
class Story:
    """What happened, for the assertions and the failure message."""

    import_done: float = 0.0
    probes: list[Posted] = field(default_factory=list)
    victim: str = ""
    survivor: str = ""
    killed_at: float = 0.0
    pending_at_kill: int = 0
    leases_at_kill: dict[str, int] = field(default_factory=dict)
    in_window: set[str] = field(default_factory=set)  # sent, not yet recorded, at the kill
    after_kill: list[Posted] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)


def _load(total: int) -> list[tuple[dict[str, Any], str, tuple[str, ...]]]:
    """The 60/s load: private users in turn, every tenth update in a group, A and B in turn."""
    traffic = []
    private = 0
    for index in range(total):
        target = "A" if index % 2 == 0 else "B"
        if index % 10 == 9:
            number = index // 10
            group = ft.group_chat(-4100 - number % TALK_GROUPS, f"Nhóm trao đổi {number}")
            text, expect = GROUP_QUESTIONS[(number // TALK_GROUPS) % len(GROUP_QUESTIONS)]
            sender = private_user(600_000 + number)
            traffic.append((update_for(group, sender, text), target, expect))
            continue
        person = private_user(700_000 + private % PRIVATE_USERS)
        turn = private // PRIVATE_USERS
        text, expect = PRIVATE_QUESTIONS[(private + turn) % len(PRIVATE_QUESTIONS)]
        traffic.append((update_for(ft.private_chat(person), person, text), target, expect))
        private += 1
    return traffic


def _one_question(user_id: int, text: str) -> dict[str, Any]:
    person = private_user(user_id)
    return update_for(ft.private_chat(person), person, text)


async def _import_elsewhere(tmp_path: Path, env: dict[str, str]) -> None:
    """`daumoi import` in a third process; fails the test if it does not succeed."""
    process = await asyncio.create_subprocess_exec(
        str(DAUMOI),
        "import",
        str(decision_variant(tmp_path)),
        "--decision",
        NEW_DECISION,
        env=env,
        cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await process.communicate()
    assert process.returncode == 0, output.decode(errors="replace")


async def _trickle(
    balancer: LoadBalancer, stop: asyncio.Event, first_user: int, targets: list[str]
) -> list[Posted]:
    """A question a user has not asked before, TRICKLE_PER_SECOND, to targets in turn."""
    posted: list[Posted] = []
    for number in range(10_000):
        if stop.is_set():
            break
        update = _one_question(first_user + number, "so y te")
        posted.append(balancer.offer(update, targets[number % len(targets)], ("Viết tắt: SYT",)))
        await asyncio.sleep(1 / TRICKLE_PER_SECOND)
    return posted


def _reminder_counts(fake: CountingTelegram, chats: list[str]) -> dict[str, int]:
    texts = fake.texts_by_chat()
    return {chat: len(texts.get(chat, [])) for chat in chats}


async def _scenario(
    tmp_path: Path,
    env: dict[str, str],
    url: str,
    fake: CountingTelegram,
    instances: dict[str, Instance],
    balancer: LoadBalancer,
    story: Story,
) -> None:
    began = time.monotonic()
    reader = OutboxReader(url)
    try:
        # 1. The load, with an import by a third process halfway.
        load = asyncio.create_task(
            offer_at_rate(balancer, _load(OFFERED_PER_SECOND * LOAD_SECONDS), OFFERED_PER_SECOND)
        )
        await asyncio.sleep(LOAD_SECONDS / 2)
        await _import_elsewhere(tmp_path, env)
        story.import_done = time.monotonic()
        probes = [
            (_one_question(800_000 + n, NEW_QUERY), "A" if n % 2 == 0 else "B", ANYTHING)
            for n in range(int(PROBE_SECONDS * PROBES_PER_SECOND))
        ]
        story.probes = await offer_at_rate(balancer, probes, PROBES_PER_SECOND)
        await load
        await balancer.settle()
        story.timings["load offered"] = time.monotonic() - began
        await wait_for_answers(balancer, fake, 60)
        story.timings["load answered"] = time.monotonic() - began

        # 2. Reminders fall due. Whoever leases them first is delivering them: that instance
        # will be killed, so until then updates go to the other one, which owes no answer then.
        reminder_chats = [str(-5000 - n) for n in range(REMINDER_GROUPS)]
        await asyncio.to_thread(enqueue_reminders, url, reminder_chats)
        await wait_until(lambda: reader.leases_by_pid(reminder_chats), 15, "a reminder lease")
        by_pid = {instance.pid: name for name, instance in instances.items()}
        leases = reader.leases_by_pid(reminder_chats)
        assert set(leases) <= set(by_pid), (leases, by_pid)
        story.victim = by_pid[leases.most_common(1)[0][0]]
        story.survivor = next(name for name in instances if name != story.victim)
        stop_trickle = asyncio.Event()
        trickle = asyncio.create_task(_trickle(balancer, stop_trickle, 900_000, [story.survivor]))
        await wait_until(
            lambda: sum(_reminder_counts(fake, reminder_chats).values()) >= 15,
            30,
            "the first reminders",
        )
        stop_trickle.set()
        await trickle
        await balancer.settle()
        story.leases_at_kill = {
            by_pid.get(pid, str(pid)): n for pid, n in reader.leases_by_pid(reminder_chats).items()
        }
        before = _reminder_counts(fake, reminder_chats)
        instances[story.victim].kill_9()
        story.killed_at = time.monotonic()
        story.timings["killed"] = story.killed_at - began
        recorded = reader.sent(reminder_chats)
        story.in_window = {chat for chat, count in before.items() if count and chat not in recorded}
        story.pending_at_kill = REMINDER_GROUPS - len(recorded)

        # 3. The load balancer still sends half the updates to the dead instance; they are
        # refused and go to the survivor. The survivor must finish the reminders.
        stop_trickle = asyncio.Event()
        trickle = asyncio.create_task(
            _trickle(balancer, stop_trickle, 950_000, [story.victim, story.survivor])
        )
        await asyncio.sleep(3)
        stop_trickle.set()
        story.after_kill = await trickle
        await balancer.settle()
        with suppress(TimeoutError):  # the assertions say what is missing
            await wait_until(
                lambda: len(reader.sent(reminder_chats)) == REMINDER_GROUPS,
                45,
                "every reminder recorded as sent",
                step=0.5,
            )
            story.timings["reminders sent"] = time.monotonic() - began
        await wait_for_answers(balancer, fake, 30)
        await asyncio.sleep(1)  # a late duplicate would show up now
        story.timings["done"] = time.monotonic() - began
    finally:
        reader.close()


def _first_found(story: Story, texts: dict[str, list[str]], name: str) -> float | None:
    """Seconds from the import to the first question to instance name that found its task."""
    for probe in story.probes:
        if probe.acked_by == name and any(NEW_DECISION in t for t in texts.get(probe.chat_id, [])):
            return round(probe.posted_at - story.import_done, 2)
    return None


def test_two_instances_share_limits_data_and_work(
    shared_database: str, fake: CountingTelegram, tmp_path: Path
) -> None:
    env = instance_env(shared_database, fake)
    instances = {
        name: Instance(name, free_port(), tmp_path / f"instance-{name}.log") for name in "AB"
    }
    story = Story()
    began = time.monotonic()
    try:
        for instance in instances.values():
            instance.start(env, tmp_path)
        for instance in instances.values():
            instance.wait_listening(90)
        story.timings["listening"] = time.monotonic() - began

        async def run() -> LoadBalancer:
            async with LoadBalancer(instances) as balancer:
                await _scenario(tmp_path, env, shared_database, fake, instances, balancer, story)
            return balancer

        balancer = asyncio.run(run())
    except BaseException:
        print(*(instance.tail(60) for instance in instances.values()), sep="\n")
        raise
    finally:
        for instance in instances.values():
            instance.stop()

    texts = fake.texts_by_chat()
    reminder_chats = [str(-5000 - n) for n in range(REMINDER_GROUPS)]
    counts = _reminder_counts(fake, reminder_chats)
    twice = {chat for chat, count in counts.items() if count > 1}
    answers = check_answers(balancer.posted, texts)
    found = {name: _first_found(story, texts, name) for name in instances}
    late = [p for p in story.probes if p.posted_at - story.import_done >= FRESH_WITHIN]
    stale = [p for p in late if not any(NEW_DECISION in t for t in texts.get(p.chat_id, []))]
    print(
        f"\ntwo instances: {len(balancer.posted)} updates, timings {story.timings}, "
        f"429s {len(fake.too_many)}, victim {story.victim}, leases {story.leases_at_kill}, "
        f"pending at kill "
        f"{story.pending_at_kill}, in window {sorted(story.in_window)}, twice {sorted(twice)}, "
        f"found after {found}"
    )

    problems = []
    if not all(p.acked for p in balancer.posted):
        problems.append(
            f"updates never acknowledged: {[p for p in balancer.posted if not p.acked]}"
        )
    if not answers.ok:
        problems.append("not every update answered exactly once: " + answers.summary())
    if fake.too_many:
        problems.append(
            f"{len(fake.too_many)} calls answered 429 (first: {fake.too_many[:3]}); "
            "the instances' sends together broke Telegram's limits"
        )
    for name in instances:
        mine = [p for p in late if p.acked_by == name]
        if not mine or any(p in stale for p in mine):
            problems.append(
                f"instance {name} did not find the imported task {FRESH_WITHIN:.0f} s after the "
                f"import ({len([p for p in mine if p in stale])}/{len(mine)} answers without it)"
            )
    if any(count == 0 for count in counts.values()):
        problems.append(f"reminders never delivered: {[c for c, n in counts.items() if n == 0]}")
    if len(twice) > 1 or not twice <= story.in_window or max(counts.values(), default=0) > 2:
        problems.append(
            f"reminders delivered twice {sorted(twice)}, but only {sorted(story.in_window)} "
            "were in the send-then-crash window at the kill"
        )
    if story.pending_at_kill == 0:
        problems.append("the reminders were all sent before the kill: nothing was taken over")
    refused = [p for p in story.after_kill if p.first == story.victim]
    if not refused or any(p.acked_by != story.survivor for p in story.after_kill):
        problems.append("the survivor did not take every update after the kill")
    assert not problems, "\n".join(problems)
