"""Filesystem usage, one statvfs per mount point under a deadline.

A hung mount (an NFS server gone away) blocks statvfs in the kernel, and no Python code can
interrupt it: without a deadline it would stall every later sampling pass. As node_exporter's
``--collector.filesystem.mount-timeout`` does, each call runs in its own thread; a mount
whose call outlives ``filesystem.mount_timeout`` is reported unreadable, logged once, and
not asked again until that call returns. A mount whose call fails is reported unreadable
too, while the others are still read.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import psutil

from exporter.config import FilesystemConfig
from exporter.log_once import LogOnce
from exporter.system.snapshot import DiskUsage

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Filesystems:
    usage: tuple[DiskUsage, ...]
    unreadable: tuple[str, ...]
    """Mount points whose statvfs failed, timed out, or has still not returned."""


NO_FILESYSTEMS = Filesystems((), ())


class _StatvfsCall:
    """One disk_usage call in a daemon thread; ``done`` is set under the reader's lock, so
    the reader and the call agree on whether the call counts as stuck."""

    def __init__(
        self, ps: ModuleType | Any, mountpoint: str, on_return: Callable[[_StatvfsCall], None]
    ) -> None:
        self.result: Any = None
        self.error: Exception | None = None
        self.done = False
        self._ps = ps
        self.mountpoint = mountpoint
        self._on_return = on_return
        self._thread = threading.Thread(target=self._run, name=f"statvfs {mountpoint}", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self.result = self._ps.disk_usage(self.mountpoint)
        except Exception as error:  # reported as unreadable, whatever the cause
            self.error = error
        self._on_return(self)

    def wait(self, timeout: float) -> None:
        self._thread.join(timeout)


class FilesystemReader:
    """One entry per device (bind mounts of the same device are left out), filtered like
    node_exporter's filesystem collector."""

    def __init__(self, config: FilesystemConfig, ps: ModuleType | Any = psutil) -> None:
        self._mount_exclude = re.compile(config.mount_points_exclude)
        self._type_exclude = re.compile(config.fs_types_exclude)
        self._timeout = config.mount_timeout
        self._ps = ps
        self._lock = threading.Lock()
        self._stuck: set[str] = set()
        self._log_once = LogOnce(log)

    def read(self) -> Filesystems:
        usage = []
        unreadable = []
        for partition in self._partitions():
            reading = self._usage(partition.mountpoint)
            if reading is None:
                unreadable.append(partition.mountpoint)
                continue
            usage.append(
                DiskUsage(
                    mountpoint=partition.mountpoint,
                    device=partition.device,
                    fstype=partition.fstype,
                    used_bytes=reading.used,
                    total_bytes=reading.total,
                    ratio=reading.percent / 100.0,
                    free_bytes=reading.free,
                )
            )
        return Filesystems(
            tuple(sorted(usage, key=lambda d: d.mountpoint)), tuple(sorted(unreadable))
        )

    def _partitions(self) -> list[Any]:
        seen_devices: set[str] = set()
        chosen = []
        for partition in sorted(
            self._ps.disk_partitions(all=False), key=lambda p: len(p.mountpoint)
        ):
            if self._mount_exclude.search(partition.mountpoint):
                continue
            if self._type_exclude.search(partition.fstype) or partition.device in seen_devices:
                continue
            seen_devices.add(partition.device)
            chosen.append(partition)
        return chosen

    def _usage(self, mountpoint: str) -> Any | None:
        with self._lock:
            if mountpoint in self._stuck:
                return None
        call = _StatvfsCall(self._ps, mountpoint, self._returned)
        call.wait(self._timeout)
        with self._lock:
            if not call.done:
                self._stuck.add(mountpoint)
                log.warning(
                    "mount point %s did not answer statvfs within %gs (filesystem.mount_timeout);"
                    " it is skipped until the call returns",
                    mountpoint,
                    self._timeout,
                )
                return None
        if call.error is not None:
            self._log_once.failed(f"statvfs of {mountpoint}", call.error)
            return None
        self._log_once.succeeded(f"statvfs of {mountpoint}")
        return call.result

    def _returned(self, call: _StatvfsCall) -> None:
        with self._lock:
            call.done = True
            if call.mountpoint in self._stuck:
                self._stuck.discard(call.mountpoint)
                log.info("mount point %s answers statvfs again", call.mountpoint)
