"""Repeated trouble logged once per cause: a full buffer or a failing call can repeat
thousands of times a second; ``client.stats`` counts them, the log names them once."""

from __future__ import annotations

import logging
from collections.abc import Hashable


class LogOnce:
    """The causes logged so far; one instance per client."""

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
    ) -> None:
        """Log ``message`` the first time ``cause`` comes, never again."""
        if cause not in self._logged:
            self._logged.add(cause)
            self._log.log(level, message, *args, exc_info=exc_info)
