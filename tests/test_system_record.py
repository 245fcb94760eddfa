"""The original SystemResourceMonitor's record of one pass, built from a snapshot: every key
of the original, in its units, and null where the pass could not read a value."""

from __future__ import annotations

from exporter.jsonapi.system_record import original_record
from exporter.system.snapshot import (
    CpuUsage,
    DiskIo,
    DiskUsage,
    GroupUsage,
    MemoryUsage,
    NetworkCounters,
    ProcessScan,
    ProcessUsage,
    Snapshot,
    SwapUsage,
)

MIB, GIB = 1 << 20, 1 << 30

FULL = Snapshot(
    timestamp=1_800_000_000.0,
    cpu=CpuUsage(0.125, 2.0, None, logical_cpus=8, frequency_mhz=2400.0),
    memory=MemoryUsage(used_bytes=6 * GIB, total_bytes=16 * GIB, limit_bytes=None),
    swap=SwapUsage(used_bytes=512 * MIB, total_bytes=2 * GIB),
    disks=(
        DiskUsage("/data", "/dev/vdb", "ext4", 9 * GIB, 10 * GIB, 0.95, GIB // 2),
        DiskUsage("/", "/dev/vda", "ext4", 40 * GIB, 100 * GIB, 0.42, 55 * GIB),
    ),
    disk_io=DiskIo(read_bytes=3 * GIB, write_bytes=5 * MIB),
    network={
        "eth0": NetworkCounters(10 * MIB, 4 * MIB, 1000, 400),
        "eth1": NetworkCounters(2 * MIB, 1 * MIB, 20, 10),
    },
    processes=ProcessScan(
        groups={"autobot": GroupUsage(3, 1.0, 1.0, 0.05, 700 * MIB, 9, 30)},
        processes=(
            ProcessUsage(101, "python3", 7.5, 512 * MIB),
            ProcessUsage(205, "uvicorn", 0.0, 128 * MIB),
        ),
        unlisted=1,
        cpu_percent=8.25,
    ),
)


def test_every_key_of_the_original_in_its_units():
    assert original_record(FULL) == {
        "timestamp": "2027-01-15T08:00:00+00:00",
        "cpu": {"percent": 12.5, "count": 8, "frequency_mhz": 2400.0},
        "memory": {
            "total_mb": 16384.0,
            "available_mb": 10240.0,
            "used_mb": 6144.0,
            "percent": 37.5,
        },
        "swap": {"total_mb": 2048.0, "used_mb": 512.0, "percent": 25.0},
        "disk": {
            "total_gb": 100.0,
            "used_gb": 40.0,
            "free_gb": 55.0,
            "percent": 42.0,
            "io": {"read_mb": 3072.0, "write_mb": 5.0},
        },
        "network": {
            "bytes_sent_mb": 5.0,
            "bytes_recv_mb": 12.0,
            "packets_sent": 410,
            "packets_recv": 1020,
        },
        "autobot_processes": [
            {
                "pid": 101,
                "name": "python3",
                "cpu_percent": 7.5,
                "memory_percent": 3.12,
                "memory_mb": 512.0,
            },
            {
                "pid": 205,
                "name": "uvicorn",
                "cpu_percent": 0.0,
                "memory_percent": 0.78,
                "memory_mb": 128.0,
            },
        ],
        "total_autobot_memory_mb": 700.0,  # the unlisted process counts too
        "total_autobot_cpu_percent": 8.25,
        "autobot_processes_unlisted": 1,
    }


def test_a_pass_that_read_nothing_keeps_every_key_as_null():
    record = original_record(Snapshot(timestamp=1_800_000_000.0))
    assert record["cpu"] == {"percent": None, "count": None, "frequency_mhz": None}
    assert record["memory"] == {
        "total_mb": None,
        "available_mb": None,
        "used_mb": None,
        "percent": None,
    }
    assert record["swap"] == {"total_mb": None, "used_mb": None, "percent": None}
    assert record["disk"] == {
        "total_gb": None,
        "used_gb": None,
        "free_gb": None,
        "percent": None,
        "io": {"read_mb": None, "write_mb": None},
    }
    assert record["network"] == {
        "bytes_sent_mb": 0.0,
        "bytes_recv_mb": 0.0,
        "packets_sent": 0,
        "packets_recv": 0,
    }
    assert record["autobot_processes"] == []
    assert (record["total_autobot_memory_mb"], record["total_autobot_cpu_percent"]) == (0.0, 0.0)
