"""Health levels on both sides of each threshold, with the original's message shape."""

from __future__ import annotations

import pytest

from exporter.config import Config, parse_config
from exporter.system.health import evaluate
from exporter.system.snapshot import CpuUsage, DiskUsage, MemoryUsage, Snapshot

THRESHOLDS = Config().thresholds


def cpu(ratio: float) -> Snapshot:
    return Snapshot(0.0, cpu=CpuUsage(ratio, 2, None))


def memory(ratio: float) -> Snapshot:
    return Snapshot(0.0, memory=MemoryUsage(int(ratio * 1_000_000), 1_000_000, None))


def disk(ratio: float, mountpoint: str = "/") -> Snapshot:
    return Snapshot(0.0, disks=(DiskUsage(mountpoint, "/dev/x", "ext4", 1, 2, ratio, 1),))


@pytest.mark.parametrize(
    ("snapshot", "status"),
    [
        (cpu(0.640), "ok"),
        (cpu(0.641), "warning"),
        (cpu(0.800), "warning"),
        (cpu(0.801), "critical"),
        (memory(0.680), "ok"),
        (memory(0.681), "warning"),
        (memory(0.850), "warning"),
        (memory(0.851), "critical"),
        (disk(0.720), "ok"),
        (disk(0.721), "warning"),
        (disk(0.900), "warning"),
        (disk(0.901), "critical"),
    ],
)
def test_levels_are_strictly_above(snapshot, status):
    assert evaluate(snapshot, THRESHOLDS).status == status


def test_messages_name_resource_value_and_threshold():
    report = evaluate(cpu(0.85), THRESHOLDS)
    assert report.critical_alerts == ["cpu_percent: 85.0% (threshold: 80%)"]
    report = evaluate(disk(0.75, "/data"), THRESHOLDS)
    assert report.warnings == ["disk_percent[/data]: 75.0% (approaching threshold: 90%)"]


def test_configured_levels_apply():
    thresholds = parse_config("thresholds: {cpu: {critical: 0.5, warning: 0.1}}").thresholds
    assert evaluate(cpu(0.2), thresholds).status == "warning"
    assert evaluate(cpu(0.51), thresholds).status == "critical"


def test_no_cpu_ratio_yet_is_not_checked():
    assert evaluate(Snapshot(0.0, cpu=CpuUsage(None, 2, None)), THRESHOLDS).status == "ok"
