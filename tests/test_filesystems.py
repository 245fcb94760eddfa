"""Filesystem usage: real statvfs readings on this machine, and a stand-in psutil whose
mounts hang or fail, as a dead NFS server or an unreadable mount would."""

from __future__ import annotations

import logging
import os
import threading
from collections import Counter
from types import SimpleNamespace
from typing import Any

import pytest

from exporter.config import FilesystemConfig
from exporter.system.filesystems import FilesystemReader
from tests.support.processes import wait_until

MIB = 1 << 20
ROOT = SimpleNamespace(device="/dev/vda", mountpoint="/", fstype="ext4")
NFS = SimpleNamespace(device="server:/export", mountpoint="/mnt/nfs", fstype="nfs4")
USAGE = SimpleNamespace(total=1000, used=250, free=750, percent=25.0)


class MountsPs:
    """Two mounts; statvfs of /mnt/nfs waits for ``nfs_answers`` or raises ``nfs_error``."""

    def __init__(self) -> None:
        self.nfs_answers = threading.Event()
        self.nfs_error: Exception | None = None
        self.calls: Counter[str] = Counter()

    def disk_partitions(self, all: bool = False) -> list[Any]:
        return [ROOT, NFS]

    def disk_usage(self, mountpoint: str) -> Any:
        self.calls[mountpoint] += 1
        if mountpoint == NFS.mountpoint:
            if self.nfs_error is not None:
                raise self.nfs_error
            self.nfs_answers.wait()
        return USAGE


def reader(ps: MountsPs, mount_timeout: float = 0.05) -> FilesystemReader:
    return FilesystemReader(FilesystemConfig(mount_timeout=mount_timeout), ps)


def test_root_filesystem_matches_statvfs():
    disks = FilesystemReader(FilesystemConfig()).read().usage
    root = next(d for d in disks if d.mountpoint == "/")
    stat = os.statvfs("/")
    total = stat.f_blocks * stat.f_frsize
    used = (stat.f_blocks - stat.f_bfree) * stat.f_frsize
    assert root.total_bytes == total
    assert root.used_bytes == pytest.approx(used, abs=256 * MIB)
    assert root.ratio == pytest.approx(used / (used + stat.f_bavail * stat.f_frsize), abs=0.01)


def test_filesystem_exclusions_apply():
    disks = FilesystemReader(FilesystemConfig(mount_points_exclude="^/$")).read().usage
    assert "/" not in {d.mountpoint for d in disks}


def test_a_hung_mount_is_reported_skipped_until_it_answers_and_logged_once(caplog):
    ps = MountsPs()
    filesystems = reader(ps)
    with caplog.at_level(logging.INFO, logger="exporter.system.filesystems"):
        first = filesystems.read()
        second = filesystems.read()
        assert [d.mountpoint for d in first.usage] == ["/"]
        assert first.unreadable == second.unreadable == ("/mnt/nfs",)
        assert ps.calls == {"/": 2, "/mnt/nfs": 1}, "a stuck mount is not asked again"
        stuck_lines = [r for r in caplog.records if "did not answer statvfs" in r.getMessage()]
        assert len(stuck_lines) == 1 and stuck_lines[0].levelno == logging.WARNING

        ps.nfs_answers.set()
        recovered = wait_until(
            lambda: filesystems.read().unreadable == (), 5, "the mount to be read again"
        )
    assert recovered
    assert [d.mountpoint for d in filesystems.read().usage] == ["/", "/mnt/nfs"]
    assert any("answers statvfs again" in r.getMessage() for r in caplog.records)


def test_a_failing_mount_leaves_the_others_and_is_logged_once_until_it_recovers(caplog):
    ps = MountsPs()
    ps.nfs_answers.set()
    ps.nfs_error = PermissionError(13, "Permission denied")
    filesystems = reader(ps)
    with caplog.at_level(logging.INFO, logger="exporter.system.filesystems"):
        first, second = filesystems.read(), filesystems.read()
        ps.nfs_error = None
        third = filesystems.read()
    assert [d.mountpoint for d in first.usage] == ["/"]
    assert first.unreadable == second.unreadable == ("/mnt/nfs",)
    assert third.unreadable == () and len(third.usage) == 2
    messages = [r.getMessage() for r in caplog.records]
    assert sum("statvfs of /mnt/nfs failed" in m for m in messages) == 1
    assert any("statvfs of /mnt/nfs recovered" in m for m in messages)
