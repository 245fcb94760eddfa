"""What one sampling pass saw: immutable, so scrapes and the JSON API read it without locks."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class CpuUsage:
    ratio: float | None
    """Busy share since the previous pass (None on the first); against the cgroup quota
    when there is one."""
    cpus: float
    """CPUs available to this process: the quota, else the affinity mask."""
    limit_cores: float | None
    logical_cpus: int | None = None
    """The host's logical CPUs, whatever this process may use (psutil.cpu_count)."""
    frequency_mhz: float | None = None
    """Current CPU frequency; None where the platform does not tell."""


@dataclass(frozen=True, slots=True)
class MemoryUsage:
    used_bytes: int
    total_bytes: int
    """The cgroup limit when there is one, else the host's memory."""
    limit_bytes: int | None

    @property
    def ratio(self) -> float:
        return self.used_bytes / self.total_bytes if self.total_bytes else 0.0

    @property
    def available_bytes(self) -> int:
        return self.total_bytes - self.used_bytes


@dataclass(frozen=True, slots=True)
class SwapUsage:
    used_bytes: int
    total_bytes: int

    @property
    def ratio(self) -> float:
        return self.used_bytes / self.total_bytes if self.total_bytes else 0.0


@dataclass(frozen=True, slots=True)
class DiskUsage:
    mountpoint: str
    device: str
    fstype: str
    used_bytes: int
    total_bytes: int
    ratio: float
    """used / (used + available to users), as df computes it."""
    free_bytes: int
    """Available to unprivileged users (the blocks reserved for root left out)."""


@dataclass(frozen=True, slots=True)
class DiskIo:
    """All disks together, since boot."""

    read_bytes: int
    write_bytes: int


@dataclass(frozen=True, slots=True)
class NetworkCounters:
    receive_bytes: int
    transmit_bytes: int
    receive_packets: int
    transmit_packets: int


@dataclass(frozen=True, slots=True)
class GroupUsage:
    processes: int
    cpu_user_seconds_total: float
    cpu_system_seconds_total: float
    cpu_ratio: float | None
    """Share of the available CPUs used since the previous pass (None on the first)."""
    resident_bytes: int
    threads: int
    open_fds: int


@dataclass(frozen=True, slots=True)
class ProcessUsage:
    """One process of a group, as the original's process list gives it."""

    pid: int
    name: str
    cpu_percent: float
    """Percent of one CPU since the previous pass, as psutil's Process.cpu_percent (0.0 on
    first sight, so it may pass 100 on a multi-core host)."""
    resident_bytes: int


@dataclass(frozen=True, slots=True)
class ProcessScan:
    groups: dict[str, GroupUsage]
    processes: tuple[ProcessUsage, ...]
    """The largest ``max_listed_processes`` by resident memory, in pid order."""
    unlisted: int
    """Processes of the groups left out of ``processes`` by that limit."""
    cpu_percent: float
    """All the groups' processes together, listed or not, in the list's unit."""


NO_PROCESSES = ProcessScan({}, (), 0, 0.0)


@dataclass(frozen=True, slots=True)
class CollectorResult:
    success: bool
    duration_seconds: float


@dataclass(frozen=True, slots=True)
class Snapshot:
    timestamp: float
    cpu: CpuUsage | None = None
    memory: MemoryUsage | None = None
    swap: SwapUsage | None = None
    load: tuple[float, float, float] | None = None
    disks: tuple[DiskUsage, ...] = ()
    unreadable_disks: tuple[str, ...] = ()
    """Mount points whose statvfs failed or timed out in this pass."""
    disk_io: DiskIo | None = None
    network: dict[str, NetworkCounters] = field(default_factory=dict)
    processes: ProcessScan = NO_PROCESSES
    collectors: dict[str, CollectorResult] = field(default_factory=dict)

    @property
    def groups(self) -> dict[str, GroupUsage]:
        return self.processes.groups

    def disk_for(self, mountpoint: str) -> DiskUsage | None:
        return next((disk for disk in self.disks if disk.mountpoint == mountpoint), None)

    @property
    def main_disk(self) -> DiskUsage | None:
        """The root filesystem if reported, else the fullest one: the original's disk_percent."""
        return self.disk_for("/") or max(self.disks, key=lambda d: d.ratio, default=None)
