"""A workflow's sampled usage computed the plain way, every pass read: the oracle of
tests/test_workflow_usage.py and the reference of bench_workflow_usage.py."""

from __future__ import annotations

from exporter.jsonapi.workflow_usage import USAGE_SERIES
from exporter.system.snapshot import Snapshot


def summed(passes: list[Snapshot]) -> dict[str, float]:
    """Average and peak of each series over ``passes``, reading every one."""
    usage: dict[str, float] = {"sampled_points": len(passes)}
    for name, read, scale in USAGE_SERIES:
        values = [value for snapshot in passes if (value := read(snapshot)) is not None]
        if values:
            usage[f"{name}_avg"] = scale(sum(values) / len(values))
            usage[f"{name}_max"] = scale(max(values))
    return usage
