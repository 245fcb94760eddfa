"""A stand-in exporter that answers every event POST after a delay, counting events.

python tests/support/slow_server.py PORT DELAY_SECONDS
"""

from __future__ import annotations

import asyncio
import json
import sys

from aiohttp import web


def make_app(delay: float) -> web.Application:
    received = {"events": 0}

    async def events(request: web.Request) -> web.Response:
        batch = json.loads(await request.read())
        await asyncio.sleep(delay)
        received["events"] += len(batch) if isinstance(batch, list) else 1
        return web.json_response({"accepted": len(batch), "duplicates": 0}, status=202)

    async def count(request: web.Request) -> web.Response:
        return web.json_response(received)

    async def ready(request: web.Request) -> web.Response:
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/api/v1/events", events)
    app.router.add_get("/count", count)
    app.router.add_get("/-/ready", ready)
    return app


if __name__ == "__main__":
    web.run_app(
        make_app(float(sys.argv[2])),
        host="127.0.0.1",
        port=int(sys.argv[1]),
        print=None,
        access_log=None,
    )
