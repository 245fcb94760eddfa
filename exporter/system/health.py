"""Health with the original AutoBot semantics: a resource is critical when strictly above
its critical level and a warning when strictly above its warning level."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from exporter.config import Threshold, ThresholdsConfig
from exporter.system.snapshot import Snapshot
from exporter.units import percent_text

State = Literal["ok", "warning", "critical"]
STATES: tuple[State, ...] = ("ok", "warning", "critical")


@dataclass(frozen=True, slots=True)
class Reading:
    """One checked value: ``cpu_percent``, ``memory_percent`` or ``disk_percent[/mount]``."""

    name: str
    ratio: float
    threshold: Threshold


@dataclass(frozen=True, slots=True)
class HealthReport:
    status: State
    critical_alerts: list[str]
    warnings: list[str]


def readings(snapshot: Snapshot, thresholds: ThresholdsConfig) -> list[Reading]:
    checked = []
    if snapshot.cpu is not None and snapshot.cpu.ratio is not None:
        checked.append(Reading("cpu_percent", snapshot.cpu.ratio, thresholds.cpu))
    if snapshot.memory is not None:
        checked.append(Reading("memory_percent", snapshot.memory.ratio, thresholds.memory))
    for disk in snapshot.disks:
        name = "disk_percent" if disk.mountpoint == "/" else f"disk_percent[{disk.mountpoint}]"
        checked.append(Reading(name, disk.ratio, thresholds.disk))
    return checked


def evaluate(snapshot: Snapshot, thresholds: ThresholdsConfig) -> HealthReport:
    """Messages read like the original's: ``cpu_percent: 85.0% (threshold: 80%)``."""
    critical, warnings = [], []
    for reading in readings(snapshot, thresholds):
        value = f"{reading.name}: {reading.ratio * 100:.1f}%"
        level = reading.threshold
        if reading.ratio > level.critical:
            critical.append(f"{value} (threshold: {percent_text(level.critical)}%)")
        elif reading.ratio > level.warning:
            # the original's words: it names the critical level being approached
            warnings.append(f"{value} (approaching threshold: {percent_text(level.critical)}%)")
    status: State = "critical" if critical else "warning" if warnings else "ok"
    return HealthReport(status, critical, warnings)
