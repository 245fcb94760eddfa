"""PromQL building blocks shared by the rule modules: a recording rule, an alert, selectors."""

from __future__ import annotations

from dataclasses import dataclass, field

RATE_WINDOW = "5m"


@dataclass(frozen=True)
class Alert:
    name: str
    expr: str
    for_seconds: float
    why_for: str
    """Why this ``for:``, written above the rule in the rendered file."""
    severity: str
    summary: str
    description: str
    labels: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Recording:
    record: str
    expr: str
    labels: dict[str, str] = field(default_factory=dict)
    """Static labels the rule adds to what it records."""


class Selectors:
    """``metric{<the config's selector>, <extra matchers>}``."""

    def __init__(self, selector: str) -> None:
        self._selector = selector

    def __call__(self, metric: str, extra: str = "") -> str:
        matchers = ", ".join(m for m in (self._selector, extra) if m)
        return f"{metric}{{{matchers}}}"


def sum_rate(s: Selectors, by: str, metric: str, window: str = RATE_WINDOW) -> str:
    return f"sum by ({by}) (rate({s(metric)}[{window}]))"
