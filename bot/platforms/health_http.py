"""/healthz, /readyz and /metrics over HTTP (aiohttp): on the webhook servers, or standalone.

/healthz is liveness (the process answers: always 200); /readyz asks the readiness probe
(bot.health) and answers 200 when ready, 503 with the failing checks otherwise, both JSON;
/metrics is the Prometheus text exposition of core.metrics. Instances without a webhook server
(polling, console) serve all three on DAUMOI_HEALTH_LISTEN, or /metrics on DAUMOI_METRICS_LISTEN.
"""

from __future__ import annotations

import asyncio
import errno
import logging
from typing import Any

from aiohttp import web

from bot.health import Readiness
from core import metrics

log = logging.getLogger(__name__)

HEALTH_PATH = "/healthz"
READY_PATH = "/readyz"
METRICS_PATH = "/metrics"
LISTEN_VARIABLE = "DAUMOI_HEALTH_LISTEN"
METRICS_VARIABLE = "DAUMOI_METRICS_LISTEN"


class ListenFailed(Exception):
    """The health server cannot listen where it was told to (one Vietnamese line)."""


def add_health_routes(app: web.Application, probe: Readiness | None) -> None:
    """GET /healthz (liveness), GET /readyz (the probe; none: liveness only), GET /metrics."""

    async def health(_request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def ready(_request: web.Request) -> web.Response:
        if probe is None:
            body: dict[str, Any] = {"status": "ready", "checks": {}, "note": "no checks configured"}
            return web.json_response(body)
        ok, details = await probe.check()
        return web.json_response(details, status=200 if ok else 503)

    app.router.add_get(HEALTH_PATH, health)
    app.router.add_get(READY_PATH, ready)
    add_metrics_route(app)


def add_metrics_route(app: web.Application) -> None:
    """GET /metrics: every metric, collected off the event loop (gauges may ask the database)."""

    async def scrape(_request: web.Request) -> web.Response:
        body = await asyncio.to_thread(metrics.exposition)
        return web.Response(body=body, headers={"Content-Type": metrics.CONTENT_TYPE})

    app.router.add_get(METRICS_PATH, scrape)


def listen_address(listen: str, variable: str = LISTEN_VARIABLE) -> tuple[str, int]:
    """'host:port' (host optional) as (host, port); ListenFailed for anything else."""
    host, _, port = listen.strip().rpartition(":")
    if not port.isdigit() or not 0 < int(port) < 65536 or " " in host:
        raise ListenFailed(
            f"Giá trị {variable}={listen!r} không hợp lệ: cần dạng máy:cổng, ví dụ "
            "127.0.0.1:8090 hoặc :8090; hãy sửa lại rồi chạy lại."
        )
    return host.strip("[]") or "0.0.0.0", int(port)


async def start_health(
    listen: str, probe: Readiness | None, variable: str = LISTEN_VARIABLE
) -> web.AppRunner:
    """Serve /healthz, /readyz and /metrics on listen; .cleanup() the result to stop."""
    app = web.Application()
    add_health_routes(app, probe)
    runner = await _start(app, listen, variable, "kiểm tra tình trạng")
    log.info("health checks on %s%s and %s", _base(listen), HEALTH_PATH, READY_PATH)
    return runner


async def start_metrics(listen: str) -> web.AppRunner:
    """Serve /metrics alone on listen (DAUMOI_METRICS_LISTEN); .cleanup() the result to stop."""
    app = web.Application()
    add_metrics_route(app)
    runner = await _start(app, listen, METRICS_VARIABLE, "số liệu theo dõi (metrics)")
    log.info("metrics on %s%s", _base(listen), METRICS_PATH)
    return runner


def _base(listen: str) -> str:
    host, port = listen_address(listen)
    return f"http://{host}:{port}"


async def _start(app: web.Application, listen: str, variable: str, what: str) -> web.AppRunner:
    """Listen with app on listen; ListenFailed (one Vietnamese line) when it cannot."""
    host, port = listen_address(listen, variable)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
    except OSError as exc:
        await runner.cleanup()
        reason = (
            "cổng đang được một chương trình khác dùng"
            if exc.errno == errno.EADDRINUSE
            else (exc.strerror or str(exc))
        )
        raise ListenFailed(
            f"Không mở được cổng {what} {host}:{port} ({variable}): {reason}; "
            "hãy chọn địa chỉ hoặc cổng khác rồi chạy lại."
        ) from None
    except BaseException:
        await runner.cleanup()
        raise
    return runner


async def serve_health(listen: str, probe: Readiness | None, stop: asyncio.Event) -> None:
    """Serve /healthz, /readyz and /metrics on listen until stop is set (ListenFailed when it
    cannot)."""
    runner = await start_health(listen, probe)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()


async def serve_metrics(listen: str, stop: asyncio.Event) -> None:
    """Serve /metrics on listen until stop is set (ListenFailed when it cannot)."""
    runner = await start_metrics(listen)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()
