"""The memory limit and CPU quota of the cgroup the exporter runs in (v2, else v1).

psutil and node_exporter report the host; inside a container with limits the ratios that
matter are against the limits, so the sampler divides by what this module reads. The
root (normally /sys/fs/cgroup) and /proc/self/cgroup are arguments so tests can hand in a
fake tree.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

V1_UNLIMITED_FLOOR = 1 << 62
"""cgroup v1 writes "no limit" as a huge page-aligned number near 2**63."""


@dataclass(frozen=True, slots=True)
class CgroupReading:
    memory_limit_bytes: int | None
    memory_used_bytes: int | None
    """Usage minus inactive file cache (the working set, as the kubelet counts it)."""
    cpu_limit_cores: float | None
    cpu_usage_seconds: float | None
    """Cumulative CPU time of the cgroup, for a usage ratio against the quota."""


NO_CGROUP = CgroupReading(None, None, None, None)


def _read(path: Path) -> str | None:
    try:
        return path.read_text().strip()
    except OSError:
        return None


def _stat_value(text: str | None, key: str) -> int | None:
    for line in (text or "").splitlines():
        name, _, value = line.partition(" ")
        if name == key:
            return int(value)
    return None


def _own_paths(self_cgroup: Path) -> dict[str, str]:
    """Controller -> path of this process's cgroup ("" is the v2 unified hierarchy)."""
    paths: dict[str, str] = {}
    for line in (_read(self_cgroup) or "").splitlines():
        _, controllers, path = line.split(":", 2)
        for controller in controllers.split(","):
            paths[controller] = path.lstrip("/")
    return paths


def _first_existing(candidates: list[Path], filename: str) -> Path | None:
    """The process's own cgroup directory, else the mount root (as seen in a cgroup namespace)."""
    for directory in candidates:
        if (directory / filename).exists():
            return directory
    return None


class CgroupReader:
    def __init__(
        self, root: str | Path = "/sys/fs/cgroup", self_cgroup: str | Path = "/proc/self/cgroup"
    ) -> None:
        self._root = Path(root)
        self._paths = _own_paths(Path(self_cgroup))

    def read(self) -> CgroupReading:
        if (self._root / "cgroup.controllers").exists():
            return self._read_v2()
        return self._read_v1()

    def _read_v2(self) -> CgroupReading:
        own = self._root / self._paths.get("", "")
        directory = _first_existing([own, self._root], "memory.max") or own
        limit_text = _read(directory / "memory.max")
        limit = int(limit_text) if limit_text and limit_text != "max" else None
        current = _read(directory / "memory.current")
        inactive = _stat_value(_read(directory / "memory.stat"), "inactive_file") or 0
        used = max(0, int(current) - inactive) if current else None
        quota_text = (_read(directory / "cpu.max") or "max").split()
        cores = None
        if quota_text[0] != "max" and len(quota_text) == 2:
            cores = int(quota_text[0]) / int(quota_text[1])
        usage_usec = _stat_value(_read(directory / "cpu.stat"), "usage_usec")
        return CgroupReading(
            limit, used, cores, usage_usec / 1e6 if usage_usec is not None else None
        )

    def _v1_directory(self, controller: str, filename: str) -> Path | None:
        base = self._root / controller
        return _first_existing([base / self._paths.get(controller, ""), base], filename)

    def _read_v1(self) -> CgroupReading:
        limit = used = cores = usage = None
        memory = self._v1_directory("memory", "memory.limit_in_bytes")
        if memory is not None:
            limit_value = int(_read(memory / "memory.limit_in_bytes") or 0)
            limit = limit_value if 0 < limit_value < V1_UNLIMITED_FLOOR else None
            current = _read(memory / "memory.usage_in_bytes")
            stat = _read(memory / "memory.stat")
            inactive = _stat_value(stat, "total_inactive_file") or 0
            used = max(0, int(current) - inactive) if current else None
        cpu = self._v1_directory("cpu", "cpu.cfs_quota_us")
        if cpu is not None:
            quota = int(_read(cpu / "cpu.cfs_quota_us") or -1)
            period = int(_read(cpu / "cpu.cfs_period_us") or 0)
            cores = quota / period if quota > 0 and period > 0 else None
        cpuacct = self._v1_directory("cpuacct", "cpuacct.usage")
        if cpuacct is not None:
            usage = int(_read(cpuacct / "cpuacct.usage") or 0) / 1e9
        return CgroupReading(limit, used, cores, usage)
