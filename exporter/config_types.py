"""The building blocks of the configuration schema: its error, durations, patterns and
the frozen section base every part of the config derives from."""

from __future__ import annotations

import math
import re
from typing import Annotated, Any

import msgspec


class ConfigError(ValueError):
    """A configuration that cannot be used; the message names the key."""


class DurationSeconds(float):
    """A duration in seconds; YAML may give a number or a Prometheus duration like ``1h30m``."""


_DURATION_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d|w)")


def parse_duration(value: object) -> DurationSeconds:
    """Parse a number of seconds or a Prometheus duration string; must be positive."""
    if isinstance(value, bool):
        raise ValueError(f"expected a duration, got {value!r}")
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str) and value and _DURATION_PART.sub("", value) == "":
        seconds = sum(
            float(number) * _DURATION_UNITS[unit] for number, unit in _DURATION_PART.findall(value)
        )
    else:
        raise ValueError(f"expected a duration like 30s, 5m or 1h, got {value!r}")
    if not math.isfinite(seconds) or seconds <= 0:
        raise ValueError(f"a duration must be positive and finite, got {value!r}")
    return DurationSeconds(seconds)


def decode_hook(type_: type, value: Any) -> Any:
    if type_ is DurationSeconds:
        return parse_duration(value)
    if type_ is Pattern:
        return regex(value)
    raise NotImplementedError(type_)


class Pattern(str):
    """A regular expression, compiled once at load so a bad one fails at start."""


def regex(value: object) -> Pattern:
    if not isinstance(value, str):
        raise ValueError(f"expected a regular expression, got {value!r}")
    try:
        re.compile(value)
    except re.error as error:
        raise ValueError(f"invalid regular expression {value!r}: {error}") from None
    return Pattern(value)


BucketList = Annotated[
    tuple[Annotated[float, msgspec.Meta(gt=0)], ...], msgspec.Meta(min_length=1, max_length=64)
]


class Section(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """Base of every config section: immutable, unknown keys rejected."""


Ratio = Annotated[float, msgspec.Meta(gt=0, le=1)]
