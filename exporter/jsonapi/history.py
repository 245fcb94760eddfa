"""``GET /api/metrics/system/history?duration=1h&step=15s``: AutoBot's current router
answers it from Prometheus range queries. Here the sampler's ring buffer answers the
windows it holds (``resource_history``, 1 h by default); a longer window is asked of the
Prometheus at ``history_prometheus_url`` when one is configured, else the ring buffer
answers what it has. ``source`` in the answer says which.
"""

from __future__ import annotations

from typing import Any

import aiohttp
from aiohttp import web

from exporter.config_types import parse_duration
from exporter.jsonapi.context import window_snapshots
from exporter.units import iso_time, to_percent
from exporter.web.errors import QueryError
from exporter.web.keys import CONFIG, TRACKER

DURATIONS = ("15m", "1h", "6h", "1d", "7d")
MAX_POINTS = 11_000
"""Prometheus' own bound on a range query's points."""
PROMETHEUS_TIMEOUT_SECONDS = 10.0

Series = list[dict[str, Any]]

routes = web.RouteTableDef()


def _query_duration(request: web.Request, name: str, default: str, allowed: tuple = ()) -> float:
    raw = request.query.get(name, default)
    if allowed and raw not in allowed:
        message = f"Input should be {', '.join(repr(a) for a in allowed)}"
        raise QueryError(name, "literal_error", message, raw, {"expected": ", ".join(allowed)})
    try:
        return parse_duration(raw)
    except ValueError:  # ConfigError is one too
        message = "Input should be a duration such as 15s, 1m or 5m"
        raise QueryError(name, "duration_parsing", message, raw) from None


def _ring_buffer(request: web.Request, start: float, step: float) -> tuple[Series, Series]:
    """The latest pass in each step, oldest first."""
    chosen: dict[int, Any] = {}
    for snapshot in window_snapshots(request, start):
        chosen[int((snapshot.timestamp - start) // step)] = snapshot
    cpu, memory = [], []
    for snapshot in chosen.values():
        moment = iso_time(snapshot.timestamp)
        if snapshot.cpu is not None and snapshot.cpu.ratio is not None:
            cpu.append({"timestamp": moment, "value": to_percent(snapshot.cpu.ratio)})
        if snapshot.memory is not None:
            memory.append({"timestamp": moment, "value": to_percent(snapshot.memory.ratio)})
    return cpu, memory


async def _prometheus(
    url: str, selector: str, start: float, end: float, step: float
) -> tuple[Series, Series]:
    """Range queries of the sidecar's ratios (averaged over the instances the selector
    matches), as AutoBot's router makes them of its own names."""
    timeout = aiohttp.ClientTimeout(total=PROMETHEUS_TIMEOUT_SECONDS)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        answers = []
        for metric in ("autobot_system_cpu_usage_ratio", "autobot_system_memory_usage_ratio"):
            params = {
                "query": f"avg({metric}{{{selector}}}) * 100",
                "start": str(start),
                "end": str(end),
                "step": str(step),
            }
            async with session.get(url.rstrip("/") + "/api/v1/query_range", params=params) as reply:
                reply.raise_for_status()
                result = (await reply.json())["data"]["result"]
            values = result[0]["values"] if result else []
            answers.append(
                [{"timestamp": iso_time(float(t)), "value": round(float(v), 2)} for t, v in values]
            )
    return answers[0], answers[1]


@routes.get("/api/metrics/system/history")
async def system_history(request: web.Request) -> web.Response:
    duration = _query_duration(request, "duration", "1h", DURATIONS)
    step = _query_duration(request, "step", "15s")
    if duration / step > MAX_POINTS:
        message = f"Input should give at most {MAX_POINTS} points (duration / step)"
        raise QueryError("step", "too_many_points", message, request.query.get("step", "15s"))
    config = request.app[CONFIG]
    end = request.app[TRACKER].now()
    start = end - duration
    source = "ring_buffer"
    if duration > config.resource_history and config.history_prometheus_url:
        try:
            cpu, memory = await _prometheus(
                config.history_prometheus_url, config.rules.selector, start, end, step
            )
            source = "prometheus"
        except (aiohttp.ClientError, TimeoutError, KeyError, ValueError) as error:
            return web.json_response(
                {"success": False, "message": f"Prometheus range query failed: {error!r}"},
                status=502,
            )
    else:
        cpu, memory = _ring_buffer(request, start, step)
    answer = {
        "success": True,
        "cpu_history": cpu,
        "memory_history": memory,
        "time_range": {"start": iso_time(start), "end": iso_time(end)},
        "source": source,
        "step_seconds": step,
    }
    if source == "ring_buffer" and duration > config.resource_history:
        answer["note"] = (
            f"the ring buffer holds {config.resource_history:g}s (resource_history); set "
            "history_prometheus_url for longer windows"
        )
    return web.json_response(answer)
