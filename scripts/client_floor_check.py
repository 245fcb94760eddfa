"""The client at its own lowest dependency versions (requests, aiohttp for the aio extra),
installed alone: both clients deliver events with the documented shape to a small aiohttp
server in this process. Run by scripts/lowest-versions.sh in a venv holding nothing else."""

from __future__ import annotations

import asyncio
import json
import socket
import threading

from aiohttp import web
from autobot_exporter_client import AsyncMetricsClient, MetricsClient

received: list[dict] = []


async def accept(request: web.Request) -> web.Response:
    received.extend(json.loads(await request.read()))
    return web.json_response({"accepted": 1, "duplicates": 0}, status=202)


def serve(port: int, ready: threading.Event) -> None:
    async def run() -> None:
        app = web.Application()
        app.router.add_post("/api/v1/events", accept)
        runner = web.AppRunner(app)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        ready.set()
        await asyncio.sleep(3600)

    asyncio.run(run())


def main() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    ready = threading.Event()
    threading.Thread(target=serve, args=(port, ready), daemon=True).start()
    assert ready.wait(10)
    url = f"http://127.0.0.1:{port}"
    client = MetricsClient(url)
    client.start_workflow_tracking("floor-1", {"complexity": "research"})
    client.end_step_timing("floor-1", "s1", success=False, error=TimeoutError())
    assert client.flush(10), client.stats

    async def with_the_async_client() -> None:
        async with AsyncMetricsClient(url) as metrics:
            metrics.end_workflow_tracking("floor-1", "completed")
            assert await metrics.flush(10), metrics.stats

    asyncio.run(with_the_async_client())
    kinds = [(event["type"], event.get("error_type")) for event in received]
    assert kinds == [
        ("workflow_started", None),
        ("step_finished", "TimeoutError"),
        ("workflow_finished", None),
    ], received
    print(f"client at its floors delivered {len(received)} events")


if __name__ == "__main__":
    main()
