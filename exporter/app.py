"""The aiohttp application factory: wires config, registry, tracker and routes."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable

from aiohttp import web
from prometheus_client.aiohttp import make_aiohttp_handler

from exporter import dashboard_api, landing, workflow_api
from exporter.config import Config, read_token
from exporter.errors import json_errors
from exporter.ingest import post_events
from exporter.keys import CONFIG, INGEST_TOKEN, REGISTRY, SELF_METRICS, TRACKER
from exporter.metrics import SelfMetrics, WorkflowMetrics, new_registry
from exporter.tracker import WorkflowTracker

log = logging.getLogger(__name__)

MAX_EXPIRY_SWEEP_SECONDS = 15.0


def expiry_sweep_interval(config: Config) -> float:
    """How often to look for expired workflows: a quarter of the TTL, at most 15 s."""
    return min(config.workflow_ttl / 4, MAX_EXPIRY_SWEEP_SECONDS)


async def _expire_workflows(app: web.Application) -> AsyncIterator[None]:
    interval = expiry_sweep_interval(app[CONFIG])

    async def sweep() -> None:
        while True:
            await asyncio.sleep(interval)
            app[TRACKER].expire()

    task = asyncio.create_task(sweep())
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


def create_app(config: Config, clock: Callable[[], float] = time.time) -> web.Application:
    """Build the application; raises ConfigError when a file the config names is unusable."""
    registry = new_registry()
    self_metrics = SelfMetrics(registry)
    tracker = WorkflowTracker(
        config, WorkflowMetrics(registry, config.buckets), self_metrics, clock
    )
    app = web.Application(middlewares=[json_errors])
    app[CONFIG] = config
    app[REGISTRY] = registry
    app[SELF_METRICS] = self_metrics
    app[TRACKER] = tracker
    token = read_token(config)
    if token is not None:
        app[INGEST_TOKEN] = token
    app.router.add_get("/metrics", make_aiohttp_handler(registry))
    app.router.add_post("/api/v1/events", post_events)
    for module in (landing, workflow_api, dashboard_api):
        app.router.add_routes(module.routes)
    app.cleanup_ctx.append(_expire_workflows)
    return app
