"""Cgroup limits read from fake v2 and v1 trees."""

from __future__ import annotations

from pathlib import Path

import pytest

from exporter.system.cgroup import CgroupReader


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


@pytest.fixture
def self_cgroup(tmp_path):
    def make(text: str) -> Path:
        path = tmp_path / "self-cgroup"
        path.write_text(text)
        return path

    return make


def test_v2_limits_of_the_own_cgroup(tmp_path, self_cgroup):
    root = tmp_path / "cg"
    write(root, {"cgroup.controllers": "cpu memory"})
    write(
        root / "kubepods/pod1",
        {
            "memory.max": "536870912\n",
            "memory.current": "300000000\n",
            "memory.stat": "anon 1\ninactive_file 100000000\nactive_file 5\n",
            "cpu.max": "150000 100000\n",
            "cpu.stat": "usage_usec 2500000\nuser_usec 2000000\n",
        },
    )
    reading = CgroupReader(root, self_cgroup("0::/kubepods/pod1\n")).read()
    assert reading.memory_limit_bytes == 536870912
    assert reading.memory_used_bytes == 200000000
    assert reading.cpu_limit_cores == 1.5
    assert reading.cpu_usage_seconds == 2.5


def test_v2_without_limits(tmp_path, self_cgroup):
    root = tmp_path / "cg"
    write(
        root,
        {
            "cgroup.controllers": "",
            "memory.max": "max",
            "memory.current": "10",
            "cpu.max": "max 100000",
            "cpu.stat": "usage_usec 7",
        },
    )
    reading = CgroupReader(root, self_cgroup("0::/\n")).read()
    assert (reading.memory_limit_bytes, reading.cpu_limit_cores) == (None, None)


def test_v2_in_a_cgroup_namespace_reads_the_mount_root(tmp_path, self_cgroup):
    root = tmp_path / "cg"
    write(
        root,
        {
            "cgroup.controllers": "",
            "memory.max": "1000",
            "memory.current": "250",
            "cpu.max": "50000 100000",
        },
    )
    reading = CgroupReader(root, self_cgroup("0::/not/visible/here\n")).read()
    assert (reading.memory_limit_bytes, reading.memory_used_bytes) == (1000, 250)
    assert reading.cpu_limit_cores == 0.5


def test_v1_limits(tmp_path, self_cgroup):
    root = tmp_path / "cg"
    write(
        root / "memory/docker/abc",
        {
            "memory.limit_in_bytes": "2147483648",
            "memory.usage_in_bytes": "1073741824",
            "memory.stat": "cache 5\ntotal_inactive_file 73741824\n",
        },
    )
    write(root / "cpu/docker/abc", {"cpu.cfs_quota_us": "200000", "cpu.cfs_period_us": "100000"})
    write(root / "cpuacct/docker/abc", {"cpuacct.usage": "3000000000"})
    text = "4:memory:/docker/abc\n3:cpu:/docker/abc\n2:cpuacct:/docker/abc\n0::/\n"
    reading = CgroupReader(root, self_cgroup(text)).read()
    assert reading.memory_limit_bytes == 2147483648
    assert reading.memory_used_bytes == 1000000000
    assert reading.cpu_limit_cores == 2.0
    assert reading.cpu_usage_seconds == 3.0


def test_v1_unlimited_is_no_limit(tmp_path, self_cgroup):
    root = tmp_path / "cg"
    write(
        root / "memory",
        {"memory.limit_in_bytes": "9223372036854771712", "memory.usage_in_bytes": "5"},
    )
    write(root / "cpu", {"cpu.cfs_quota_us": "-1", "cpu.cfs_period_us": "100000"})
    reading = CgroupReader(root, self_cgroup("4:memory:/\n3:cpu:/\n")).read()
    assert (reading.memory_limit_bytes, reading.cpu_limit_cores) == (None, None)


def test_no_cgroup_filesystem_at_all(tmp_path, self_cgroup):
    reading = CgroupReader(tmp_path / "absent", self_cgroup("")).read()
    assert reading.memory_limit_bytes is None and reading.cpu_limit_cores is None
