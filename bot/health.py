"""Readiness of one instance: database reachable, migrations current, catalog loaded, roles.

`ReadinessProbe.check()` answers (ready, details) for GET /readyz; liveness (/healthz) needs no
probe. Blocking work runs in a worker thread under a short timeout, and a check still running
from an earlier probe is awaited again rather than started twice (a hung database must not
pile up threads).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from data.store.db import Database, migration_scripts

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 3.0  # seconds one check may take before it counts as failed
Details = dict[str, Any]


class Readiness(Protocol):
    """Something /readyz can ask whether this instance is ready."""

    async def check(self) -> tuple[bool, Details]:
        """(ready, details: every check with ok and what it saw)."""
        ...


def migration_heads() -> frozenset[str]:
    """Head revisions of data/migrations."""
    return migration_scripts()[0]


def migration_revisions() -> frozenset[str]:
    """Every revision of data/migrations (one this code does not know came from newer code)."""
    return migration_scripts()[1]


class ReadinessProbe:
    """Database (SELECT 1), migrations (stored revision = scripts' head), catalog (tasks
    loaded > 0) and the roles this instance holds (informational, e.g. who polls)."""

    def __init__(
        self,
        database: Database | None,
        *,
        tasks_loaded: Callable[[], int] | None = None,
        roles: Callable[[], Mapping[str, str]] | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        heads: Callable[[], frozenset[str]] = migration_heads,
        revisions: Callable[[], frozenset[str]] = migration_revisions,
    ) -> None:
        self.database = database
        self.tasks_loaded = tasks_loaded
        self.roles = roles
        self.timeout = timeout
        self._heads_of = heads
        self._heads: frozenset[str] | None = None
        self._revisions_of = revisions
        self._known: frozenset[str] | None = None
        self._running: dict[str, asyncio.Task[Details]] = {}

    async def check(self) -> tuple[bool, Details]:
        """Run every configured check; ready when none failed."""
        checks: Details = {}
        if self.database is not None:
            stored = await self._off_loop("database", self._database)
            checks["database"] = {"ok": stored["ok"], "detail": stored["detail"]}
            checks["migrations"] = self._migrations(stored)
        if self.tasks_loaded is not None:
            checks["catalog"] = await self._off_loop("catalog", self._catalog)
        failing = sorted(name for name, found in checks.items() if not found["ok"])
        details: Details = {"status": "not ready" if failing else "ready", "checks": checks}
        if failing:
            details["failing"] = failing
        if not checks:
            details["note"] = "no checks configured"
        details["roles"] = dict(self._roles())
        return not failing, details

    async def _off_loop(self, name: str, work: Callable[[], Details]) -> Details:
        task = self._running.get(name)
        if task is None or task.done():
            task = asyncio.ensure_future(asyncio.to_thread(work))
            self._running[name] = task
        try:
            return await asyncio.wait_for(asyncio.shield(task), self.timeout)
        except TimeoutError:
            return {"ok": False, "detail": f"no answer within {self.timeout:g} s"}
        except Exception as exc:  # a probe answers; it does not crash
            return {"ok": False, "detail": _first_line(exc)}

    def _database(self) -> Details:
        """SELECT 1 and the stored Alembic revision, on one connection (blocking)."""
        assert self.database is not None
        if self._heads is None:
            self._heads = self._heads_of()
            self._known = self._revisions_of()
        try:
            with self.database.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
                try:
                    revisions = sorted(
                        connection.execute(
                            text("SELECT version_num FROM alembic_version")
                        ).scalars()
                    )
                except SQLAlchemyError as exc:
                    return {
                        "ok": True,
                        "detail": "reachable",
                        "revisions": None,
                        "error": _first_line(exc),
                    }
        except SQLAlchemyError as exc:
            return {"ok": False, "detail": _first_line(exc)}
        return {"ok": True, "detail": "reachable", "revisions": revisions}

    def _migrations(self, stored: Details) -> Details:
        head = sorted(self._heads or ())
        if not stored["ok"]:
            return {"ok": False, "detail": "database unreachable", "head": head}
        current = stored.get("revisions")
        if current is None:
            return {"ok": False, "detail": stored.get("error", "no revision"), "head": head}
        if bool(head) and current == head:
            return {"ok": True, "detail": "current", "current": current, "head": head}
        # A revision this code does not know was written by newer code during a rolling
        # upgrade: migrations only add, so this instance keeps serving until it is upgraded.
        ahead = bool(head) and bool(current) and not set(current) & (self._known or frozenset())
        detail = "ahead: migrated by newer code" if ahead else "behind the code"
        return {"ok": ahead, "detail": detail, "current": current, "head": head}

    def _catalog(self) -> Details:
        assert self.tasks_loaded is not None
        tasks = self.tasks_loaded()
        return {"ok": tasks > 0, "tasks": tasks}

    def _roles(self) -> Mapping[str, str]:
        if self.roles is None:
            return {}
        try:
            return self.roles()
        except Exception as exc:  # informational: never fails the probe
            log.warning("roles unknown: %s", exc)
            return {}


def _first_line(error: BaseException) -> str:
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return (lines[0] if lines else type(error).__name__)[:300]
