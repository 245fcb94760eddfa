"""Conversions between what the exporter keeps (unix seconds, seconds, ratios 0..1) and
what people and AutoBot's original JSON read (ISO time, milliseconds, percent 0-100)."""

from __future__ import annotations

import math
from datetime import UTC, datetime


def iso_time(ts: float | None) -> str | None:
    """Unix seconds as ISO 8601 in UTC, or None."""
    return None if ts is None else datetime.fromtimestamp(ts, tz=UTC).isoformat()


def to_ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000.0, 3)


def to_percent(ratio: float) -> float:
    """A ratio as the original's percent, two decimals: 0.8512 -> 85.12."""
    return round(ratio * 100.0, 2)


def percent_text(ratio: float) -> str:
    """A level as people write it, without the sign: 0.8 -> "80", 0.645 -> "64.5"."""
    return f"{ratio * 100:g}"


def percentile(values: list[float], q: float) -> float:
    """Linear-interpolated percentile (q in 0..1) of a non-empty list, like numpy's default."""
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)
