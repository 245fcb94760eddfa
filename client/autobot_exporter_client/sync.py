"""The threaded client: calls enqueue, a daemon thread posts batches with requests."""

from __future__ import annotations

import atexit
import threading
import time
from typing import Any

import requests

from autobot_exporter_client.core import (
    Batch,
    BatchDelivery,
    ClientSettings,
    client_settings,
    encode_batch,
)
from autobot_exporter_client.recorder import EventRecorder

EXIT_FLUSH_SECONDS = 5.0


def post_batch(
    session: requests.Session, settings: ClientSettings, batch: Batch
) -> tuple[int | None, int | None]:
    """(status, events applied per a 422 reply); status None when the exporter is unreachable."""
    try:
        reply = session.post(
            settings.events_url,
            data=encode_batch(batch),
            headers=settings.headers,
            timeout=settings.request_timeout,
        )
    except requests.RequestException:
        return None, None
    applied = None
    if reply.status_code == 422:
        try:
            body = reply.json()
            applied = int(body.get("accepted", 0)) + int(body.get("duplicates", 0))
        except (ValueError, TypeError):
            applied = 0
    return reply.status_code, applied


class MetricsClient(EventRecorder):
    """``MetricsClient("http://127.0.0.1:9471")``; pending events are flushed at exit."""

    def __init__(self, url: str | None = None, **settings: Any) -> None:
        super().__init__(client_settings(url, settings))
        self._session = requests.Session()
        self._wakeup = threading.Event()
        self._settled = threading.Condition()
        self._in_flight = 0
        self._closing = False
        self._deadline: float | None = None
        self._thread = threading.Thread(
            target=self._run, name="autobot-exporter-client", daemon=True
        )
        self._thread.start()
        atexit.register(self.close, EXIT_FLUSH_SECONDS)

    def _wake(self) -> None:
        self._wakeup.set()

    def _run(self) -> None:
        while True:
            self._wakeup.wait(self.settings.flush_interval)
            self._wakeup.clear()
            while batch := self._take():
                self._deliver(batch)
                with self._settled:
                    self._in_flight = 0
                    self._settled.notify_all()
            if self._closing:
                return

    def _take(self) -> Batch:
        """The next batch, marked in flight in the same step so flush() never sees a gap."""
        with self._settled:
            batch = self._buffer.take(self.settings.batch_size)
            self._in_flight = len(batch)
            return batch

    def _deliver(self, batch: Batch) -> None:
        """Send one batch, retrying until delivered, refused, or close() gives up."""
        delivery = BatchDelivery(batch, self.settings, self._buffer, self.stats)
        while (current := delivery.next_batch()) is not None:
            status, applied = post_batch(self._session, self.settings, current)
            wait = delivery.settle(current, status, applied, self._deadline, time.monotonic())
            if wait:
                time.sleep(wait)

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until everything enqueued so far was sent (or refused); False on timeout."""
        self._wake()
        with self._settled:
            return self._settled.wait_for(
                lambda: not self._buffer and not self._in_flight, timeout=timeout
            )

    def close(self, timeout: float = 10.0) -> None:
        """Send what is pending, for at most ``timeout`` seconds, then stop the thread."""
        if self._closing:
            return
        self._closing = True
        self._deadline = time.monotonic() + timeout
        self._wake()
        self._thread.join(timeout + 1)
        self._session.close()
        self._reads.close()
        atexit.unregister(self.close)
