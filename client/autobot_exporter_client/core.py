"""What the threaded and the asyncio clients share: settings, the bounded buffer, the
retry policy and delivery statistics. No I/O here."""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import random
import threading
from collections import deque
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

log = logging.getLogger("autobot_exporter_client")

Event = dict[str, Any]
Batch = list[Event]


@dataclass(frozen=True)
class ClientSettings:
    url: str = "http://127.0.0.1:9471"
    """The exporter's base URL; events go to ``{url}/api/v1/events``."""
    token: str | None = None
    """Bearer token, when the exporter has ``ingest_token_file`` set."""
    batch_size: int = 500
    """Events per POST; a batch leaves as soon as this many are waiting."""
    flush_interval: float = 0.25
    """Longest wait before a partial batch leaves, in seconds."""
    max_buffered_events: int = 10_000
    """Events waiting to be sent; a call beyond this drops its event (counted, logged once)."""
    max_tracked_workflows: int = 10_000
    """Running workflows followed for end_workflow_tracking's statistics; past it the
    oldest is forgotten (its end returns None)."""
    request_timeout: float = 5.0
    read_timeout: float = 2.0
    """Longest wait of a read method (get_workflow_stats, ...) for the exporter's answer."""
    initial_backoff: float = 0.1
    max_backoff: float = 30.0

    @property
    def events_url(self) -> str:
        return self.url.rstrip("/") + "/api/v1/events"

    @property
    def headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        return headers


def client_settings(url: str | None, overrides: dict[str, Any]) -> ClientSettings:
    """Settings from a client's constructor arguments: the URL, then any field by name."""
    settings = ClientSettings(**overrides)
    return dataclasses.replace(settings, url=url) if url else settings


@dataclass
class DeliveryStats:
    """Counts since the client started; read them to see what monitoring cost or lost."""

    enqueued: int = 0
    delivered: int = 0
    dropped: int = 0
    """Refused because the buffer was full, or still unsent when close() gave up."""
    rejected: int = 0
    """Refused by the exporter as invalid (HTTP 4xx other than 408, 413 and 429)."""
    retries: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, **counts: int) -> None:
        with self._lock:
            for name, count in counts.items():
                setattr(self, name, getattr(self, name) + count)


class EventBuffer:
    """A bounded FIFO shared by the calling threads and the sender.

    A full buffer refuses the new event (the oldest are the most likely to be paired
    already): monitoring must never grow without bound inside the application.
    """

    def __init__(self, capacity: int, stats: DeliveryStats) -> None:
        self._capacity = capacity
        self._stats = stats
        self._events: deque[Event] = deque()
        self._lock = threading.Lock()
        self._full_logged = False
        """A full buffer is logged once (the stats count every drop)."""

    def put(self, event: Event) -> int:
        """Append; returns the new length, or -1 when the event was dropped."""
        with self._lock:
            if len(self._events) < self._capacity:
                self._events.append(event)
                self._stats.enqueued += 1
                return len(self._events)
            self._stats.dropped += 1
        if not self._full_logged:
            self._full_logged = True
            log.warning(
                "autobot-exporter client buffer full (max_buffered_events=%d): dropping events "
                "until the exporter catches up (see client.stats.dropped)",
                self._capacity,
            )
        return -1

    def take(self, count: int) -> Batch:
        with self._lock:
            return [self._events.popleft() for _ in range(min(count, len(self._events)))]

    def __len__(self) -> int:
        return len(self._events)


def _finite_or_null(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _finite_or_null(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_finite_or_null(item) for item in value]
    return value


def encode_batch(batch: Batch) -> bytes:
    """The POST body. A NaN or infinity (a resource reading, say) is sent as null, which
    the exporter refuses for that one event only; plain JSON has no spelling for it, and
    one unreadable body would cost the whole batch."""
    try:
        text = json.dumps(batch, separators=(",", ":"), allow_nan=False)
    except ValueError:
        text = json.dumps(_finite_or_null(batch), separators=(",", ":"))
    return text.encode()


class Outcome(Enum):
    DELIVERED = "delivered"
    RETRY = "retry"
    SPLIT = "split"
    REJECTED = "rejected"


RETRYABLE_STATUSES = frozenset({408, 429})


def classify(status: int | None) -> Outcome:
    """What a reply means for the batch; None is a connection error or timeout."""
    if status is None or status in RETRYABLE_STATUSES or status >= 500:
        return Outcome.RETRY
    if status == 413:
        return Outcome.SPLIT
    if 200 <= status < 300:
        return Outcome.DELIVERED
    return Outcome.REJECTED


def backoff_delay(settings: ClientSettings, attempt: int) -> float:
    """Exponential backoff with jitter (between half and all of the step), so clients
    retrying against a restarted exporter do not arrive in step."""
    ceiling = min(settings.max_backoff, settings.initial_backoff * (2**attempt))
    return random.uniform(ceiling / 2, ceiling)


def settle(
    batch: Batch, status: int | None, stats: DeliveryStats, applied: int | None = None
) -> tuple[Outcome, list[Batch]]:
    """Account for one attempt; returns the outcome and the batches still to send first.

    ``applied`` is the 422 reply's accepted plus duplicates: those events arrived (the exporter
    applies the valid events of a batch), the rest will never be.
    """
    outcome = classify(status)
    if outcome is Outcome.DELIVERED:
        stats.add(delivered=len(batch))
        return outcome, []
    if outcome is Outcome.RETRY:
        stats.add(retries=1)
        return outcome, [batch]
    if outcome is Outcome.SPLIT and len(batch) > 1:
        middle = len(batch) // 2
        return outcome, [batch[:middle], batch[middle:]]
    applied = applied or 0
    stats.add(delivered=applied, rejected=len(batch) - applied)
    log.warning(
        "autobot-exporter refused %d event(s) with HTTP %s; not resending",
        len(batch) - applied,
        status,
    )
    return Outcome.REJECTED, []


class BatchDelivery:
    """One batch's way to the exporter, the same for the threaded and the asyncio sender:
    each attempt is settled, a retry waits with backoff, a 413 splits the batch, and past
    the close() deadline everything still waiting is dropped and counted."""

    def __init__(
        self, batch: Batch, settings: ClientSettings, buffer: EventBuffer, stats: DeliveryStats
    ) -> None:
        self._pending = [batch]
        self._settings = settings
        self._buffer = buffer
        self._stats = stats
        self._attempt = 0

    def next_batch(self) -> Batch | None:
        return self._pending.pop(0) if self._pending else None

    def settle(
        self,
        batch: Batch,
        status: int | None,
        applied: int | None,
        deadline: float | None,
        now: float,
    ) -> float:
        """Account for an attempt; returns how long to wait before the next one."""
        outcome, again = settle(batch, status, self._stats, applied)
        self._pending[:0] = again
        if outcome is not Outcome.RETRY:
            self._attempt = 0
            return 0.0
        delay = backoff_delay(self._settings, self._attempt)
        self._attempt += 1
        if deadline is not None and now + delay > deadline:
            unsent = sum(len(b) for b in self._pending) + len(self._buffer.take(len(self._buffer)))
            self._stats.add(dropped=unsent)
            self._pending.clear()
            return 0.0
        return delay
