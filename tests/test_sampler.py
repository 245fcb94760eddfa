"""The sampler: a failing piece fails alone, is counted and logged once; the ring buffer
is bounded; the collector exports the latest snapshot and hides it while paused."""

from __future__ import annotations

import logging

import psutil
from prometheus_client import CollectorRegistry

from exporter.config import parse_config
from exporter.system.cgroup import NO_CGROUP
from exporter.system.collector import SystemCollector
from exporter.system.sampler import Sampler
from exporter.system.snapshot import (
    CollectorResult,
    CpuUsage,
    DiskUsage,
    GroupUsage,
    MemoryUsage,
    NetworkCounters,
    ProcessScan,
    ProcessUsage,
    Snapshot,
)


class FlakyPs:
    """psutil, except that listing filesystems fails the first ``failures`` times."""

    def __init__(self, failures: int) -> None:
        self.failures = failures

    def __getattr__(self, name):
        return getattr(psutil, name)

    def disk_partitions(self, all=False):
        if self.failures:
            self.failures -= 1
            raise OSError("stale file handle")
        return psutil.disk_partitions(all)


class FixedCgroup:
    def read(self):
        return NO_CGROUP


def sampler(config_text: str = "", ps=psutil) -> Sampler:
    return Sampler(parse_config(config_text), ps=ps, cgroup=FixedCgroup())


def test_a_failing_piece_fails_alone_and_is_logged_once(caplog):
    flaky = sampler(ps=FlakyPs(failures=2))
    with caplog.at_level(logging.INFO, logger="exporter.system.sampler"):
        first, second, third = (flaky.measure() for _ in range(3))
    assert first.collectors["filesystem"].success is False
    assert first.disks == ()
    assert all(r.success for name, r in first.collectors.items() if name != "filesystem")
    assert first.memory is not None and first.groups
    assert second.collectors["filesystem"].success is False
    assert third.collectors["filesystem"].success is True and third.disks
    assert flaky.failures["filesystem"] == 2
    messages = [r.getMessage() for r in caplog.records]
    assert sum("sampling filesystem failed" in m for m in messages) == 1
    assert sum("sampling filesystem recovered" in m for m in messages) == 1


def test_ring_buffer_holds_resource_history():
    bounded = sampler("collection_interval: 1s\nresource_history: 3s\n")
    for number in range(5):
        bounded.record(Snapshot(timestamp=float(number)))
    assert [s.timestamp for s in bounded.history()] == [2.0, 3.0, 4.0]
    assert [s.timestamp for s in bounded.history(since=3.5)] == [4.0]


def test_workflow_window_uses_passes_inside_else_the_one_just_before():
    windowed = sampler("collection_interval: 5s\n")
    for timestamp in (100.0, 105.0, 110.0):
        windowed.record(Snapshot(timestamp=timestamp))
    assert windowed.pass_numbers(104, 111) == range(1, 3)
    assert windowed.pass_numbers(111, 112) == range(2, 3)
    assert windowed.pass_numbers(200, 201) == range(0)
    assert [s.timestamp for s in windowed.passes(range(1, 3))] == [105.0, 110.0]


def test_pass_numbers_go_on_past_the_ring_buffer():
    """A pass keeps its number when older ones leave the ring; passes() gives only those
    still held."""
    ring = sampler("collection_interval: 1s\nresource_history: 3s\n")
    for timestamp in range(10):
        ring.record(Snapshot(timestamp=float(timestamp)))
    assert ring.recorded == 10
    assert ring.pass_numbers(7.5, 9) == range(8, 10)
    assert ring.pass_numbers(0, 9) == range(7, 10)
    assert [s.timestamp for s in ring.passes(range(5, 9))] == [7.0, 8.0]


def test_is_stale_without_recent_passes():
    stale = sampler("collection_interval: 5s\n")
    assert stale.is_stale(now=0.0)
    stale.record(Snapshot(timestamp=100.0))
    assert not stale.is_stale(now=114.0)
    assert stale.is_stale(now=116.0)
    stale.active = False
    assert not stale.is_stale(now=1000.0)


SNAPSHOT = Snapshot(
    timestamp=1_800_000_000.0,
    cpu=CpuUsage(0.25, 2.0, 2.0),
    memory=MemoryUsage(600, 1000, 1000),
    load=(0.5, 0.25, 0.125),
    disks=(DiskUsage("/", "/dev/vda", "ext4", 910, 1000, 0.91, 90),),
    unreadable_disks=("/mnt/nfs",),
    network={"eth0": NetworkCounters(100, 200, 1, 2)},
    processes=ProcessScan(
        {"autobot": GroupUsage(3, 12.5, 2.5, 0.1, 4096, 9, 30)},
        (ProcessUsage(7, "python3", 1.5, 4096),),
        2,
        1.5,
    ),
    collectors={"cpu": CollectorResult(True, 0.001), "filesystem": CollectorResult(False, 0.5)},
)


def collected(active: bool = True) -> CollectorRegistry:
    source = sampler()
    source.record(SNAPSHOT)
    source.active = active
    registry = CollectorRegistry()
    registry.register(SystemCollector(source, parse_config("").thresholds))
    return registry


def test_collector_exports_the_snapshot():
    registry = collected()
    get = registry.get_sample_value
    assert get("autobot_system_cpu_usage_ratio") == 0.25
    assert get("autobot_system_cpu_limit_cores") == 2.0
    assert get("autobot_system_memory_usage_ratio") == 0.6
    assert get("autobot_system_memory_limit_bytes") == 1000
    assert get("autobot_system_disk_usage_ratio", {"mountpoint": "/"}) == 0.91
    assert get("autobot_system_disk_device_error", {"mountpoint": "/"}) == 0
    assert get("autobot_system_disk_device_error", {"mountpoint": "/mnt/nfs"}) == 1
    assert get("autobot_system_disk_usage_ratio", {"mountpoint": "/mnt/nfs"}) is None
    assert get("autobot_system_network_transmit_bytes_total", {"interface": "eth0"}) == 200
    assert get("autobot_processes", {"group": "autobot"}) == 3
    assert get("autobot_process_cpu_seconds_total", {"group": "autobot", "mode": "user"}) == 12.5
    assert get("autobot_process_open_fds", {"group": "autobot"}) == 30
    assert get("autobot_system_load5") == 0.25
    assert get("autobot_health_status", {"state": "critical"}) == 1
    assert get("autobot_health_status", {"state": "ok"}) == 0
    assert get("autobot_health_threshold_ratio", {"resource": "disk", "level": "warning"}) == 0.72
    assert get("autobot_exporter_collector_success", {"collector": "filesystem"}) == 0
    assert get("autobot_exporter_collector_duration_seconds", {"collector": "cpu"}) == 0.001
    assert get("autobot_exporter_monitoring_active") == 1
    assert get("autobot_exporter_unlisted_processes") == 2


def test_paused_monitoring_hides_the_stale_system_families():
    registry = collected(active=False)
    get = registry.get_sample_value
    assert get("autobot_exporter_monitoring_active") == 0
    assert get("autobot_system_cpu_usage_ratio") is None
    assert get("autobot_health_status", {"state": "critical"}) is None
    assert get("autobot_health_threshold_ratio", {"resource": "cpu", "level": "critical"}) == 0.8
