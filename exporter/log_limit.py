"""Log lines per cause are bounded, whatever the peers send.

A hostile or broken client can make the server log a line per bad request (web/server.py
logs a malformed request as one WARNING line naming the cause), and a file-descriptor
shortage makes asyncio's accept loop log one per attempt: a hundred thousand lines in
seconds. ``RepeatLimit`` sits on the log handler: the first record of each cause passes;
later ones within ``interval`` are counted and held back, and the first one after it
passes with how many were held back.

A record's cause is its logger, its message template (never the formatted text, which may
carry a peer's bytes), its exception's class, and the ``LOG_CAUSE`` attribute a caller may
set (``extra={LOG_CAUSE: ...}``) to tell apart causes that share a template.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

DEFAULT_INTERVAL_SECONDS = 60.0
MAX_CAUSES = 1024
"""Causes remembered; past it the memory starts again (one more first line per cause)."""

LOG_CAUSE = "cause"
"""The LogRecord attribute that names a cause beyond the message template."""

Cause = tuple[str, str, str, str]


class RepeatLimit(logging.Filter):
    def __init__(
        self,
        interval: float = DEFAULT_INTERVAL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__()
        self._interval = interval
        self._clock = clock
        self._causes: dict[Cause, tuple[float, int]] = {}
        """cause -> (when its last record passed, records held back since)."""

    def filter(self, record: logging.LogRecord) -> bool:
        cause = _cause(record)
        now = self._clock()
        passed = self._causes.get(cause)
        if passed is not None and now - passed[0] < self._interval:
            self._causes[cause] = (passed[0], passed[1] + 1)
            return False
        if len(self._causes) >= MAX_CAUSES:
            self._causes.clear()
        self._causes[cause] = (now, 0)
        if passed is not None and passed[1]:
            record.msg = f"{record.msg} [and {passed[1]} more like this since the last line]"
        return True


def _cause(record: logging.LogRecord) -> Cause:
    error = record.exc_info[0].__name__ if record.exc_info and record.exc_info[0] else ""
    return (record.name, str(record.msg), error, str(getattr(record, LOG_CAUSE, "")))


def limit_repeats(logger: logging.Logger | None = None) -> None:
    """Put a RepeatLimit on every handler of ``logger`` (the root logger by default)."""
    for handler in (logger or logging.getLogger()).handlers:
        handler.addFilter(RepeatLimit())
