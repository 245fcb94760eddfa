"""Log lines per cause are bounded, whatever the peers send.

A hostile or broken client can make aiohttp log an ERROR traceback per bad request, and a
file-descriptor shortage makes asyncio's accept loop log one per attempt: a hundred
thousand lines in seconds. ``RepeatLimit`` sits on the log handler: the first record of
each cause passes; later ones within ``interval`` are counted and held back, and the
first one after it passes with how many were held back. A client's malformed HTTP is
the client's error, not the exporter's: it is logged as one WARNING line, without the
parser's traceback.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from aiohttp.http_exceptions import HttpProcessingError

DEFAULT_INTERVAL_SECONDS = 60.0
MAX_CAUSES = 1024
"""Causes remembered; past it the memory starts again (one more first line per cause)."""

Cause = tuple[str, str, str]


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
        cause = _client_error_cause(record) or _cause(record)
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
    return (record.name, str(record.msg), error)


def _client_error_cause(record: logging.LogRecord) -> Cause | None:
    """aiohttp's ERROR with traceback for a request it could not parse becomes a WARNING
    line naming what was wrong with it; its cause is that, whoever the peer was."""
    if not (record.exc_info and isinstance(record.exc_info[1], HttpProcessingError)):
        return None
    error = record.exc_info[1]
    # aiohttp's message quotes the offending bytes on its next lines: the peer's content,
    # not the cause, so only its first line names the cause.
    what = f"{error.code} {str(error.message).splitlines()[0][:100]}"
    record.msg = f"{record.getMessage()}: bad HTTP request ({what})"
    record.args = ()
    record.exc_info = None
    record.exc_text = None
    record.levelno, record.levelname = logging.WARNING, "WARNING"
    return (record.name, "bad HTTP request", what)


def limit_repeats(logger: logging.Logger | None = None) -> None:
    """Put a RepeatLimit on every handler of ``logger`` (the root logger by default)."""
    for handler in (logger or logging.getLogger()).handlers:
        handler.addFilter(RepeatLimit())
