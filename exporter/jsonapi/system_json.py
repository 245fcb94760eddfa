"""JSON shapes of the system routes, in the original's units (percent, MB, ISO time)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from exporter.system.health import HealthReport
from exporter.system.snapshot import Snapshot
from exporter.units import iso_time, percentile, to_percent

MB = 1024 * 1024
NO_RESOURCE_DATA = "No resource data in time window"
DISK_PERCENT_BASIS = "used / (used + available), as df shows (the original: used / total)"


def to_mb(value: float) -> float:
    return round(value / MB, 2)


def _percent(ratio: float | None) -> float | None:
    return None if ratio is None else to_percent(ratio)


def _mb(value: float | None) -> float | None:
    return None if value is None else to_mb(value)


def system_cpu_ratio(snapshot: Snapshot) -> float | None:
    return snapshot.cpu.ratio if snapshot.cpu else None


def system_memory_ratio(snapshot: Snapshot) -> float | None:
    return snapshot.memory.ratio if snapshot.memory else None


def autobot_cpu_ratio(snapshot: Snapshot) -> float | None:
    """The AutoBot process groups together; None until a CPU delta exists."""
    ratios = [g.cpu_ratio for g in snapshot.groups.values() if g.cpu_ratio is not None]
    return sum(ratios) if ratios else None


def autobot_resident_bytes(snapshot: Snapshot) -> int:
    return sum(group.resident_bytes for group in snapshot.groups.values())


def snapshot_view(snapshot: Snapshot, monitoring_active: bool) -> dict[str, Any]:
    """The original get_current_metrics keys, plus disks, network and process groups."""
    cpu, memory, disk = snapshot.cpu, snapshot.memory, snapshot.main_disk
    return {
        "cpu_percent": _percent(cpu.ratio if cpu else None),
        "memory_mb": _mb(memory.used_bytes if memory else None),
        "memory_percent": _percent(memory.ratio if memory else None),
        "disk_percent": _percent(disk.ratio if disk else None),
        "timestamp": iso_time(snapshot.timestamp),
        "memory_total_mb": _mb(memory.total_bytes if memory else None),
        "memory_limit_mb": _mb(memory.limit_bytes if memory else None),
        "cpus": cpu.cpus if cpu else None,
        "cpu_limit_cores": cpu.limit_cores if cpu else None,
        "load_average": list(snapshot.load) if snapshot.load else None,
        "disks": [
            {
                "mountpoint": d.mountpoint,
                "device": d.device,
                "fstype": d.fstype,
                "used_mb": _mb(d.used_bytes),
                "total_mb": _mb(d.total_bytes),
                "percent": _percent(d.ratio),
            }
            for d in snapshot.disks
        ],
        "network_io": {
            name: {"bytes_recv": c.receive_bytes, "bytes_sent": c.transmit_bytes}
            for name, c in snapshot.network.items()
        },
        "autobot_memory_mb": _mb(autobot_resident_bytes(snapshot)),
        "autobot_cpu_percent": _percent(autobot_cpu_ratio(snapshot)),
        "process_count": sum(group.processes for group in snapshot.groups.values()),
        "autobot_processes": {
            name: {
                "process_count": g.processes,
                "memory_mb": _mb(g.resident_bytes),
                "cpu_percent": _percent(g.cpu_ratio),
                "threads": g.threads,
                "open_fds": g.open_fds,
            }
            for name, g in snapshot.groups.items()
        },
        "monitoring_active": monitoring_active,
    }


def overview_view(snapshot: Snapshot) -> dict[str, Any]:
    """What AutoBot's current frontend reads from ``/api/monitoring/dashboard/overview``:
    network bytes since boot over the interfaces the sampler reports (lo, veth and
    bridges excluded), process_count the AutoBot processes (the seed's meaning)."""
    cpu, memory, disk = snapshot.cpu, snapshot.memory, snapshot.main_disk
    return {
        "cpu_percent": _percent(cpu.ratio if cpu else None),
        "memory_percent": _percent(memory.ratio if memory else None),
        "disk_percent": _percent(disk.ratio if disk else None),
        "network_bytes_sent": sum(c.transmit_bytes for c in snapshot.network.values()),
        "network_bytes_recv": sum(c.receive_bytes for c in snapshot.network.values()),
        "process_count": sum(group.processes for group in snapshot.groups.values()),
        "timestamp": iso_time(snapshot.timestamp),
    }


def health_view(
    report: HealthReport, snapshot: Snapshot, monitoring_active: bool, now: float
) -> dict[str, Any]:
    return {
        "status": report.status,
        "critical_alerts": report.critical_alerts,
        "warnings": report.warnings,
        "current_metrics": snapshot_view(snapshot, monitoring_active),
        "check_timestamp": iso_time(now),
        "monitoring_active": monitoring_active,
        "sample_timestamp": iso_time(snapshot.timestamp),
        "disk_percent_basis": DISK_PERCENT_BASIS,
    }


def _main_disk_ratio(snapshot: Snapshot) -> float | None:
    return snapshot.main_disk.ratio if snapshot.main_disk else None


def _stats(values: list[float], unit: str, scale: Callable[[float], float]) -> dict[str, float]:
    if not values:
        return {}
    return {
        f"avg_{unit}": scale(sum(values) / len(values)),
        f"max_{unit}": scale(max(values)),
        f"min_{unit}": scale(min(values)),
        f"p95_{unit}": scale(percentile(values, 0.95)),
    }


def _series(snapshots: list[Snapshot], read: Callable[[Snapshot], float | None]) -> list[float]:
    return [value for s in snapshots if (value := read(s)) is not None]


def resource_summary(snapshots: Iterable[Snapshot], minutes: int) -> dict[str, Any]:
    """The original resource summary: min/avg/max (and p95) per resource over the window."""
    points = list(snapshots)
    if not points:
        return {"time_window_minutes": minutes, "data_points": 0, "message": NO_RESOURCE_DATA}
    return {
        "time_window_minutes": minutes,
        "data_points": len(points),
        "system": {
            "cpu": _stats(_series(points, system_cpu_ratio), "percent", to_percent),
            "memory": _stats(_series(points, system_memory_ratio), "percent", to_percent),
            "disk": _stats(_series(points, _main_disk_ratio), "percent", to_percent),
        },
        "autobot": {
            "memory": _stats(_series(points, autobot_resident_bytes), "mb", to_mb),
            "cpu": _stats(_series(points, autobot_cpu_ratio), "percent", to_percent),
        },
    }
