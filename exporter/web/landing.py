"""The landing page and the liveness/readiness endpoints, as node_exporter has them."""

from __future__ import annotations

from html import escape

from aiohttp import web

from exporter import __version__
from exporter.web.keys import SAMPLER, TRACKER

routes = web.RouteTableDef()

LINKS = (
    ("/metrics", "Metrics"),
    ("/api/metrics/dashboard", "Dashboard data (JSON)"),
    ("/api/metrics/performance/summary", "Workflow performance summary (JSON)"),
    ("/api/metrics/export/workflow", "Workflow export (JSON)"),
    ("/api/metrics/system/current", "Current system metrics (JSON)"),
    ("/api/metrics/system/summary", "System resource summary (JSON)"),
    ("/api/metrics/system/health", "System health (JSON)"),
    ("/api/metrics/export/system", "System export (JSON)"),
    ("/api/monitoring/dashboard/overview", "System overview for AutoBot's frontend (JSON)"),
    ("/-/healthy", "Health"),
    ("/-/ready", "Readiness"),
)

_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>AutoBot Exporter</title></head>
<body>
<h1>AutoBot Exporter</h1>
<p>Version {version}. Prometheus exporter for AutoBot workflows, agents, approvals and host
resources. Events are pushed with <code>POST /api/v1/events</code>.</p>
<ul>
{links}
</ul>
</body></html>
"""


@routes.get("/")
async def landing_page(request: web.Request) -> web.Response:
    links = "\n".join(f'<li><a href="{href}">{escape(text)}</a></li>' for href, text in LINKS)
    return web.Response(
        text=_PAGE.format(version=__version__, links=links), content_type="text/html"
    )


@routes.get("/-/healthy")
async def healthy(request: web.Request) -> web.Response:
    return web.Response(text="Healthy.\n")


@routes.get("/-/ready")
async def ready(request: web.Request) -> web.Response:
    """Ready once the sampler has made a pass; 503 again if it stops making them."""
    sampler = request.app[SAMPLER]
    if sampler.is_stale(request.app[TRACKER].now()):
        return web.Response(status=503, text="Not ready: no recent system sample.\n")
    return web.Response(text="Ready.\n")
