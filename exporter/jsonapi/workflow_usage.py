"""What the sampler saw while a workflow ran: the sampled part of its ``resource_usage``."""

from __future__ import annotations

from collections.abc import Callable

from exporter.jsonapi.system_json import (
    autobot_cpu_ratio,
    autobot_resident_bytes,
    system_cpu_ratio,
    system_memory_ratio,
    to_mb,
)
from exporter.system.sampler import Sampler
from exporter.system.snapshot import Snapshot
from exporter.system.window_stats import WindowStats
from exporter.units import to_percent

UsageSeries = tuple[str, Callable[[Snapshot], float | None], Callable[[float], float]]

USAGE_SERIES: tuple[UsageSeries, ...] = (
    ("system_cpu_percent", system_cpu_ratio, to_percent),
    ("system_memory_percent", system_memory_ratio, to_percent),
    ("autobot_cpu_percent", autobot_cpu_ratio, to_percent),
    ("autobot_memory_mb", autobot_resident_bytes, to_mb),
)
"""(name, reading of a pass, unit): each gives ``<name>_avg`` and ``<name>_max``."""


class WorkflowResourceUsage:
    """Average and peak of the system and the AutoBot groups over the sampler's passes
    during [start, end], for the tracker at every finish.

    A finish costs the same whatever the workflow's length: each series is folded, once per
    pass, into a ``WindowStats``, which answers any range of passes from a few entries.
    (Summing the passes at each finish cost 17 µs a workflow for workflows of 10-60 s and
    180 µs for 1-30 min, once the ring buffer was full.) Workflows finishing over the same
    passes share one answer: read it, do not change it.
    """

    def __init__(self, sampler: Sampler) -> None:
        self._sampler = sampler
        self._stats = self._new_stats(first=0)
        self._folded = 0
        """Passes folded into the stats: the number of the next one."""
        self._answers: dict[range, dict[str, float]] = {}
        """Answers by range of passes, shared by the workflows finishing over the same
        passes; emptied when a pass is folded in or when it holds as many answers as the
        ring holds passes (most ranges end at the latest pass: one per first pass)."""

    def __call__(self, start: float, end: float) -> dict[str, float] | None:
        """None when no pass was taken during the workflow, nor just before its end."""
        if self._folded != self._sampler.recorded:
            self._fold_new_passes()
        numbers = self._sampler.pass_numbers(start, end)
        if not numbers:
            return None
        answer = self._answers.get(numbers)
        if answer is None:
            if len(self._answers) >= self._sampler.capacity:
                self._answers.clear()
            answer = self._answers[numbers] = self._summarise(numbers)
        return answer

    def _new_stats(self, first: int) -> list[WindowStats]:
        return [WindowStats(self._sampler.capacity, first) for _ in USAGE_SERIES]

    def _fold_new_passes(self) -> None:
        recorded = self._sampler.recorded
        new = self._sampler.passes(range(self._folded, recorded))
        if recorded - len(new) != self._folded:  # passes left the ring before being folded
            self._stats = self._new_stats(first=recorded - len(new))
        for snapshot in new:
            for (_, read, _), stats in zip(USAGE_SERIES, self._stats, strict=True):
                stats.append(read(snapshot))
        self._folded = recorded
        self._answers.clear()

    def _summarise(self, numbers: range) -> dict[str, float]:
        usage: dict[str, float] = {"sampled_points": len(numbers)}
        for (name, _, scale), stats in zip(USAGE_SERIES, self._stats, strict=True):
            summary = stats.stats(numbers)
            if summary is not None:
                count, total, maximum = summary
                usage[f"{name}_avg"] = scale(total / count)
                usage[f"{name}_max"] = scale(maximum)
        return usage
