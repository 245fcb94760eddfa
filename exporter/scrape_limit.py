"""node_exporter's ``--web.max-requests``: at most ``web.max_requests`` /metrics renders at
once. Each render holds a worker thread and a copy of the exposition; without a limit, a
scraper loop gone wrong would queue them without bound."""

from __future__ import annotations

import logging

from prometheus_client import Counter

log = logging.getLogger(__name__)


class ScrapeLimit:
    """Used on the event loop only, so a plain count is enough."""

    def __init__(self, max_requests: int, refused: Counter) -> None:
        self._max_requests = max_requests
        self._refused = refused
        self._in_flight = 0
        self._logged = False

    def try_acquire(self) -> bool:
        if self._max_requests and self._in_flight >= self._max_requests:
            self._refused.inc()
            if not self._logged:
                self._logged = True
                log.warning(
                    "web.max_requests=%d parallel /metrics requests reached: further ones get "
                    "503 (autobot_exporter_scrapes_refused_total)",
                    self._max_requests,
                )
            return False
        self._in_flight += 1
        return True

    def release(self) -> None:
        self._in_flight -= 1
