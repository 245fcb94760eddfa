"""web.max_requests: renders past the limit get 503 at once and are counted; a freed slot
serves again. The application from create_app on a loopback server, with a collector that
holds its renders open until the test releases them (the process-level tests cannot)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator

import aiohttp
from aiohttp.test_utils import TestServer
from prometheus_client.core import GaugeMetricFamily, Metric

from exporter.app import create_app
from exporter.config import parse_config
from exporter.web.keys import REGISTRY


class HeldCollector:
    """A collector whose renders wait for ``release``, counting how many have begun."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self._begun = 0
        self._changed = threading.Condition()

    def describe(self) -> list[Metric]:
        return []

    def collect(self) -> Iterator[Metric]:
        with self._changed:
            self._begun += 1
            self._changed.notify_all()
        self.release.wait(10)
        yield GaugeMetricFamily("held_render", "A render held open by the test.", value=1)

    def wait_for_renders(self, count: int) -> bool:
        with self._changed:
            return self._changed.wait_for(lambda: self._begun >= count, timeout=10)


async def serve(config_text: str) -> tuple[TestServer, HeldCollector]:
    app = create_app(parse_config(config_text))
    held = HeldCollector()
    app[REGISTRY].register(held)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    return server, held


async def refused_while_one_render_is_held() -> tuple[int, int, int, str]:
    server, held = await serve("web: {max_requests: 1}")
    try:
        async with aiohttp.ClientSession() as session:
            url = str(server.make_url("/metrics"))
            first = asyncio.create_task(session.get(url))
            assert await asyncio.to_thread(held.wait_for_renders, 1)
            parallel = await session.get(url)  # answered while the first is still held
            held.release.set()
            first_status = (await first).status
            later = await session.get(url)
            return first_status, parallel.status, later.status, await later.text()
    finally:
        held.release.set()
        await server.close()


async def parallel_renders_without_a_limit() -> tuple[int, int]:
    server, held = await serve("web: {max_requests: 0}")
    try:
        async with aiohttp.ClientSession() as session:
            url = str(server.make_url("/metrics"))
            requests = [asyncio.create_task(session.get(url)) for _ in range(2)]
            assert await asyncio.to_thread(held.wait_for_renders, 2)
            held.release.set()
            first, second = [await request for request in requests]
            return first.status, second.status
    finally:
        held.release.set()
        await server.close()


def test_a_render_past_the_limit_gets_503_at_once_and_is_counted():
    first, parallel, later, body = asyncio.run(refused_while_one_render_is_held())
    assert (first, parallel, later) == (200, 503, 200)
    assert "autobot_exporter_scrapes_refused_total 1.0" in body


def test_zero_means_no_limit():
    assert asyncio.run(parallel_renders_without_a_limit()) == (200, 200)
