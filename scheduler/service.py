"""The reminder service: materialise due occurrences into the outbox, deliver, tick.

The database is the source of truth; APScheduler (3.11, in memory) only ticks. Every tick
materialises the occurrences due in the catch-up window (idempotent: unique outbox key), then
claims and sends due rows through the platforms' ChatClients. The composition root runs it in
the one event loop next to the chat bridges. Restarting loses nothing; two instances never send
a row twice.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from core.chat_client import ChatClient
from core.pacing import Pacer
from core.settings import Settings
from data.store.db import Database
from data.store.models import ReminderRule
from scheduler import messages, outbox
from scheduler.config import ReminderConfig
from scheduler.delivery import Delivery, DeliveryReport
from scheduler.failures import report_failures
from scheduler.occurrences import Directory, Occurrence, RuleFailure, active_rules, occurrences
from scheduler.outbox import NewRow
from scheduler.rules import Kind, Plan, ensure_defaults, plans, stale_after_deadline

log = logging.getLogger(__name__)
_STALE_AFTER_DEADLINE = stale_after_deadline()
_NEXT_DUE_HORIZONS = (timedelta(days=8), timedelta(days=400))


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class TickReport:
    """What one tick did."""

    materialised: int = 0
    delivery: DeliveryReport = field(default_factory=DeliveryReport)


def outbox_rows(
    found: list[Occurrence],
    directory: Directory,
    config: ReminderConfig,
    now: datetime,
    failures: list[RuleFailure] | None = None,
) -> list[NewRow]:
    """One row per (rule, chat, due), merging occurrences; agencies nobody can reach → admins.

    A row carries the forum topic of its chat's first destination (a chat has one linked topic).

    An occurrence whose text cannot be written is left out and added to `failures`.
    """
    calendar = config.calendar()
    today = calendar.today(now)
    grouped: dict[tuple[int, str, str, datetime], list[tuple[Occurrence, str]]] = defaultdict(list)
    topics: dict[tuple[str, str], str | None] = {}
    gaps: dict[tuple[int, datetime], list[Occurrence]] = defaultdict(list)
    for occ in found:
        deadline = occ.plan.deadline if occ.plan is not None else None
        if occ.kind in _STALE_AFTER_DEADLINE and deadline is not None and today > deadline:
            continue  # caught up after the deadline: the overdue reminder speaks instead
        if occ.destinations:
            try:
                text = messages.render(occ, today, calendar)
            except Exception as exc:  # one bad occurrence must not stop the others
                log.warning("reminder rule #%s: occurrence skipped: %s", occ.rule_id, exc)
                if failures is not None:
                    failures.append(RuleFailure(occ.rule_id, f"{type(exc).__name__}: {exc}"))
                continue
            for target in occ.destinations:
                grouped[(occ.rule_id, target.platform, target.chat_id, occ.due)].append((occ, text))
                topics.setdefault((target.platform, target.chat_id), target.thread_id)
        elif occ.agency is not None:
            gaps[(occ.rule_id, occ.due)].append(occ)
    for (rule_id, due), missing in gaps.items():
        text = messages.gap_text(rule_id, missing)
        gap = Occurrence(rule_id=rule_id, due=due, kind=Kind.GAP)
        for admin in directory.admins:
            grouped[(rule_id, admin.platform, admin.chat_id, due)].append((gap, text))
    rows = []
    for (rule_id, platform, chat_id, due), items in grouped.items():
        rows.append(
            NewRow(
                rule_id=rule_id,
                platform=platform,
                chat_id=chat_id,
                due=due,
                kind=items[0][0].kind,
                text="\n\n".join(text for _, text in items),
                payload={"items": [_item(occ) for occ, _ in items]},
                thread_id=topics.get((platform, chat_id)),
            )
        )
    return rows


def _item(occ: Occurrence) -> dict[str, Any]:
    return {
        "kind": occ.kind,
        "agency": occ.agency.name if occ.agency else None,
        "tasks": [task.code for task in occ.tasks],
    }


class ReminderService:
    """Materialises and delivers reminders; `start` ticks it with APScheduler.

    `clients` may gain platforms later (one that connects late): each tick reads it. `pacers`
    are the platforms' limiters shared with the reply path (built from config when absent).
    """

    def __init__(
        self,
        database: Database,
        settings: Settings,
        clients: Mapping[str, ChatClient],
        *,
        pacers: Mapping[str, Pacer] | None = None,
        config: ReminderConfig | None = None,
        clock: Callable[[], datetime] = _utc_now,
        sleep: Callable[[float], Any] = asyncio.sleep,
        instance: str | None = None,
    ) -> None:
        self.database = database
        self.settings = settings
        self.config = config or ReminderConfig.from_settings(settings)
        self.calendar = self.config.calendar()
        self.clock = clock
        self.delivery = Delivery(
            database,
            clients,
            self.config,
            settings,
            pacers=pacers,
            clock=clock,
            sleep=sleep,
            instance=instance,
        )
        self._scheduler: Any = None

    # -- materialise ----------------------------------------------------------------------

    def materialise(self, now: datetime | None = None) -> int:
        """Write the occurrences due in the catch-up window to the outbox; return new rows."""
        now = now or self.clock()
        with self.database.unit_of_work() as session:
            return self._materialise(session, now)

    def _materialise(self, session: Session, now: datetime) -> int:
        ensure_defaults(session, self.config, now)
        directory = Directory.load(session, self.settings)
        failures: list[RuleFailure] = []
        found = occurrences(
            session,
            active_rules(session),
            directory,
            self.calendar,
            self.config,
            now - self.config.catch_up,
            now,
            latest_only=True,  # after downtime, only each rule's most recent reminder
            failures=failures,
        )
        rows = outbox_rows(found, directory, self.config, now, failures)
        created = outbox.insert(session, rows, now)
        outbox.expire(session, now - self.config.expire_after)
        report_failures(session, failures, directory, now)
        return created

    def next_due(self, after: datetime) -> datetime | None:
        """The first planned instant of any active rule after `after` (for time travel)."""
        with self.database.unit_of_work() as session:
            ensure_defaults(session, self.config, after)
            rules = active_rules(session)
            for horizon in _NEXT_DUE_HORIZONS:  # a short look first
                upcoming = [
                    found[0].due
                    for rule in rules
                    if (found := self._first_plan(rule, after, after + horizon))
                ]
                if upcoming:
                    return min(upcoming)
        return None

    def _first_plan(self, rule: ReminderRule, start: datetime, end: datetime) -> list[Plan]:
        try:
            return plans(rule, self.calendar, self.config, start, end, limit=1)
        except Exception:  # a broken rule is reported by the ticks; the others still count
            log.warning("reminder rule #%s skipped when looking ahead", rule.id, exc_info=True)
            return []

    # -- ticks ----------------------------------------------------------------------------

    async def tick(self) -> TickReport:
        """Materialise what is due now, then deliver it."""
        now = self.clock()
        created = await self.delivery.in_db(self._materialise, now)
        report = await self.delivery.deliver_due()
        if created or report.messages or report.dead:
            log.info("reminders: %d new, %s", created, report)
        return TickReport(created, report)

    async def run_once(self, max_wait: float | None = None) -> TickReport:
        """Materialise and deliver what is due now, waiting briefly for quick retries."""
        created = await self.delivery.in_db(self._materialise, self.clock())
        report = await self.delivery.drain(max_wait)
        return TickReport(created, report)

    def start(self) -> bool:
        """Tick every config.tick_seconds on the running event loop (APScheduler 3.11);
        False, and no ticking, when reminders are switched off (DAUMOI_REMINDERS=0)."""
        if not self.config.enabled:
            log.info("reminders are switched off (DAUMOI_REMINDERS=0)")
            return False
        from apscheduler.schedulers.asyncio import AsyncIOScheduler
        from apscheduler.triggers.interval import IntervalTrigger

        scheduler = AsyncIOScheduler(timezone=self.config.timezone)
        scheduler.add_job(
            self._safe_tick,
            IntervalTrigger(seconds=self.config.tick_seconds),
            id="daumoi-reminders",
            coalesce=True,
            max_instances=1,
            next_run_time=datetime.now(UTC),
        )
        scheduler.start()
        self._scheduler = scheduler
        return True

    async def _safe_tick(self) -> None:
        try:
            await self.tick()
        except asyncio.CancelledError:
            # Shutdown cancelled the tick mid-way: its database work finishes in its thread,
            # and what was not sent stays due in the outbox for the next start.
            log.debug("reminder tick cancelled by shutdown")
        except Exception:
            log.exception("reminder tick failed")

    def shutdown(self) -> None:
        """Stop ticking and release the database thread."""
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=False)
            self._scheduler = None
        self.delivery.close()


async def run_once(
    settings: Settings,
    database: Database,
    clients: Mapping[str, ChatClient],
    *,
    now: datetime | None = None,
) -> TickReport:
    """Deliver what is due now through the given clients (`daumoi remind run-once`)."""
    clock: Callable[[], datetime] = _utc_now if now is None else _frozen(now)
    service = ReminderService(database, settings, clients, clock=clock)
    try:
        return await service.run_once(max_wait=None if now is None else 0)
    finally:
        service.shutdown()


def _frozen(now: datetime) -> Callable[[], datetime]:
    return lambda: now
