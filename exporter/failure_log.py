"""Repeated failures logged once: the first failure of each thing, then its recovery, not
every attempt in between (a scrape or sampling pass every few seconds would flood the log)."""

from __future__ import annotations

import logging


class FailureLog:
    """``subject`` names what fails, before the thing's name: ``"sampling"``, ``"statvfs of"``."""

    def __init__(self, logger: logging.Logger, subject: str) -> None:
        self._log = logger
        self._subject = subject
        self._failing: set[str] = set()

    def failed(self, name: str, error: Exception) -> None:
        if name not in self._failing:
            self._failing.add(name)
            self._log.warning(
                "%s %s failed (logged once until it recovers): %r", self._subject, name, error
            )

    def succeeded(self, name: str) -> None:
        if name in self._failing:
            self._failing.discard(name)
            self._log.info("%s %s recovered", self._subject, name)
