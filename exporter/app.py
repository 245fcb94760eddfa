"""The aiohttp application factory: wires config, registry, tracker and routes."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable

from aiohttp import web
from aiohttp.typedefs import Middleware

from exporter.config import Config, read_token
from exporter.jsonapi import (
    dashboard_routes,
    history,
    monitoring_routes,
    system_routes,
    workflow_routes,
)
from exporter.jsonapi.workflow_usage import WorkflowResourceUsage
from exporter.log_once import LogOnce
from exporter.statuspage import routes as status_routes
from exporter.statuspage.data import StatusCache
from exporter.statuspage.routes import STATUS_CACHE
from exporter.system.collector import SystemCollector
from exporter.system.sampler import Sampler
from exporter.traces import routes as trace_routes
from exporter.traces.routes import REFUSALS_LOG as OTLP_REFUSALS_LOG
from exporter.traces.routes import SPAN_STORE
from exporter.traces.span_store import SpanStore
from exporter.web import landing, scrape
from exporter.web.auth import basic_auth_middleware
from exporter.web.concurrency import ConcurrencyLimit
from exporter.web.connections import ConnectionLimit, proving_middleware
from exporter.web.errors import json_errors
from exporter.web.ingest import new_refusals_log, post_events
from exporter.web.keys import (
    APPLY_LOCK,
    CONFIG,
    CONNECTIONS,
    INGEST_LIMIT,
    INGEST_REFUSALS_LOG,
    INGEST_TOKEN,
    REGISTRY,
    SAMPLER,
    SCRAPE_LIMIT,
    SELF_METRICS,
    TRACKER,
    WEB_CONFIG,
)
from exporter.web.web_config import BasicAuth, WebConfigFile, load_web_config
from exporter.workflows.metrics import SelfMetrics, WorkflowMetrics, new_registry
from exporter.workflows.tracker import WorkflowTracker

log = logging.getLogger(__name__)

MAX_EXPIRY_SWEEP_SECONDS = 15.0


def expiry_sweep_interval(config: Config) -> float:
    """How often to look for expired workflows: a quarter of the TTL, at most 15 s."""
    return min(config.workflow_ttl / 4, MAX_EXPIRY_SWEEP_SECONDS)


async def _every(interval: float, sweep: Callable[[], None]) -> None:
    while True:
        await asyncio.sleep(interval)
        sweep()


async def _background_tasks(app: web.Application) -> AsyncIterator[None]:
    """The sampler and the expiry sweeps run for the application's lifetime."""
    config = app[CONFIG]
    tasks = [
        asyncio.create_task(app[SAMPLER].run()),
        asyncio.create_task(_every(expiry_sweep_interval(config), app[TRACKER].expire)),
    ]
    if SPAN_STORE in app:
        interval = min(config.otlp.series_expiry / 4, MAX_EXPIRY_SWEEP_SECONDS)
        tasks.append(asyncio.create_task(_every(interval, app[SPAN_STORE].expire)))
    yield
    for task in tasks:
        task.cancel()
    for task in tasks:
        with contextlib.suppress(asyncio.CancelledError):
            await task


def read_config_files(config: Config) -> tuple[WebConfigFile, str | None]:
    """The web config file and the ingest token the config names, read and checked; raises
    ConfigError naming the key. ``check-config`` calls this too, so that it refuses what
    start would refuse."""
    web_config = (
        load_web_config(config.web.config_file) if config.web.config_file else WebConfigFile()
    )
    return web_config, read_token(config)


def create_app(
    config: Config, clock: Callable[[], float] = time.time, sampler: Sampler | None = None
) -> web.Application:
    """Build the application; raises ConfigError when a file the config names is unusable."""
    registry = new_registry()
    self_metrics = SelfMetrics(registry)
    sampler = sampler or Sampler(config, clock=clock)
    registry.register(SystemCollector(sampler, config.thresholds))
    tracker = WorkflowTracker(
        config,
        WorkflowMetrics(registry, config.buckets),
        self_metrics,
        clock,
        resource_usage=WorkflowResourceUsage(sampler),
    )
    web_config, token = read_config_files(config)
    connections = ConnectionLimit(
        config.web.max_connections,
        self_metrics.open_connections.set,
        lambda which: self_metrics.connections_dropped(which).inc(),
    )
    middlewares: list[Middleware] = [proving_middleware(connections), json_errors]
    if web_config.basic_auth_users:
        middlewares.append(basic_auth_middleware(BasicAuth(web_config.basic_auth_users)))
    app = web.Application(middlewares=middlewares)
    app[WEB_CONFIG] = web_config
    app[CONFIG] = config
    app[REGISTRY] = registry
    app[SELF_METRICS] = self_metrics
    app[TRACKER] = tracker
    app[SAMPLER] = sampler
    # once per sampler pass at most: the page polls at that interval
    app[STATUS_CACHE] = StatusCache(interval=max(1.0, config.collection_interval))
    app[SCRAPE_LIMIT] = ConcurrencyLimit(
        "web.max_requests", config.web.max_requests, self_metrics.scrapes_refused.inc
    )
    app[INGEST_REFUSALS_LOG] = new_refusals_log()
    app[APPLY_LOCK] = asyncio.Lock()
    app[CONNECTIONS] = connections
    app[INGEST_LIMIT] = ConcurrencyLimit(
        "max_concurrent_ingest",
        config.max_concurrent_ingest,
        self_metrics.events_rejected("too_many_requests").inc,
    )
    if token is not None:
        app[INGEST_TOKEN] = token
    app.router.add_get("/metrics", scrape.metrics)
    app.router.add_post("/api/v1/events", post_events)
    if config.otlp.enabled:
        app[SPAN_STORE] = SpanStore(config.otlp, registry, clock)
        app[OTLP_REFUSALS_LOG] = LogOnce(logging.getLogger(trace_routes.__name__))
        app.router.add_post("/v1/traces", trace_routes.post_traces)
    for module in (
        landing,
        workflow_routes,
        system_routes,
        dashboard_routes,
        monitoring_routes,
        history,
        status_routes,
    ):
        app.router.add_routes(module.routes)
    app.cleanup_ctx.append(_background_tasks)
    return app
