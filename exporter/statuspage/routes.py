"""``/`` (the status page), ``/api/status`` (its data) and ``/static/`` (its two assets,
read once at start: nothing comes from the internet)."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from exporter.statuspage.data import StatusCache, StatusInputs
from exporter.statuspage.page import render_page
from exporter.web.keys import CONFIG, SAMPLER, SELF_METRICS, TRACKER
from exporter.workflows.families import CounterValue
from exporter.workflows.metrics import Children

STATUS_CACHE = web.AppKey("status_cache", StatusCache)
STATIC = {
    path.name: (path.read_bytes(), content_type)
    for path, content_type in (
        (Path(__file__).parent / "static" / "status.js", "text/javascript"),
        (Path(__file__).parent / "static" / "status.css", "text/css"),
    )
}

routes = web.RouteTableDef()


def _by_label(counter: Children[CounterValue]) -> dict[str, float]:
    """A one-label counter's values by label value."""
    return {values[0]: child.value for values, child in counter.metric.children.items()}


def _inputs(request: web.Request) -> StatusInputs:
    """Lists and numbers taken on the event loop; the status is built from them in a thread."""
    app = request.app
    tracker, sampler, self_metrics = app[TRACKER], app[SAMPLER], app[SELF_METRICS]
    return StatusInputs(
        config=app[CONFIG],
        now=tracker.now(),
        monitoring_active=sampler.active,
        snapshots=list(sampler.history()),
        active=list(tracker.active()),
        history=tracker.history(),
        approvals_pending=tracker.approvals_pending,
        events_accepted=_by_label(self_metrics.events),
        events_rejected=_by_label(self_metrics.events_rejected),
    )


@routes.get("/")
async def status_page(request: web.Request) -> web.Response:
    status = await request.app[STATUS_CACHE].get(lambda: _inputs(request))
    return web.Response(text=render_page(status), content_type="text/html")


@routes.get("/api/status")
async def status_data(request: web.Request) -> web.Response:
    status = await request.app[STATUS_CACHE].get(lambda: _inputs(request))
    return web.json_response(status, headers={"Cache-Control": "no-store"})


@routes.get("/favicon.ico")
async def no_favicon(request: web.Request) -> web.Response:
    """Browsers ask for it on every page, the JSON ones too; there is none, and saying so
    with 204 keeps their consoles free of 404s."""
    return web.Response(status=204)


@routes.get("/static/{name}")
async def static_file(request: web.Request) -> web.Response:
    asset = STATIC.get(request.match_info["name"])
    if asset is None:
        raise web.HTTPNotFound()
    body, content_type = asset
    return web.Response(
        body=body, content_type=content_type, headers={"Cache-Control": "max-age=3600"}
    )
