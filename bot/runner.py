"""`daumoi run`: every platform and the reminder service in one event loop, one stop event.

Each platform connects (retrying an unreachable API with backoff), then receives until SIGINT
or SIGTERM; once connected, its ChatClient joins the clients the reminder service sends
through, so an unreachable API at start only delays reminders (they wait in the outbox).
Replies and reminders of one platform share its PlatformLimiter.

With a database, several instances may run at once: each polling platform is polled by one
instance at a time and the reminder ticker runs in one (bot/leadership.py); the others stand
by (still connected, so a standby can send) and take over when the leader goes away.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import signal
from collections.abc import Callable, Mapping, MutableMapping, Sequence
from contextlib import AsyncExitStack, nullcontext, suppress
from dataclasses import replace
from datetime import datetime
from types import ModuleType

from sqlalchemy.exc import SQLAlchemyError

from bot import commands
from bot.bridge import AdapterOptions, ChatBridge, Connection, SeenLog
from bot.freshness import DataWatch, interval_from
from bot.health import ReadinessProbe
from bot.leadership import Leadership, Role
from bot.pacers import pacers_for
from bot.platforms import ADAPTERS, health_http, startup
from bot.platforms.console import ConsoleClient
from bot.router import Router
from core import metrics
from core.chat_client import ChatClient
from core.limits import RateLimits
from core.markup import for_platform
from core.model import Reply
from core.pacing import Pacer, PlatformLimiter
from core.ports import MessageHandler
from core.settings import Settings
from data.store import people
from data.store.db import Database
from data.store.processed import ProcessedLog
from data.store.shared_files import SharedFiles
from handlers.context import START_LINKS
from handlers.web.service import WebService
from scheduler.config import ReminderConfig
from scheduler.outbox_gauges import OutboxCollector
from scheduler.service import ReminderService, TickReport, run_once

log = logging.getLogger(__name__)


def adapter(name: str) -> ModuleType:
    """The adapter module of a registered platform (KeyError for an unknown one)."""
    return importlib.import_module(ADAPTERS[name])


def quiet_http_logs() -> None:
    """Keep HTTP client request logs out of INFO: their URLs may contain a bot token."""
    for name in ("httpx", "httpcore", "aiohttp.access"):
        logging.getLogger(name).setLevel(logging.WARNING)


def rate_limits(settings: Settings, names: Sequence[str]) -> dict[str, RateLimits]:
    """The platforms' flood limits (Telegram's may be changed by DAUMOI_TELEGRAM_* rates)."""
    config = ReminderConfig.from_settings(settings)
    return {name: config.limits.get(name, adapter(name).LIMITS.rates) for name in names}


async def serve(
    name: str,
    settings: Settings,
    core: MessageHandler,
    stop: asyncio.Event,
    *,
    options: AdapterOptions | None = None,
    pacer: Pacer | None = None,
    seen: SeenLog | None = None,
    clients: MutableMapping[str, ChatClient] | None = None,
    database: Database | None = None,
    leadership: Leadership | None = None,
) -> None:
    """Connect one platform (with backoff while unreachable) and receive until stop is set.

    While connected, handlers know its deep-link base and its menus its admins' private chats
    (read from database when given). A polling platform receives only while this process leads
    its polling role (when leadership, or a database to build it on, is given); a standby stays
    connected, so its client still sends reminders.
    """
    module = adapter(name)
    options = options or AdapterOptions.from_settings(settings, name)
    pacer = pacer or PlatformLimiter(module.LIMITS.rates)
    admins = _admin_chats(database, settings, name) if database is not None else None
    role: Role | None = None
    if module.polls(settings) and (leadership is not None or database is not None):
        if leadership is None:
            assert database is not None
            leadership = Leadership.from_settings(database, settings)
        role = leadership.polling(name, module.TITLE)

    async def once() -> None:
        async with AsyncExitStack() as known:
            connection = await known.enter_async_context(module.connect(settings, options))
            known.enter_context(START_LINKS.connected(name, _start_link(module, connection)))
            known.enter_context(commands.admin_chats_from(name, admins))
            bridge = ChatBridge(
                core,
                connection.client,
                pacer=pacer,
                options=options,
                seen=seen,
                typing=connection.typing,
                chat_for_id=connection.chat_for_id,
            )
            if clients is not None:
                clients[name] = connection.client
            try:
                if role is None:
                    await module.receive(settings, connection, bridge, stop, options)
                else:
                    await role.run(
                        stop,
                        lambda until: module.receive(settings, connection, bridge, until, options),
                    )
            finally:
                if clients is not None and clients.get(name) is connection.client:
                    del clients[name]
                await bridge.drain()

    await startup.keep_connecting(
        once,
        stop,
        platform=module.TITLE,
        backoff=startup.Backoff.from_settings(settings),
        retry_on=module.RETRY_ON,
    )


def _start_link(module: ModuleType, connection: Connection) -> str | None:
    """The platform's deep-link base for this connection, if its adapter has deep links."""
    start_link = getattr(module, "start_link", None)
    return start_link(connection) if start_link is not None else None


def _admin_chats(database: Database, settings: Settings, platform: str) -> commands.AdminChats:
    """Reads the admins' known private chats on the platform (none when the database fails)."""

    def read() -> list[str]:
        try:
            with database.unit_of_work() as session:
                return people.admin_private_chats(session, settings, platform)
        except SQLAlchemyError as exc:
            log.warning("admins' chats unknown, menus without them: %s", exc)
            return []

    return read


async def run_platforms(
    settings: Settings,
    core: MessageHandler,
    names: Sequence[str],
    *,
    database: Database | None = None,
    stop: asyncio.Event | None = None,
    reload: Callable[[], None] | None = None,
    tasks_loaded: Callable[[], int] | None = None,
    leadership: Leadership | None = None,
    web: WebService | None = None,
) -> int:
    """Serve the platforms (and tick reminders when a database is given) until stopped.

    With a database, polling and the reminder ticker run only while this process leads them
    (leadership: built on the database when not given; its roles() tells readiness).

    `reload` rebuilds the catalog and the search index; given with the database, it runs
    whenever another process (an import, another instance) changed the data.

    All platforms ending (the console at end of input) stops the rest; a refused token stops
    everything with one error line and 1.
    """
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, stop.set)
    quiet_http_logs()
    rates = rate_limits(settings, names)
    pacers = pacers_for(settings, database, rates)
    clients: dict[str, ChatClient] = {"console": ConsoleClient()}
    seen = ProcessedLog(database) if database is not None else None
    if leadership is None and database is not None:
        leadership = Leadership.from_settings(database, settings)
    refused: list[str] = []
    probe = None
    if database is not None:
        roles = leadership.roles if leadership is not None else None
        probe = ReadinessProbe(database, tasks_loaded=tasks_loaded, roles=roles)
    files = SharedFiles(database) if database is not None else None

    async def platform(name: str) -> None:
        try:
            await serve(
                name,
                settings,
                core,
                stop,
                options=replace(
                    AdapterOptions.from_settings(settings, name), readiness=probe, file_store=files
                ),
                pacer=pacers[name],
                seen=seen,
                clients=clients,
                database=database,
                leadership=leadership,
            )
        except startup.TokenRejected:
            module = adapter(name)
            log.error(startup.rejected_message(module.TITLE, module.TOKEN_VARIABLE))
            refused.append(name)
            stop.set()

    try:
        async with asyncio.TaskGroup() as group:
            if listen := settings.config.health_listen:
                group.create_task(_health(listen, probe, stop, refused))
            if web is not None and (web_listen := settings.config.web_listen):
                group.create_task(_web(web_listen, web, stop, refused, clients))
            group.create_task(_metrics(settings.config.metrics_listen, database, stop, refused))
            tasks = [group.create_task(platform(name)) for name in names]
            group.create_task(_stop_when_done(tasks, stop))
            if database is not None:
                group.create_task(_reminders(settings, database, clients, pacers, stop, leadership))
                if reload is not None:
                    watch = DataWatch(database, reload, interval_from(settings))
                    group.create_task(watch.run(stop))
    finally:
        for pacer in pacers.values():
            await asyncio.to_thread(pacer.close)  # waits for a reservation in progress
    return 1 if refused else 0


async def _health(
    listen: str, probe: ReadinessProbe | None, stop: asyncio.Event, failed: list[str]
) -> None:
    """Serve /healthz and /readyz on DAUMOI_HEALTH_LISTEN; one error line and stop if it cannot."""
    try:
        await health_http.serve_health(listen, probe, stop)
    except health_http.ListenFailed as exc:
        log.error("%s", exc)
        failed.append(health_http.LISTEN_VARIABLE)
        stop.set()


async def _web(
    listen: str,
    service: WebService,
    stop: asyncio.Event,
    failed: list[str],
    clients: Mapping[str, ChatClient],
) -> None:
    """Serve the web view on DAUMOI_WEB_LISTEN (its blocker notices go out through clients)."""
    from bot.platforms.web import server

    async def notify(platform: str, reply: Reply) -> None:
        client = clients.get(platform)
        if client is not None and reply.chat_id:
            text = for_platform(reply.text, client.limits.markup)
            await client.send_text(reply.chat_id, text, thread_id=reply.thread_id)

    try:
        await server.serve_web(listen, service, stop, notify)
    except health_http.ListenFailed as exc:
        log.error("%s", exc)
        failed.append(server.LISTEN_VARIABLE)
        stop.set()


def web_service(settings: Settings, router: Router) -> WebService:
    """The web view over the router's database, catalog and (current) search index."""
    return WebService(
        router.database,
        settings,
        catalog=router.catalog.get,
        search=lambda: router.search,
        now=router.now,
    )


async def _metrics(
    listen: str, database: Database | None, stop: asyncio.Event, failed: list[str]
) -> None:
    """Outbox gauges on every /metrics while running; /metrics alone on DAUMOI_METRICS_LISTEN
    (one error line and stop if it cannot listen)."""
    gauges = OutboxCollector(database) if database is not None else None
    with metrics.collecting(gauges) if gauges is not None else nullcontext():
        try:
            await (health_http.serve_metrics(listen, stop) if listen else stop.wait())
        except health_http.ListenFailed as exc:
            log.error("%s", exc)
            failed.append(health_http.METRICS_VARIABLE)
            stop.set()


async def _stop_when_done(tasks: list[asyncio.Task[None]], stop: asyncio.Event) -> None:
    await asyncio.gather(*tasks, return_exceptions=True)
    stop.set()


async def _reminders(
    settings: Settings,
    database: Database,
    clients: Mapping[str, ChatClient],
    pacers: Mapping[str, Pacer],
    stop: asyncio.Event,
    leadership: Leadership | None = None,
) -> None:
    """Tick reminders until stop, while this process leads the ticker when leadership is given
    (DAUMOI_REMINDERS=0 turns them off)."""
    config = ReminderConfig.from_settings(settings)
    if not config.enabled:
        return

    async def tick(until: asyncio.Event) -> None:
        service = ReminderService(database, settings, clients, pacers=pacers)
        service.start()
        log.info("reminders: ticking every %ss", config.tick_seconds)
        try:
            await until.wait()
        finally:
            service.shutdown()

    if leadership is None:
        await tick(stop)
    else:
        await leadership.reminders().run(stop, tick)


def run(
    settings: Settings,
    core: MessageHandler,
    names: Sequence[str],
    database: Database,
    reload: Callable[[], None] | None = None,
    tasks_loaded: Callable[[], int] | None = None,
    leadership: Leadership | None = None,
    web: WebService | None = None,
) -> int:
    """`daumoi run`: serve until SIGINT or SIGTERM; 1 when a token is refused."""
    return asyncio.run(
        run_platforms(
            settings,
            core,
            names,
            database=database,
            reload=reload,
            tasks_loaded=tasks_loaded,
            leadership=leadership,
            web=web,
        )
    )


def run_web(
    settings: Settings,
    service: WebService,
    database: Database,
    reload: Callable[[], None] | None = None,
) -> int:
    """`daumoi web`: only the web view on DAUMOI_WEB_LISTEN, until SIGINT or SIGTERM."""

    async def main() -> int:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with suppress(NotImplementedError, RuntimeError, ValueError):
                loop.add_signal_handler(sig, stop.set)
        failed: list[str] = []
        async with asyncio.TaskGroup() as group:
            group.create_task(_web(settings.config.web_listen, service, stop, failed, {}))
            if reload is not None:
                group.create_task(DataWatch(database, reload, interval_from(settings)).run(stop))
        return 1 if failed else 0

    return asyncio.run(main())


async def remind_once(
    settings: Settings, database: Database, *, now: datetime | None = None
) -> TickReport:
    """`daumoi remind run-once`: connect every configured platform and deliver what is due."""
    clients: dict[str, ChatClient] = {"console": ConsoleClient()}
    async with AsyncExitStack() as stack:
        for name in ADAPTERS:
            module = adapter(name)
            if name == "console" or not module.configured(settings):
                continue
            options = replace(  # links kept in the database: the running instances serve them
                AdapterOptions.from_settings(settings, name),
                file_store=SharedFiles(database),
                serve_http=False,
            )
            try:
                connection = await stack.enter_async_context(module.connect(settings, options))
            except (startup.TokenRejected, *module.RETRY_ON) as exc:
                log.warning("%s: not connected (%s); its reminders wait", module.TITLE, exc)
                continue
            clients[name] = connection.client
        return await run_once(settings, database, clients, now=now)
