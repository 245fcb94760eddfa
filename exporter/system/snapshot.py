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


@dataclass(frozen=True, slots=True)
class MemoryUsage:
    used_bytes: int
    total_bytes: int
    """The cgroup limit when there is one, else the host's memory."""
    limit_bytes: int | None

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


@dataclass(frozen=True, slots=True)
class NetworkCounters:
    receive_bytes: int
    transmit_bytes: int


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
class CollectorResult:
    success: bool
    duration_seconds: float


@dataclass(frozen=True, slots=True)
class Snapshot:
    timestamp: float
    cpu: CpuUsage | None = None
    memory: MemoryUsage | None = None
    load: tuple[float, float, float] | None = None
    disks: tuple[DiskUsage, ...] = ()
    unreadable_disks: tuple[str, ...] = ()
    """Mount points whose statvfs failed or timed out in this pass."""
    network: dict[str, NetworkCounters] = field(default_factory=dict)
    groups: dict[str, GroupUsage] = field(default_factory=dict)
    collectors: dict[str, CollectorResult] = field(default_factory=dict)

    def disk_for(self, mountpoint: str) -> DiskUsage | None:
        return next((disk for disk in self.disks if disk.mountpoint == mountpoint), None)

    @property
    def main_disk(self) -> DiskUsage | None:
        """The root filesystem if reported, else the fullest one: the original's disk_percent."""
        return self.disk_for("/") or max(self.disks, key=lambda d: d.ratio, default=None)
