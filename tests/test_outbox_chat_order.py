"""One chat's reminders never split between two instances' claims (issue 14, item 5)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from data.store.db import Database
from scheduler import outbox
from tests.scheduler_support import plain_rule, rows_for_chats

pytestmark = pytest.mark.postgres

NOW = datetime(2026, 12, 1, 1, 30, tzinfo=UTC)
LEASE = timedelta(minutes=2)


def _claim(session: object, owner: str) -> list[outbox.Claimed]:
    return outbox.claim(
        session,  # type: ignore[arg-type]
        owner=owner,
        now=NOW,
        lease=LEASE,
        platforms=["telegram"],
        limit=10,
    )


def test_a_chat_being_claimed_is_left_whole_to_its_claimer(pg_db: Database) -> None:
    with pg_db.unit_of_work() as session:
        rule_id = plain_rule(session, NOW - timedelta(hours=1)).id
        outbox.insert(session, rows_for_chats(rule_id, ["-100"], 2, NOW), NOW)
    url = pg_db.engine.url.render_as_string(hide_password=False)
    other = Database.connect(url, migrate=False)  # a second instance: its own engine
    try:
        with pg_db.unit_of_work() as first:
            mine = _claim(first, "instance-a")
            assert {row.chat_id for row in mine} == {"-100"} and len(mine) == 2
            # While A's claim is still open, a new reminder for the same chat is written …
            with other.unit_of_work() as session:
                late = rows_for_chats(rule_id, ["-100", "-200"], 1, NOW - timedelta(minutes=1))
                outbox.insert(session, late, NOW)
            # … and B claims: it may take the other chat, never a piece of A's chat.
            with other.unit_of_work() as second:
                theirs = _claim(second, "instance-b")
            assert {row.chat_id for row in theirs} == {"-200"}
    finally:
        other.engine.dispose()
