"""Host readings through psutil, each a small piece the sampler times and may see fail.

``ps`` is the psutil module by default; tests hand in a stand-in with the same functions.
"""

from __future__ import annotations

import os
import re
from types import ModuleType
from typing import Any

import psutil

from exporter.config import NetworkConfig
from exporter.system.cgroup import CgroupReading
from exporter.system.snapshot import CpuUsage, DiskIo, MemoryUsage, NetworkCounters, SwapUsage


def available_cpus(cgroup: CgroupReading, ps: ModuleType | Any = psutil) -> float:
    """The CPU quota when there is one, else the CPUs this process may run on."""
    if cgroup.cpu_limit_cores is not None:
        return cgroup.cpu_limit_cores
    try:
        return float(len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return float(ps.cpu_count() or 1)


class CpuReader:
    """Busy share between two passes: of the host, or of the quota under a cgroup limit."""

    def __init__(self, ps: ModuleType | Any = psutil) -> None:
        self._ps = ps
        self._previous: tuple[float, float] | None = None
        self._previous_cgroup: tuple[float, float] | None = None

    def read(self, cgroup: CgroupReading, now: float) -> CpuUsage:
        ratio = self._busy_ratio(cgroup, now)
        frequency = self._ps.cpu_freq()
        return CpuUsage(
            ratio,
            available_cpus(cgroup, self._ps),
            cgroup.cpu_limit_cores,
            logical_cpus=self._ps.cpu_count(),
            frequency_mhz=frequency.current if frequency else None,
        )

    def _busy_ratio(self, cgroup: CgroupReading, now: float) -> float | None:
        if cgroup.cpu_limit_cores is not None and cgroup.cpu_usage_seconds is not None:
            ratio = None
            if self._previous_cgroup is not None:
                used_before, when_before = self._previous_cgroup
                elapsed = now - when_before
                if elapsed > 0:
                    ratio = (cgroup.cpu_usage_seconds - used_before) / (
                        elapsed * cgroup.cpu_limit_cores
                    )
            self._previous_cgroup = (cgroup.cpu_usage_seconds, now)
            return _clamp(ratio)
        times = self._ps.cpu_times()
        total = sum(times)
        idle = times.idle + getattr(times, "iowait", 0.0)
        ratio = None
        if self._previous is not None:
            total_before, idle_before = self._previous
            if total > total_before:
                ratio = 1.0 - (idle - idle_before) / (total - total_before)
        self._previous = (total, idle)
        return _clamp(ratio)


def _clamp(ratio: float | None) -> float | None:
    return None if ratio is None else min(1.0, max(0.0, ratio))


def read_memory(cgroup: CgroupReading, ps: ModuleType | Any = psutil) -> MemoryUsage:
    if cgroup.memory_limit_bytes is not None and cgroup.memory_used_bytes is not None:
        return MemoryUsage(
            cgroup.memory_used_bytes, cgroup.memory_limit_bytes, cgroup.memory_limit_bytes
        )
    memory = ps.virtual_memory()
    return MemoryUsage(memory.total - memory.available, memory.total, None)


def read_swap(ps: ModuleType | Any = psutil) -> SwapUsage:
    swap = ps.swap_memory()
    return SwapUsage(swap.used, swap.total)


def read_disk_io(ps: ModuleType | Any = psutil) -> DiskIo:
    """All disks since boot; zero where the kernel reports none (some containers)."""
    counters = ps.disk_io_counters()
    return DiskIo(counters.read_bytes, counters.write_bytes) if counters else DiskIo(0, 0)


def read_network(
    config: NetworkConfig, ps: ModuleType | Any = psutil
) -> dict[str, NetworkCounters]:
    exclude = re.compile(config.devices_exclude)
    return {
        name: NetworkCounters(
            counters.bytes_recv, counters.bytes_sent, counters.packets_recv, counters.packets_sent
        )
        for name, counters in sorted(ps.net_io_counters(pernic=True).items())
        if not exclude.search(name)
    }


def read_load() -> tuple[float, float, float]:
    return os.getloadavg()
