"""Bounded fuzzing: every command, hostile text and forged buttons, as every role, on every DB."""

from __future__ import annotations

import logging
import os
import time

import pytest

from core.limits import LIMITS as CAPABILITIES
from data.store.models import Role
from tests.fuzz_messages import ACTORS, PLATFORMS, messages, problems
from tests.status_harness import Desk

pytest_plugins = ("tests.status_harness",)

SEED = int(os.environ.get("DAUMOI_FUZZ_SEED", "1731"))
COUNT = int(os.environ.get("DAUMOI_FUZZ_MESSAGES", "1500"))
# A wall-clock bound so a slow machine shortens the run instead of stalling CI.
BUDGET_SECONDS = float(os.environ.get("DAUMOI_FUZZ_SECONDS", "25"))


def cast(desk: Desk) -> None:
    """Register the focal point, the observer and the admin on every platform."""
    for platform in PLATFORMS:
        desk.add_person(ACTORS["focal"], Role.FOCAL, "Sở Y tế", platform=platform)
        desk.add_person(ACTORS["observer"], Role.OBSERVER, None, platform=platform)
        if platform != "console":  # console:admin is the configured admin
            desk.add_person(ACTORS["admin"], Role.ADMIN, None, platform=platform)


def test_router_survives_hostile_traffic(desk: Desk, caplog: pytest.LogCaptureFixture) -> None:
    """No escaped exception, internal error, over-long reply or English text for any message."""
    cast(desk)
    caplog.set_level(logging.ERROR)
    failures: list[str] = []
    started = time.monotonic()
    sent = 0
    for message in messages(SEED, COUNT):
        if time.monotonic() - started > BUDGET_SECONDS:
            break
        incoming = message.incoming
        try:
            replies = desk.router.handle(incoming)
        except Exception as exc:  # the router promises never to raise
            failures.append(f"{message.role} {incoming.text[:80]!r}: raised {exc!r}")
            continue
        sent += 1
        for problem in problems(replies, CAPABILITIES[incoming.platform]):
            failures.append(f"{message.role} {incoming.platform} {incoming.text[:80]!r}: {problem}")
        errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
        if errors:
            failures.append(
                f"{message.role} {incoming.text[:80]!r}: logged {errors[0].getMessage()[:200]}"
            )
            caplog.clear()
    assert sent >= min(COUNT, 200), f"only {sent} messages in {BUDGET_SECONDS} s"
    assert not failures, f"seed {SEED}: {len(failures)} failures\n" + "\n".join(failures[:25])
