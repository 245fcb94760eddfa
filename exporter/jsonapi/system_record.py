"""One sampling pass as the original SystemResourceMonitor recorded it: the record that
``/api/metrics/export/system`` gives as ``latest_metrics`` and in ``resource_history``.

Values the pass could not read are null, keys are always there. Where the exporter measures
differently from the original it says so in docs/json-api.md: memory in use is total minus
available, disk is the root filesystem with df's percent, network counts the interfaces the
sampler reports, and the process list is the configured groups' processes, bounded by
``max_listed_processes``.
"""

from __future__ import annotations

from typing import Any

from exporter.jsonapi.system_json import autobot_resident_bytes, to_mb
from exporter.system.snapshot import (
    CpuUsage,
    DiskIo,
    DiskUsage,
    MemoryUsage,
    NetworkCounters,
    ProcessUsage,
    Snapshot,
    SwapUsage,
)
from exporter.units import iso_time, to_percent

GB = 1024**3


def to_gb(value: float) -> float:
    return round(value / GB, 2)


def _cpu(cpu: CpuUsage | None) -> dict[str, Any]:
    if cpu is None:
        return {"percent": None, "count": None, "frequency_mhz": None}
    return {
        "percent": None if cpu.ratio is None else to_percent(cpu.ratio),
        "count": cpu.logical_cpus,
        "frequency_mhz": cpu.frequency_mhz,
    }


def _memory(memory: MemoryUsage | None) -> dict[str, Any]:
    if memory is None:
        return {"total_mb": None, "available_mb": None, "used_mb": None, "percent": None}
    return {
        "total_mb": to_mb(memory.total_bytes),
        "available_mb": to_mb(memory.available_bytes),
        "used_mb": to_mb(memory.used_bytes),
        "percent": to_percent(memory.ratio),
    }


def _swap(swap: SwapUsage | None) -> dict[str, Any]:
    if swap is None:
        return {"total_mb": None, "used_mb": None, "percent": None}
    return {
        "total_mb": to_mb(swap.total_bytes),
        "used_mb": to_mb(swap.used_bytes),
        "percent": to_percent(swap.ratio),
    }


def _disk(disk: DiskUsage | None, io: DiskIo | None) -> dict[str, Any]:
    return {
        "total_gb": None if disk is None else to_gb(disk.total_bytes),
        "used_gb": None if disk is None else to_gb(disk.used_bytes),
        "free_gb": None if disk is None else to_gb(disk.free_bytes),
        "percent": None if disk is None else to_percent(disk.ratio),
        "io": {
            "read_mb": None if io is None else to_mb(io.read_bytes),
            "write_mb": None if io is None else to_mb(io.write_bytes),
        },
    }


def _network(interfaces: dict[str, NetworkCounters]) -> dict[str, Any]:
    counters = interfaces.values()
    return {
        "bytes_sent_mb": to_mb(sum(c.transmit_bytes for c in counters)),
        "bytes_recv_mb": to_mb(sum(c.receive_bytes for c in counters)),
        "packets_sent": sum(c.transmit_packets for c in counters),
        "packets_recv": sum(c.receive_packets for c in counters),
    }


def _process(process: ProcessUsage, memory: MemoryUsage | None) -> dict[str, Any]:
    """``memory_percent`` against the memory the sampler reports (the cgroup limit when
    there is one)."""
    share = None
    if memory is not None and memory.total_bytes:
        share = to_percent(process.resident_bytes / memory.total_bytes)
    return {
        "pid": process.pid,
        "name": process.name,
        "cpu_percent": process.cpu_percent,
        "memory_percent": share,
        "memory_mb": to_mb(process.resident_bytes),
    }


def original_record(snapshot: Snapshot) -> dict[str, Any]:
    """The original's record of one pass, plus ``autobot_processes_unlisted``. The totals
    count every process of the groups, listed or not."""
    processes = snapshot.processes.processes
    return {
        "timestamp": iso_time(snapshot.timestamp),
        "cpu": _cpu(snapshot.cpu),
        "memory": _memory(snapshot.memory),
        "swap": _swap(snapshot.swap),
        "disk": _disk(snapshot.main_disk, snapshot.disk_io),
        "network": _network(snapshot.network),
        "autobot_processes": [_process(p, snapshot.memory) for p in processes],
        "total_autobot_memory_mb": to_mb(autobot_resident_bytes(snapshot)),
        "total_autobot_cpu_percent": snapshot.processes.cpu_percent,
        "autobot_processes_unlisted": snapshot.processes.unlisted,
    }
