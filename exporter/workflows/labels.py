"""Bounded label values: the first N distinct values pass, later ones become ``other``."""

from __future__ import annotations

import logging

from exporter.log_once import LogOnce
from exporter.workflows.families import CounterValue
from exporter.workflows.metrics import Children

OVERFLOW_VALUE = "other"

log = logging.getLogger(__name__)


class LabelValueLimiter:
    """Caps the distinct values one label may take, so a misbehaving client cannot blow up
    the series count. Each value mapped to ``other`` is counted in ``overflow``; the first
    time the cap bites it is logged.

    A value that passes is returned as the limiter's own copy, the first one it saw: records
    that keep it then share one string per agent or complexity instead of each keeping the
    copy its event decoded (tens of thousands of small strings fewer in the history, and
    fewer to free when it turns over)."""

    def __init__(self, label: str, max_values: int, overflow: Children[CounterValue]) -> None:
        self._label = label
        self._max_values = max_values
        self._seen: dict[str, str] = {}
        self._overflow = overflow(label)
        self._log_once = LogOnce(log)

    def __call__(self, value: str) -> str:
        known = self._seen.get(value)
        if known is not None:
            return known
        if len(self._seen) < self._max_values:
            self._seen[value] = value
            return value
        self._overflow.inc()
        self._log_once.first(
            "max_label_values",
            "label %s reached max_label_values=%d; new values such as %r are exported as %r",
            self._label,
            self._max_values,
            value,
            OVERFLOW_VALUE,
        )
        return OVERFLOW_VALUE

    @staticmethod
    def kept(label: str, value: str) -> str:
        """What a record keeps of ``value``, given its ``label``: the shared copy, unless the
        value was exported as ``other``."""
        return value if label is OVERFLOW_VALUE else label
