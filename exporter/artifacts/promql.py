"""PromQL building blocks shared by the rule modules: a recording rule, an alert, selectors."""

from __future__ import annotations

from dataclasses import dataclass, field

RATE_WINDOW = "5m"
BY_INSTANCE = "cluster, host, job, instance"
"""What every aggregation keeps: the fleet's labels (docs/fleet.md), then the target's. A
single sidecar without cluster and host aggregates the same."""
HOST = "{{ with $labels.host }}{{ . }}{{ else }}{{ $labels.instance }}{{ end }}"
"""The VM an alert is about: its ``host`` label in a fleet, else the scraped instance."""


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
    per_host: bool = True
    """The summary ends naming the host (False: an alert about the whole fleet)."""

    @property
    def rendered_summary(self) -> str:
        return f"{self.summary} on {HOST}" if self.per_host else self.summary


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
