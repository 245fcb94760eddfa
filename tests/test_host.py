"""Real psutil readings on this machine against /proc and os.statvfs, and the cgroup-aware
arithmetic with fake readings."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import psutil
import pytest

from exporter.config import NetworkConfig
from exporter.system.cgroup import NO_CGROUP, CgroupReading
from exporter.system.host import (
    CpuReader,
    available_cpus,
    read_disk_io,
    read_load,
    read_memory,
    read_network,
    read_swap,
)

MIB = 1 << 20


def meminfo() -> dict[str, int]:
    values = {}
    for line in Path("/proc/meminfo").read_text().splitlines():
        name, value = line.split(":")
        values[name] = int(value.split()[0]) * 1024
    return values


def test_memory_matches_proc_meminfo():
    reading = read_memory(NO_CGROUP)
    info = meminfo()
    assert reading.total_bytes == info["MemTotal"]
    assert reading.used_bytes == pytest.approx(
        info["MemTotal"] - info["MemAvailable"], abs=64 * MIB
    )
    assert 0 < reading.ratio < 1
    assert reading.limit_bytes is None


def test_memory_against_the_cgroup_limit():
    cgroup = CgroupReading(
        memory_limit_bytes=1000, memory_used_bytes=900, cpu_limit_cores=None, cpu_usage_seconds=None
    )
    reading = read_memory(cgroup)
    assert (reading.ratio, reading.total_bytes, reading.limit_bytes) == (0.9, 1000, 1000)


def test_swap_matches_proc_meminfo():
    before = meminfo()
    reading = read_swap()
    assert reading.total_bytes == before["SwapTotal"]
    assert reading.used_bytes == pytest.approx(
        before["SwapTotal"] - before["SwapFree"], abs=64 * MIB
    )
    assert 0 <= reading.ratio <= 1


def test_disk_io_is_the_kernels_total_and_zero_without_disks():
    reading = read_disk_io()
    assert reading.read_bytes >= 0 and reading.write_bytes >= 0
    assert read_disk_io().read_bytes >= reading.read_bytes

    class NoDisks:
        @staticmethod
        def disk_io_counters():
            return None

    assert (read_disk_io(NoDisks).read_bytes, read_disk_io(NoDisks).write_bytes) == (0, 0)


def proc_net_dev() -> dict[str, tuple[int, ...]]:
    """Per interface: received bytes and packets, transmitted bytes and packets."""
    counters = {}
    for line in Path("/proc/net/dev").read_text().splitlines()[2:]:
        name, data = line.split(":", 1)
        fields = data.split()
        counters[name.strip()] = tuple(int(fields[i]) for i in (0, 1, 8, 9))
    return counters


def test_network_counters_match_proc_net_dev():
    before = proc_net_dev()
    reading = read_network(NetworkConfig(devices_exclude="^$"))
    after = proc_net_dev()
    assert set(reading) == set(after)
    for name, c in reading.items():
        read = (c.receive_bytes, c.receive_packets, c.transmit_bytes, c.transmit_packets)
        for low, value, high in zip(before[name], read, after[name], strict=True):
            assert low <= value <= high


def test_loopback_is_excluded_by_default():
    assert "lo" not in read_network(NetworkConfig())


def test_load_matches_proc_loadavg():
    fields = Path("/proc/loadavg").read_text().split()
    assert read_load() == pytest.approx(tuple(float(f) for f in fields[:3]), abs=0.5)


def proc_stat_cpu() -> tuple[int, int]:
    fields = [int(v) for v in re.split(r"\s+", Path("/proc/stat").read_text().splitlines()[0])[1:]]
    idle = fields[3] + fields[4]
    return sum(fields[:8]), idle


def test_host_cpu_ratio_agrees_with_proc_stat():
    reader = CpuReader()
    total_before, idle_before = proc_stat_cpu()
    assert reader.read(NO_CGROUP, now=1.0).ratio is None
    # work until /proc/stat moved by enough clock ticks (10 ms each) that one tick of
    # difference between its reads and the reader's cannot decide the comparison
    deadline = time.monotonic() + 10
    while proc_stat_cpu()[0] - total_before < 100 and time.monotonic() < deadline:
        sum(i * i for i in range(100_000))
    ratio = reader.read(NO_CGROUP, now=2.0).ratio
    total_after, idle_after = proc_stat_cpu()
    expected = 1 - (idle_after - idle_before) / max(1, total_after - total_before)
    assert 0.0 <= ratio <= 1.0
    assert ratio == pytest.approx(expected, abs=0.25)


def test_cpu_ratio_against_the_quota():
    reader = CpuReader()

    def cgroup(usage):
        return CgroupReading(None, None, cpu_limit_cores=0.5, cpu_usage_seconds=usage)

    first = reader.read(cgroup(10.0), now=100.0)
    second = reader.read(cgroup(10.8), now=102.0)
    assert first.ratio is None
    assert second.ratio == pytest.approx(0.8)
    assert (second.cpus, second.limit_cores) == (0.5, 0.5)


def test_available_cpus_follow_quota_else_affinity():
    assert available_cpus(CgroupReading(None, None, 1.5, 0.0)) == 1.5
    assert available_cpus(NO_CGROUP) == len(os.sched_getaffinity(0))


def test_cpu_count_and_frequency_are_the_hosts():
    reading = CpuReader().read(NO_CGROUP, now=1.0)
    assert reading.logical_cpus == os.cpu_count()
    frequency = psutil.cpu_freq()
    assert reading.frequency_mhz == (frequency and pytest.approx(frequency.current, rel=0.5))


def test_cpu_frequency_is_none_where_the_platform_does_not_tell():
    class NoFrequency:
        cpu_times = staticmethod(psutil.cpu_times)
        cpu_count = staticmethod(psutil.cpu_count)

        @staticmethod
        def cpu_freq():
            return None

    assert CpuReader(NoFrequency).read(NO_CGROUP, now=1.0).frequency_mhz is None
