"""Repeated trouble logged once: the first occurrence of each cause, then its recovery,
never every occurrence in between (a full buffer, a failing mount or a refused request
can repeat thousands of times a second; the metrics count them, the log names them).

The client distribution logs its two such causes inline: the two distributions install
apart and neither imports the other.
"""

from __future__ import annotations

import logging
from collections.abc import Hashable


class LogOnce:
    """One instance per kind of trouble; ``cause`` tells apart what is logged separately
    (a setting, a mount point, a refusal reason)."""

    def __init__(self, logger: logging.Logger) -> None:
        self._log = logger
        self._logged: set[Hashable] = set()

    def first(
        self,
        cause: Hashable,
        message: str,
        *args: object,
        level: int = logging.WARNING,
        exc_info: bool = False,
    ) -> bool:
        """Log ``message`` if ``cause`` has not been logged since it last recovered;
        True when it was logged now."""
        if cause in self._logged:
            return False
        self._logged.add(cause)
        self._log.log(level, message, *args, exc_info=exc_info)
        return True

    def recovered(self, cause: Hashable, message: str, *args: object) -> None:
        """Log the recovery of a logged ``cause`` (at INFO); its next failure logs again."""
        if cause in self._logged:
            self._logged.discard(cause)
            self._log.info(message, *args)

    def failed(self, what: str, error: BaseException) -> None:
        """The usual pair for something retried periodically (a sampling piece, a mount)."""
        self.first(what, "%s failed (logged once until it recovers): %r", what, error)

    def succeeded(self, what: str) -> None:
        self.recovered(what, "%s recovered", what)
