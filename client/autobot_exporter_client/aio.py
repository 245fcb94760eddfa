"""The asyncio client, for AutoBot's async backend: calls enqueue, a task posts batches
with aiohttp on the running loop."""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import threading
import time
from types import TracebackType
from typing import Any

import aiohttp
import requests

from autobot_exporter_client.core import Batch, BatchDelivery, client_settings, encode_batch, settle
from autobot_exporter_client.recorder import EventRecorder
from autobot_exporter_client.sync import post_batch


class AsyncMetricsClient(EventRecorder):
    """``async with AsyncMetricsClient(url) as client: ...``, or ``await client.start()``
    and ``await client.close()``. Its methods are plain (non-async) calls that only
    enqueue, safe from the loop and from other threads."""

    def __init__(self, url: str | None = None, **settings: Any) -> None:
        super().__init__(client_settings(url, settings))
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: int | None = None
        self._wakeup: asyncio.Event | None = None
        self._settled: asyncio.Condition | None = None
        self._session: aiohttp.ClientSession | None = None
        self._task: asyncio.Task | None = None
        self._in_flight = 0
        self._deadline: float | None = None
        atexit.register(self._send_leftovers)

    async def start(self) -> AsyncMetricsClient:
        self._loop = asyncio.get_running_loop()
        self._loop_thread = threading.get_ident()
        self._wakeup = asyncio.Event()
        self._settled = asyncio.Condition()
        self._session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=self.settings.request_timeout)
        )
        self._task = asyncio.create_task(self._run(), name="autobot-exporter-client")
        return self

    async def __aenter__(self) -> AsyncMetricsClient:
        return await self.start()

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        await self.close()

    def _wake(self) -> None:
        if self._loop is None or self._wakeup is None:
            return
        if threading.get_ident() == self._loop_thread:
            self._wakeup.set()
        else:
            self._loop.call_soon_threadsafe(self._wakeup.set)

    async def _run(self) -> None:
        assert self._wakeup is not None and self._settled is not None
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), self.settings.flush_interval)
            self._wakeup.clear()
            while batch := self._buffer.take(self.settings.batch_size):
                self._in_flight = len(batch)
                await self._deliver(batch)
                async with self._settled:
                    self._in_flight = 0
                    self._settled.notify_all()
            if self._deadline is not None:
                return

    async def _post(self, batch: Batch) -> tuple[int | None, int | None]:
        assert self._session is not None
        try:
            async with self._session.post(
                self.settings.events_url,
                data=encode_batch(batch),
                headers=self.settings.headers,
            ) as reply:
                applied = None
                if reply.status == 422:
                    body = await reply.json(content_type=None)
                    applied = int(body.get("accepted", 0)) + int(body.get("duplicates", 0))
                return reply.status, applied
        except (aiohttp.ClientError, TimeoutError, ValueError):
            return None, None

    async def _deliver(self, batch: Batch) -> None:
        delivery = BatchDelivery(batch, self.settings, self._buffer, self.stats)
        while (current := delivery.next_batch()) is not None:
            status, applied = await self._post(current)
            wait = delivery.settle(current, status, applied, self._deadline, time.monotonic())
            if wait:
                await asyncio.sleep(wait)

    async def flush(self, timeout: float = 10.0) -> bool:
        """Wait until everything enqueued so far was sent (or refused); False on timeout."""
        if self._settled is None:
            return not self._buffer
        self._wake()
        async with self._settled:
            try:
                await asyncio.wait_for(
                    self._settled.wait_for(lambda: not self._buffer and not self._in_flight),
                    timeout,
                )
            except TimeoutError:
                return False
        return True

    async def close(self, timeout: float = 10.0) -> None:
        """Send what is pending, for at most ``timeout`` seconds, then stop."""
        if self._task is None or self._deadline is not None:
            return
        self._deadline = time.monotonic() + timeout
        self._wake()
        with contextlib.suppress(TimeoutError, asyncio.CancelledError):
            await asyncio.wait_for(self._task, timeout + 1)
        if self._session is not None:
            await self._session.close()
        self._reads.close()
        atexit.unregister(self._send_leftovers)

    def _send_leftovers(self) -> None:
        """At interpreter exit the loop is gone: send what is left with a blocking POST."""
        with requests.Session() as session:
            while batch := self._buffer.take(self.settings.batch_size):
                status, applied = post_batch(session, self.settings, batch)
                settle(batch, status, self.stats, applied)
