"""Host, cgroup, process-group and health families, built at scrape time from the latest
snapshot (fresh MetricFamily objects each time, as client_python's collectors do).

While monitoring is stopped, only the exporter's own sampler families are exported: stale
host values would keep alerts firing on data nobody measures.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from exporter.config import ThresholdsConfig
from exporter.system.health import STATES, evaluate
from exporter.system.sampler import Sampler
from exporter.system.snapshot import Snapshot


def _gauge(name: str, documentation: str, value: float | None) -> Iterator[Metric]:
    if value is not None:
        yield GaugeMetricFamily(name, documentation, value=value)


def _labelled(
    family: GaugeMetricFamily | CounterMetricFamily, rows: Iterable[tuple[list[str], float]]
) -> GaugeMetricFamily | CounterMetricFamily:
    for labels, value in rows:
        family.add_metric(labels, value)
    return family


class SystemCollector(Collector):
    def __init__(self, sampler: Sampler, thresholds: ThresholdsConfig) -> None:
        self._sampler = sampler
        self._thresholds = thresholds

    def describe(self) -> list[Metric]:
        """Nothing up front: the families depend on what the host has."""
        return []

    def collect(self) -> Iterator[Metric]:
        yield from self._sampler_families()
        yield self._thresholds_family()
        snapshot = self._sampler.latest
        if snapshot is None or not self._sampler.active:
            return
        yield from self._cpu_and_memory(snapshot)
        yield from self._disks_and_network(snapshot)
        yield from self._process_groups(snapshot)
        yield self._health_status(snapshot)

    def _sampler_families(self) -> Iterator[Metric]:
        sampler = self._sampler
        yield GaugeMetricFamily(
            "autobot_exporter_monitoring_active",
            "1 while system monitoring runs, 0 after POST /api/metrics/system/monitoring/stop.",
            value=1 if sampler.active else 0,
        )
        snapshot = sampler.latest
        if snapshot is None:
            return
        yield GaugeMetricFamily(
            "autobot_exporter_last_sample_timestamp_seconds",
            "Unix time of the latest sampling pass.",
            value=snapshot.timestamp,
        )
        results = snapshot.collectors.items()
        yield _labelled(
            GaugeMetricFamily(
                "autobot_exporter_collector_success",
                "Whether this piece of the latest sampling pass succeeded.",
                labels=["collector"],
            ),
            (([name], 1.0 if r.success else 0.0) for name, r in results),
        )
        yield _labelled(
            GaugeMetricFamily(
                "autobot_exporter_collector_duration_seconds",
                "How long this piece of the latest sampling pass took.",
                labels=["collector"],
            ),
            (([name], r.duration_seconds) for name, r in results),
        )
        yield _labelled(
            CounterMetricFamily(
                "autobot_exporter_collector_failures",
                "Sampling passes in which this piece failed.",
                labels=["collector"],
            ),
            (([name], float(sampler.failures[name])) for name, _ in results),
        )
        yield _labelled(
            CounterMetricFamily(
                "autobot_exporter_process_scan_skipped",
                "Processes left out of the group scan: vanished mid-scan, zombie, or "
                "unreadable (access_denied; counted, with what could be read).",
                labels=["reason"],
            ),
            (
                ([reason], float(sampler.skipped_processes[reason]))
                for reason in ("vanished", "zombie", "access_denied")
            ),
        )

    def _cpu_and_memory(self, snapshot: Snapshot) -> Iterator[Metric]:
        cpu, memory = snapshot.cpu, snapshot.memory
        if cpu is not None:
            yield from _gauge(
                "autobot_system_cpu_usage_ratio",
                "Busy share of the available CPUs (of the cgroup quota when there is one).",
                cpu.ratio,
            )
            yield from _gauge("autobot_system_cpus", "CPUs available to the exporter.", cpu.cpus)
            yield from _gauge(
                "autobot_system_cpu_limit_cores",
                "The cgroup CPU quota, in cores.",
                cpu.limit_cores,
            )
        if memory is not None:
            yield from _gauge(
                "autobot_system_memory_usage_ratio",
                "Memory in use over memory available (the cgroup limit when there is one).",
                memory.ratio,
            )
            yield from _gauge(
                "autobot_system_memory_used_bytes",
                "Memory in use: host total minus available, or the cgroup working set.",
                memory.used_bytes,
            )
            yield from _gauge(
                "autobot_system_memory_total_bytes",
                "Memory available: the cgroup limit when there is one, else the host's.",
                memory.total_bytes,
            )
            yield from _gauge(
                "autobot_system_memory_limit_bytes",
                "The cgroup memory limit.",
                memory.limit_bytes,
            )
        if snapshot.load is not None:
            for minutes, value in zip((1, 5, 15), snapshot.load, strict=True):
                yield GaugeMetricFamily(
                    f"autobot_system_load{minutes}",
                    f"{minutes}-minute load average.",
                    value=value,
                )

    def _disks_and_network(self, snapshot: Snapshot) -> Iterator[Metric]:
        for suffix, documentation, attribute in (
            ("usage_ratio", "Used share of the filesystem (as df computes it).", "ratio"),
            ("used_bytes", "Bytes used on the filesystem.", "used_bytes"),
            ("total_bytes", "Size of the filesystem in bytes.", "total_bytes"),
        ):
            yield _labelled(
                GaugeMetricFamily(
                    f"autobot_system_disk_{suffix}", documentation, labels=["mountpoint"]
                ),
                (([d.mountpoint], float(getattr(d, attribute))) for d in snapshot.disks),
            )
        yield _labelled(
            GaugeMetricFamily(
                "autobot_system_disk_device_error",
                "1 when statvfs of the mount point failed or outlived filesystem.mount_timeout "
                "in the latest pass (its usage families are then absent), else 0.",
                labels=["mountpoint"],
            ),
            [([d.mountpoint], 0.0) for d in snapshot.disks]
            + [([mountpoint], 1.0) for mountpoint in snapshot.unreadable_disks],
        )
        for direction, attribute in (("receive", "receive_bytes"), ("transmit", "transmit_bytes")):
            yield _labelled(
                CounterMetricFamily(
                    f"autobot_system_network_{direction}_bytes",
                    f"Bytes the interface has {direction}d since boot.",
                    labels=["interface"],
                ),
                (([name], float(getattr(c, attribute))) for name, c in snapshot.network.items()),
            )

    def _process_groups(self, snapshot: Snapshot) -> Iterator[Metric]:
        groups = snapshot.groups.items()
        for name, documentation, attribute in (
            ("autobot_processes", "Processes in the group.", "processes"),
            (
                "autobot_process_resident_memory_bytes",
                "Resident memory of the group.",
                "resident_bytes",
            ),
            ("autobot_process_threads", "Threads of the group's processes.", "threads"),
            ("autobot_process_open_fds", "Open file descriptors of the group.", "open_fds"),
        ):
            yield _labelled(
                GaugeMetricFamily(name, documentation, labels=["group"]),
                (([group], float(getattr(usage, attribute))) for group, usage in groups),
            )
        yield _labelled(
            GaugeMetricFamily(
                "autobot_process_cpu_usage_ratio",
                "Share of the available CPUs the group used since the previous pass.",
                labels=["group"],
            ),
            (([group], usage.cpu_ratio) for group, usage in groups if usage.cpu_ratio is not None),
        )
        cpu_seconds = CounterMetricFamily(
            "autobot_process_cpu_seconds",
            "CPU time of the group's processes (exited processes keep their share).",
            labels=["group", "mode"],
        )
        for group, usage in groups:
            cpu_seconds.add_metric([group, "user"], usage.cpu_user_seconds_total)
            cpu_seconds.add_metric([group, "system"], usage.cpu_system_seconds_total)
        yield cpu_seconds
        yield GaugeMetricFamily(
            "autobot_exporter_unlisted_processes",
            "Processes of the groups left out of the export's process list in the latest pass "
            "(max_listed_processes).",
            value=snapshot.processes.unlisted,
        )

    def _health_status(self, snapshot: Snapshot) -> Metric:
        status = evaluate(snapshot, self._thresholds).status
        return _labelled(
            GaugeMetricFamily(
                "autobot_health_status",
                "1 for the current health state (ok, warning, critical), 0 for the others.",
                labels=["state"],
            ),
            (([state], 1.0 if state == status else 0.0) for state in STATES),
        )

    def _thresholds_family(self) -> Metric:
        thresholds = GaugeMetricFamily(
            "autobot_health_threshold_ratio",
            "Configured health levels: a value strictly above a level reaches it.",
            labels=["resource", "level"],
        )
        for resource in ("cpu", "memory", "disk"):
            level = getattr(self._thresholds, resource)
            thresholds.add_metric([resource, "critical"], level.critical)
            thresholds.add_metric([resource, "warning"], level.warning)
        return thresholds
