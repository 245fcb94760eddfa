"""The background sampler: every collection_interval, one pass over host, cgroup and
process groups in a worker thread; the snapshot and the ring buffer are then updated on
the event loop, so scrapes and JSON answers read them without waiting on /proc.

Each piece is timed and may fail alone: a failure leaves that part of the snapshot empty,
is counted, and is logged once until the piece recovers.
"""

from __future__ import annotations

import asyncio
import bisect
import itertools
import logging
import time
from collections import Counter, deque
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any, TypeVar

import psutil

from exporter.config import Config
from exporter.log_once import LogOnce
from exporter.system.cgroup import NO_CGROUP, CgroupReader
from exporter.system.filesystems import NO_FILESYSTEMS, FilesystemReader
from exporter.system.host import (
    CpuReader,
    read_disk_io,
    read_load,
    read_memory,
    read_network,
    read_swap,
)
from exporter.system.process_groups import ProcessGroupScanner
from exporter.system.snapshot import NO_PROCESSES, CollectorResult, Snapshot

log = logging.getLogger(__name__)

T = TypeVar("T")

FIRST_CPU_DELTA_SECONDS = 1.0
"""The second pass comes this soon after the first, so CPU ratios exist early."""


class Sampler:
    def __init__(
        self,
        config: Config,
        ps: ModuleType | Any = psutil,
        cgroup: CgroupReader | None = None,
        clock: Callable[[], float] = time.time,
        own_pid: int | None = None,
    ) -> None:
        self._config = config
        self._ps = ps
        self._cgroup = cgroup or CgroupReader(config.cgroup_root)
        self._clock = clock
        self._cpu = CpuReader(ps)
        self._filesystems = FilesystemReader(config.filesystem, ps)
        self._groups = ProcessGroupScanner(
            config.process_groups, ps, own_pid, config.max_listed_processes
        )
        self._history: deque[Snapshot] = deque(maxlen=config.resource_history_samples)
        self._timestamps: deque[float] = deque(maxlen=config.resource_history_samples)
        """The passes' timestamps, bisected without a Python call per step."""
        self._log_once = LogOnce(log)
        self.failures: Counter[str] = Counter()
        """Failed passes since start, by piece."""
        self.latest: Snapshot | None = None
        self.recorded = 0
        """Passes recorded since start: the number the next one gets (the ring buffer holds
        the latest ``resource_history_samples``)."""
        self.active = True
        """False while monitoring is stopped through the API: no passes, no system families."""

    @property
    def capacity(self) -> int:
        """Passes the ring buffer holds: resource_history / collection_interval."""
        return self._config.resource_history_samples

    @property
    def skipped_processes(self) -> Counter[str]:
        return self._groups.skipped

    def history(self, since: float | None = None) -> Iterator[Snapshot]:
        """Snapshots in time order, optionally only those taken at or after ``since``."""
        first = 0 if since is None else bisect.bisect_left(self._timestamps, since)
        return itertools.islice(self._history, first, None)

    def pass_numbers(self, start: float, end: float) -> range:
        """Numbers of the passes taken during [start, end]; for a workflow shorter than one
        interval, the pass just before its end. Called at every workflow finish, so it
        bisects."""
        oldest = self.recorded - len(self._history)
        first = bisect.bisect_left(self._timestamps, start)
        after_end = bisect.bisect_right(self._timestamps, end)
        if after_end > first:
            return range(oldest + first, oldest + after_end)
        if after_end and end - self._timestamps[after_end - 1] <= (
            self._config.collection_interval
        ):
            return range(oldest + after_end - 1, oldest + after_end)
        return range(0)

    def passes(self, numbers: range) -> list[Snapshot]:
        """The passes of these numbers that the ring buffer still holds, oldest first."""
        oldest = self.recorded - len(self._history)
        return [
            self._history[number - oldest]
            for number in range(max(numbers.start, oldest), numbers.stop)
        ]

    def _piece(
        self, name: str, results: dict[str, CollectorResult], read: Callable[[], T]
    ) -> T | None:
        began = time.perf_counter()
        try:
            value = read()
        except Exception as error:  # any failure of one piece must not stop the others
            value = None
            self.failures[name] += 1
            self._log_once.failed(f"sampling {name}", error)
        else:
            self._log_once.succeeded(f"sampling {name}")
        results[name] = CollectorResult(value is not None, time.perf_counter() - began)
        return value

    def measure(self) -> Snapshot:
        """One pass; blocking (reads /proc), so the event loop runs it in a thread."""
        now = self._clock()
        results: dict[str, CollectorResult] = {}
        cgroup = self._piece("cgroup", results, self._cgroup.read) or NO_CGROUP
        cpu = self._piece("cpu", results, lambda: self._cpu.read(cgroup, now))
        cpus = cpu.cpus if cpu else 1.0
        filesystems = self._piece("filesystem", results, self._filesystems.read) or NO_FILESYSTEMS
        return Snapshot(
            timestamp=now,
            cpu=cpu,
            memory=self._piece("memory", results, lambda: read_memory(cgroup, self._ps)),
            swap=self._piece("swap", results, lambda: read_swap(self._ps)),
            load=self._piece("load", results, read_load),
            disks=filesystems.usage,
            unreadable_disks=filesystems.unreadable,
            disk_io=self._piece("disk_io", results, lambda: read_disk_io(self._ps)),
            network=self._piece(
                "network", results, lambda: read_network(self._config.network, self._ps)
            )
            or {},
            processes=self._piece("processes", results, lambda: self._groups.scan(now, cpus))
            or NO_PROCESSES,
            collectors=results,
        )

    def record(self, snapshot: Snapshot) -> None:
        """Publish a pass (on the event loop, the only reader)."""
        self.latest = snapshot
        self._history.append(snapshot)
        self._timestamps.append(snapshot.timestamp)
        self.recorded += 1

    async def run(self) -> None:
        """Sample until cancelled; passes are skipped while monitoring is stopped."""
        delay = FIRST_CPU_DELTA_SECONDS
        while True:
            if self.active:
                self.record(await asyncio.to_thread(self.measure))
            await asyncio.sleep(min(delay, self._config.collection_interval))
            delay = self._config.collection_interval

    def is_stale(self, now: float) -> bool:
        """No pass for three intervals while active: the sampler is stuck."""
        if self.latest is None:
            return True
        return self.active and now - self.latest.timestamp > 3 * self._config.collection_interval
