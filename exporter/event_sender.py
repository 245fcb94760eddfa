"""A small batched sender of ingest events, for the demo: events wait in a list and leave
as one JSON array every ``interval``, each with a unique ``event_id`` so that a resend
after a lost reply counts once; the queued demo spans leave with them, to ``/v1/traces``.

It uses only what the server installs (aiohttp's client), so ``autobot-exporter demo``
works on a plain ``pip install .``; AutoBot itself uses the client distribution
(``client/``), which does the same with retries, backoff and the original calls.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
import uuid
from dataclasses import dataclass
from typing import Any

import aiohttp

from exporter.demo_spans import TRACES_PATH, SpanQueue

EVENTS_PATH = "/api/v1/events"
ATTEMPTS = 3
"""Tries per batch: a refused connection (the exporter restarting) is retried twice."""


@dataclass
class SendStats:
    delivered: int = 0
    dropped: int = 0


class EventSender:
    """``record`` queues an event; a background task posts the queue every ``interval``, and
    once more when the sender closes."""

    def __init__(
        self,
        url: str,
        token: str | None = None,
        interval: float = 0.25,
        spans: SpanQueue | None = None,
    ) -> None:
        self._url = url.rstrip("/") + EVENTS_PATH
        self._traces_url = url.rstrip("/") + TRACES_PATH
        self._spans = spans
        self._headers = {"Content-Type": "application/json"}
        if token:
            self._headers["Authorization"] = f"Bearer {token}"
        self._interval = interval
        self._queue: list[dict[str, Any]] = []
        self._id_prefix = uuid.uuid4().hex[:12]
        self._ids = itertools.count()
        self.stats = SendStats()
        self._session: aiohttp.ClientSession | None = None
        self._task: asyncio.Task[None] | None = None
        self._closing = asyncio.Event()

    @property
    def pending(self) -> int:
        return len(self._queue)

    def record(self, event_type: str, workflow_id: str, **fields: Any) -> None:
        self._queue.append(
            {
                "type": event_type,
                "workflow_id": workflow_id,
                "event_id": f"{self._id_prefix}-{next(self._ids)}",
                "ts": time.time(),
                **fields,
            }
        )

    async def __aenter__(self) -> EventSender:
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
        self._task = asyncio.create_task(self._send_periodically())
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self._closing.set()
        if self._task is not None:
            await self._task
        if self._session is not None:
            await self._session.close()

    async def flush(self) -> None:
        """Post what is queued now."""
        await self._flush_spans()
        batch, self._queue = self._queue, []
        if not batch:
            return
        assert self._session is not None, "use the sender as an async context manager"
        body = json.dumps(batch).encode()
        for attempt in range(ATTEMPTS):
            try:
                async with self._session.post(self._url, data=body, headers=self._headers) as r:
                    if r.status < 500:
                        reply = await r.json(content_type=None)
                        accepted = reply.get("accepted", 0) + reply.get("duplicates", 0)
                        self.stats.delivered += accepted
                        self.stats.dropped += len(batch) - accepted
                        return
            except (aiohttp.ClientError, TimeoutError, ValueError):
                pass
            await asyncio.sleep(0.5 * (attempt + 1))
        self.stats.dropped += len(batch)

    async def _flush_spans(self) -> None:
        """The queued spans, once: a lost span request only thins the span metrics."""
        body = self._spans.take_request() if self._spans is not None else None
        if body is None:
            return
        assert self._session is not None, "use the sender as an async context manager"
        headers = {**self._headers, "Content-Type": "application/x-protobuf"}
        with contextlib.suppress(aiohttp.ClientError, TimeoutError):
            async with self._session.post(self._traces_url, data=body, headers=headers):
                pass

    async def _send_periodically(self) -> None:
        while not self._closing.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._closing.wait(), self._interval)
            await self.flush()
