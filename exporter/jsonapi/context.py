"""What the JSON routes read from a request: the app's current
state (latest sampler pass, resource and performance summaries, health), shared by the
workflow, system and dashboard routes so that no route module imports another."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

from aiohttp import web

from exporter.jsonapi.summary import performance_summary
from exporter.jsonapi.system_json import health_view, resource_summary
from exporter.system.health import evaluate
from exporter.system.snapshot import Snapshot
from exporter.web.keys import CONFIG, SAMPLER, TRACKER
from exporter.workflows.tracker import WorkflowTracker

NO_SAMPLE_YET = "no system sample yet; the first pass runs at start"


def latest_snapshot(request: web.Request) -> Snapshot:
    """The latest pass; 503 (JSON) in the instant before the first one."""
    snapshot = request.app[SAMPLER].latest
    if snapshot is None:
        raise web.HTTPServiceUnavailable(
            text=json.dumps({"success": False, "message": NO_SAMPLE_YET}),
            content_type="application/json",
        )
    return snapshot


def window_snapshots(request: web.Request, since: float) -> Iterator[Snapshot]:
    """The sampler's passes taken at or after ``since``, oldest first."""
    return request.app[SAMPLER].history(since=since)


def window_resources(request: web.Request, minutes: int) -> dict[str, Any]:
    since = request.app[TRACKER].now() - minutes * 60
    return resource_summary(window_snapshots(request, since), minutes)


def health(request: web.Request, snapshot: Snapshot) -> dict[str, Any]:
    sampler = request.app[SAMPLER]
    report = evaluate(snapshot, request.app[CONFIG].thresholds)
    return health_view(report, snapshot, sampler.active, request.app[TRACKER].now())


async def window_summary(tracker: WorkflowTracker, hours: int) -> dict[str, Any]:
    """The performance summary, computed in a worker thread on the history as it was on
    the loop (decoded in the thread)."""
    history = tracker.history()
    now = tracker.now()
    points = tracker.metric_points.since(now - hours * 3600)
    return await asyncio.to_thread(
        performance_summary, history, tracker.active_count, hours, now, points
    )
