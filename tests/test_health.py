"""/healthz and /readyz: on the Telegram webhook app, the Zalo app and the standalone server
(real HTTP on 127.0.0.1), the readiness checks (database, migrations, catalog, roles), and a
bad DAUMOI_HEALTH_LISTEN as an operator meets it (one Vietnamese line, exit 1)."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from bot import runner
from bot.bridge import ChatBridge, Translated
from bot.health import ReadinessProbe, migration_heads
from bot.platforms import health_http, webhook, zalo_webhook
from bot.platforms.console import ConsoleClient
from core.model import ChatEvent, Incoming, Reply
from data.store.catalog import CatalogCache
from data.store.db import MIGRATIONS_DIR, Database, make_engine
from tests.conformance.zalo_driver import zalo_settings
from tests.databases import drop_postgres, postgres_admin
from tests.fake_zalo import FakeZalo
from tests.http_support import LoopThread, free_port, get, get_json, loop_thread, served

DAUMOI = Path(sys.executable).with_name("daumoi")


class NoCore:
    """A core that is never asked (health checks do not reach it)."""

    def handle(self, incoming: Incoming) -> list[Reply]:
        """Nothing to say."""
        return []

    def handle_event(self, event: ChatEvent) -> list[Reply]:
        """Nothing to say."""
        return []


def catalog_size(database: Database) -> Callable[[], int]:
    """The tasks a catalog of the database holds, as the App reports them."""
    catalog = CatalogCache(database)
    return lambda: len(catalog.get().tasks)


def probe_of(database: Database, **options: Any) -> ReadinessProbe:
    return ReadinessProbe(database, tasks_loaded=catalog_size(database), **options)


def telegram_app(probe: ReadinessProbe | None) -> Any:
    bridge = ChatBridge(NoCore(), ConsoleClient())
    return webhook.make_app(bridge, lambda _body: Translated(), "/telegram/hook", "s", probe)


APPS: dict[str, Callable[[ReadinessProbe | None], Any]] = {
    "telegram": telegram_app,
    "zalo": lambda probe: zalo_webhook.make_app(readiness=probe),
}


@pytest.fixture
def loop() -> Iterator[LoopThread]:
    with loop_thread() as thread:
        yield thread


# -- the servers ---------------------------------------------------------------------------------


@pytest.mark.parametrize("server", sorted(APPS))
def test_webhook_apps_answer_health_and_readiness(
    server: str, seeded_db: Database, loop: LoopThread
) -> None:
    probe = probe_of(seeded_db, roles=lambda: {"poll:telegram": "leader"})
    with served(loop, APPS[server](probe)) as base:
        assert get_json(base + "/healthz") == (200, {"status": "ok"})
        status, body = get_json(base + "/readyz")
    assert status == 200 and body["status"] == "ready" and "failing" not in body
    checks = body["checks"]
    assert set(checks) == {"database", "migrations", "catalog"}
    assert all(check["ok"] for check in checks.values())
    head = sorted(migration_heads())
    assert checks["migrations"]["current"] == checks["migrations"]["head"] == head
    assert checks["catalog"]["tasks"] == 44
    assert body["roles"] == {"poll:telegram": "leader"}


@pytest.mark.parametrize("server", sorted(APPS))
def test_without_a_probe_readiness_is_liveness(server: str, loop: LoopThread) -> None:
    with served(loop, APPS[server](None)) as base:
        status, body = get_json(base + "/readyz")
    assert status == 200 and body == {
        "status": "ready",
        "checks": {},
        "note": "no checks configured",
    }


def test_the_standalone_server(seeded_db: Database, loop: LoopThread) -> None:
    port = free_port()
    server = loop.run(health_http.start_health(f"127.0.0.1:{port}", probe_of(seeded_db)))
    try:
        base = f"http://127.0.0.1:{port}"
        assert get_json(base + "/healthz") == (200, {"status": "ok"})
        status, body = get_json(base + "/readyz")
        assert status == 200 and body["status"] == "ready"
        assert get(base + "/zalo/files/x/y")[0] == 404  # health only
    finally:
        loop.run(server.cleanup())


def test_serve_health_stops_with_the_stop_event(loop: LoopThread) -> None:
    port = free_port()
    stop = asyncio.Event()
    serving = asyncio.run_coroutine_threadsafe(
        health_http.serve_health(f"127.0.0.1:{port}", None, stop), loop.loop
    )
    deadline = time.monotonic() + 10
    while get_status(f"http://127.0.0.1:{port}/healthz") != 200 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert get_status(f"http://127.0.0.1:{port}/healthz") == 200
    loop.loop.call_soon_threadsafe(stop.set)
    serving.result(10)
    assert get_status(f"http://127.0.0.1:{port}/healthz") is None


def get_status(url: str) -> int | None:
    try:
        return get(url)[0]
    except OSError:
        return None


# -- what makes an instance not ready -----------------------------------------------------------


def test_an_unreachable_database_is_not_ready(loop: LoopThread) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]  # bound, never listening: connections are refused
        database = Database(make_engine(f"postgresql://postgres@127.0.0.1:{port}/nothing"))
        try:
            with served(loop, zalo_webhook.make_app(readiness=ReadinessProbe(database))) as base:
                assert get_json(base + "/healthz")[0] == 200  # alive all the same
                status, body = get_json(base + "/readyz")
        finally:
            database.engine.dispose()
    assert status == 503 and body["status"] == "not ready"
    assert body["failing"] == ["database", "migrations"]
    assert body["checks"]["database"]["ok"] is False and body["checks"]["database"]["detail"]


def test_a_dropped_database_is_not_ready(pg_url: str, loop: LoopThread) -> None:
    database = Database.connect(pg_url)
    admin = postgres_admin()
    try:
        probe = ReadinessProbe(database)
        with served(loop, telegram_app(probe)) as base:
            assert get_json(base + "/readyz")[0] == 200
            drop_postgres(admin, pg_url.rsplit("/", 1)[1])
            status, body = get_json(base + "/readyz")
    finally:
        database.engine.dispose()
        admin.dispose()
    assert status == 503 and body["failing"] == ["database", "migrations"]


def test_migrations_behind_are_not_ready(db: Database) -> None:
    with db.engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '0006'"))
    ready, details = asyncio.run(ReadinessProbe(db).check())
    assert not ready and details["failing"] == ["migrations"]
    migrations = details["checks"]["migrations"]
    assert (migrations["current"], migrations["head"]) == (["0006"], sorted(migration_heads()))
    assert migrations["detail"] == "behind the code"


def test_a_schema_migrated_by_newer_code_keeps_an_old_instance_ready(db: Database) -> None:
    with db.engine.begin() as connection:  # a rolling upgrade: the new code migrated further
        connection.execute(text("UPDATE alembic_version SET version_num = '0999_newer'"))
    ready, details = asyncio.run(ReadinessProbe(db).check())
    assert ready, details
    assert details["checks"]["migrations"]["detail"] == "ahead: migrated by newer code"


def test_a_database_downgraded_one_revision_is_not_ready(tmp_path: Path) -> None:
    from alembic import command
    from alembic.config import Config

    database = Database.connect(f"sqlite:///{tmp_path / 'throwaway.sqlite3'}")
    try:
        assert asyncio.run(ReadinessProbe(database).check())[0]
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS_DIR))
        with database.engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "-1")
        ready, details = asyncio.run(ReadinessProbe(database).check())
    finally:
        database.engine.dispose()
    assert not ready and details["failing"] == ["migrations"]


def test_an_empty_catalog_is_not_ready(db: Database) -> None:
    ready, details = asyncio.run(probe_of(db).check())
    assert not ready and details["failing"] == ["catalog"]
    assert details["checks"]["catalog"] == {"ok": False, "tasks": 0}


def test_a_hung_check_fails_in_time_and_is_not_started_twice() -> None:
    release = threading.Event()
    calls: list[int] = []
    started: list[int] = []

    def hung() -> int:
        calls.append(1)
        release.wait(30)
        return 44

    probe = ReadinessProbe(None, tasks_loaded=hung, timeout=0.2)

    async def thrice() -> tuple[tuple[bool, Any], tuple[bool, Any], tuple[bool, Any]]:
        first = await probe.check()
        second = await probe.check()
        started.append(len(calls))
        release.set()
        await asyncio.sleep(0)
        while probe._running["catalog"].done() is False:  # the thread finishes its answer
            await asyncio.sleep(0.01)
        return first, second, await probe.check()

    first, second, third = asyncio.run(thrice())
    assert not first[0] and "no answer within 0.2 s" in first[1]["checks"]["catalog"]["detail"]
    assert not second[0] and started == [1]  # the second probe waited on the first thread
    assert third[0] and len(calls) == 2


def test_roles_that_fail_do_not_fail_the_probe() -> None:
    def broken() -> dict[str, str]:
        raise RuntimeError("no election yet")

    ready, details = asyncio.run(ReadinessProbe(None, roles=broken).check())
    assert ready and details["roles"] == {} and details["note"] == "no checks configured"


# -- the runner ----------------------------------------------------------------------------------


def test_the_runner_serves_health_and_readiness_everywhere(seeded_db: Database) -> None:
    """Zalo polling with file links (its own server) plus DAUMOI_HEALTH_LISTEN, as `daumoi run`."""
    health_port, zalo_port = free_port(), free_port()
    with FakeZalo().running() as fake, loop_thread() as loop:
        settings = zalo_settings(
            fake,
            seeded_db,
            public_url=f"http://127.0.0.1:{zalo_port}",
            extra={
                "DAUMOI_HEALTH_LISTEN": f"127.0.0.1:{health_port}",
                "DAUMOI_ZALO_LISTEN": f"127.0.0.1:{zalo_port}",
                "DAUMOI_REMINDERS": "0",
            },
        )
        stop = asyncio.Event()
        running = asyncio.run_coroutine_threadsafe(
            runner.run_platforms(
                settings,
                NoCore(),
                ["zalo"],
                database=seeded_db,
                stop=stop,
                tasks_loaded=catalog_size(seeded_db),
            ),
            loop.loop,
        )
        try:
            fake.wait_for_polls(1)
            found = {}
            for port in (health_port, zalo_port):
                base = f"http://127.0.0.1:{port}"
                deadline = time.monotonic() + 20
                while get_status(base + "/healthz") != 200 and time.monotonic() < deadline:
                    time.sleep(0.05)
                found[port] = get_json(base + "/readyz")
        finally:
            loop.loop.call_soon_threadsafe(stop.set)
        assert running.result(30) == 0
    for status, body in found.values():
        assert status == 200 and body["status"] == "ready"
        assert set(body["checks"]) == {"database", "migrations", "catalog"}


# -- DAUMOI_HEALTH_LISTEN as operators meet it -------------------------------------------------


@pytest.mark.parametrize("value", ["abc", "127.0.0.1:", "127.0.0.1:99999", "host:port"])
def test_a_bad_listen_value_is_one_clear_error(value: str) -> None:
    with pytest.raises(health_http.ListenFailed) as failed:
        health_http.listen_address(value)
    message = str(failed.value)
    assert "\n" not in message and "DAUMOI_HEALTH_LISTEN" in message and "không hợp lệ" in message


def test_listen_values_that_work() -> None:
    assert health_http.listen_address(":8090") == ("0.0.0.0", 8090)
    assert health_http.listen_address("127.0.0.1:8090") == ("127.0.0.1", 8090)
    assert health_http.listen_address("[::1]:8090") == ("::1", 8090)


@pytest.fixture
def db_url(seeded_file: Path, tmp_path: Path) -> str:
    """A seeded database file of this test's own."""
    target = tmp_path / "run.sqlite3"
    shutil.copy(seeded_file, target)
    return f"sqlite:///{target}"


def _run_console(db_url: str, listen: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DAUMOI_")}
    env.update(
        DAUMOI_DATABASE_URL=db_url,
        DAUMOI_HEALTH_LISTEN=listen,
        DAUMOI_REMINDERS="0",
        PYTHONIOENCODING="utf-8",
    )
    return subprocess.run(
        [str(DAUMOI), "run", "--platform", "console"],
        env=env,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=180,
        check=False,
    )


def test_daumoi_run_with_a_bad_listen_value_says_so_in_one_line(
    db_url: str, tmp_path: Path
) -> None:
    done = _run_console(db_url, "khong-phai-dia-chi", tmp_path)
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2  # a bad setting: refused by the configuration, before starting
    assert len(lines) == 1 and "Traceback" not in done.stderr
    assert "DAUMOI_HEALTH_LISTEN='khong-phai-dia-chi' không dùng được" in lines[0]


def test_daumoi_run_on_a_port_in_use_says_so_in_one_line(db_url: str, tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = _run_console(db_url, f"127.0.0.1:{port}", tmp_path)
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 1
    assert len(lines) == 1 and "Traceback" not in done.stderr
    assert (
        f"127.0.0.1:{port}" in lines[0] and "cổng đang được một chương trình khác dùng" in lines[0]
    )
