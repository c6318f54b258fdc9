"""Outbox gauges read from the database at scrape time: pending rows and the oldest lateness."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import UTC, datetime

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from data.store.db import Database
from data.store.models import OutboxStatus, ReminderOutbox
from scheduler.calendar import as_utc

log = logging.getLogger(__name__)

PENDING = "daumoi_outbox_pending"
OLDEST_DUE = "daumoi_outbox_oldest_due_seconds"
UP = "daumoi_outbox_query_ok"


def _utc_now() -> datetime:
    return datetime.now(UTC)


class OutboxCollector(Collector):
    """Outbox depth and how late its oldest due row is; a failing query reports only
    daumoi_outbox_query_ok 0 (never an error on /metrics)."""

    def __init__(self, database: Database, clock: Callable[[], datetime] = _utc_now) -> None:
        self.database = database
        self.clock = clock

    def describe(self) -> Iterable[Metric]:
        """The families collect() yields (so a second collector of the same is refused)."""
        return self._families((0, 0.0))

    def collect(self) -> Iterable[Metric]:
        """Count pending rows and find the oldest due one, now."""
        try:
            found = self._read()
        except Exception as exc:  # a scrape must not fail because the database does
            log.warning("outbox gauges unavailable: %s", exc)
            found = None
        return self._families(found)

    def _read(self) -> tuple[int, float]:
        now = as_utc(self.clock())
        pending = ReminderOutbox.status == OutboxStatus.PENDING.value
        with self.database.session() as session:
            depth = session.scalar(select(func.count()).where(pending)) or 0
            oldest = session.scalar(
                select(func.min(ReminderOutbox.due_at)).where(pending, ReminderOutbox.due_at <= now)
            )
        if isinstance(oldest, str):  # SQLite may hand back an aggregate untyped
            oldest = datetime.fromisoformat(oldest)
        age = (now - as_utc(oldest)).total_seconds() if oldest is not None else 0.0
        return int(depth), max(age, 0.0)

    @staticmethod
    def _families(found: tuple[int, float] | None) -> list[Metric]:
        up = GaugeMetricFamily(UP, "1 when the outbox gauges could be read from the database.")
        pending = GaugeMetricFamily(PENDING, "Reminder outbox rows waiting to be sent.")
        oldest = GaugeMetricFamily(
            OLDEST_DUE, "Seconds since the oldest pending row was due (0: none is due)."
        )
        if found is None:
            up.add_metric([], 0.0)
            return [up]
        up.add_metric([], 1.0)
        pending.add_metric([], float(found[0]))
        oldest.add_metric([], found[1])
        return [up, pending, oldest]
