"""Bounds on requests in progress at once: ``web.max_requests`` for /metrics renders
(node_exporter's ``--web.max-requests``) and ``max_concurrent_ingest`` for event bodies.
Each render holds a worker thread and a copy of the exposition, each ingest up to
``max_body_bytes`` of body; without a bound, many at once would add up without limit.
A request past the bound is answered 503 at once, counted, and logged once."""

from __future__ import annotations

import logging
from collections.abc import Callable

from exporter.log_once import LogOnce

log = logging.getLogger(__name__)


class ConcurrencyLimit:
    """Used on the event loop only, so a plain count is enough. ``limit`` 0: no limit."""

    def __init__(self, setting: str, limit: int, on_refused: Callable[[], object]) -> None:
        self.setting = setting
        self.limit = limit
        self._on_refused = on_refused
        self._in_flight = 0
        self._log_once = LogOnce(log)

    def try_acquire(self) -> bool:
        if self.limit and self._in_flight >= self.limit:
            self._on_refused()
            self._log_once.first(
                self.setting,
                "%s=%d requests in progress reached: further ones get 503 until one ends",
                self.setting,
                self.limit,
            )
            return False
        self._in_flight += 1
        return True

    def release(self) -> None:
        self._in_flight -= 1

    def refusal(self, what: str) -> str:
        """The 503 message, naming the setting."""
        return f"{self.limit} {what} already in progress ({self.setting}); try again shortly"
