"""AutoBot process groups, in the manner of process-exporter.

Each process is matched once (by name and command line, first group wins) and the match is
cached by (pid, start time), so a pass reads little more than /proc/<pid>/stat of the
processes outside every group. CPU seconds are accumulated as per-process deltas, so a group's
counter never goes down when one of its processes exits. Processes that vanish mid-scan,
zombies and unreadable ones are skipped and counted, never raised.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import psutil

from exporter.config import ProcessGroup
from exporter.system.snapshot import GroupUsage, ProcessScan, ProcessUsage

MATCH_ATTRS = ["name", "cmdline"]
USAGE_ATTRS = ["status", "cpu_times", "memory_info", "num_threads", "num_fds"]

ProcessKey = tuple[int, float]


@dataclass(frozen=True, slots=True)
class _Matcher:
    name: str
    comm: re.Pattern | None
    cmdline: re.Pattern | None

    def matches(self, name: str, cmdline: str) -> bool:
        return (self.comm is None or bool(self.comm.search(name))) and (
            self.cmdline is None or bool(self.cmdline.search(cmdline))
        )


@dataclass(slots=True)
class _GroupTotals:
    processes: int = 0
    cpu_delta_seconds: float = 0.0
    resident_bytes: int = 0
    threads: int = 0
    open_fds: int = 0


class ProcessGroupScanner:
    def __init__(
        self,
        groups: tuple[ProcessGroup, ...],
        ps: ModuleType | Any = psutil,
        own_pid: int | None = None,
        max_listed: int = 50,
    ) -> None:
        self._matchers = [
            _Matcher(
                group.name,
                re.compile(group.comm) if group.comm else None,
                re.compile(group.cmdline) if group.cmdline else None,
            )
            for group in groups
        ]
        self._ps = ps
        self._own_pid = os.getpid() if own_pid is None else own_pid
        self._max_listed = max_listed
        self._match_of: dict[ProcessKey, tuple[str, str] | None] = {}
        """(group, name) of each process seen, None outside every group."""
        self._previous_cpu: dict[ProcessKey, tuple[float, float]] = {}
        self._cpu_totals = {m.name: {"user": 0.0, "system": 0.0} for m in self._matchers}
        self._last_scan: float | None = None
        self.skipped: Counter[str] = Counter()
        """Processes left out since start, by reason: vanished, zombie, access_denied."""

    def _match(self, process: Any, key: ProcessKey) -> tuple[str, str] | None:
        """The process's group and name, matched on first sight only: name and command line
        are the expensive reads, and a process keeps its group for life."""
        if key not in self._match_of:
            info = process.as_dict(MATCH_ATTRS, ad_value=None)
            cmdline = " ".join(info["cmdline"] or ())
            name = info["name"] or ""
            group = next((m.name for m in self._matchers if m.matches(name, cmdline)), None)
            self._match_of[key] = None if group is None else (group, name)
        return self._match_of[key]

    def scan(self, now: float, cpus: float) -> ProcessScan:
        totals = {matcher.name: _GroupTotals() for matcher in self._matchers}
        current_cpu: dict[ProcessKey, tuple[float, float]] = {}
        seen: set[ProcessKey] = set()
        matched: list[ProcessUsage] = []
        elapsed = None if self._last_scan is None else now - self._last_scan
        for pid in self._ps.pids():
            if pid == self._own_pid:
                continue
            try:
                process = self._ps.Process(pid)
                key = (pid, process.create_time())
                seen.add(key)
                match = self._match(process, key)
                if match is None:
                    continue
                with process.oneshot():
                    usage = process.as_dict(USAGE_ATTRS, ad_value=None)
            except self._ps.NoSuchProcess:
                self.skipped["vanished"] += 1
                continue
            if usage["status"] == self._ps.STATUS_ZOMBIE:
                self.skipped["zombie"] += 1
                continue
            if any(value is None for value in usage.values()):
                self.skipped["access_denied"] += 1
            group, name = match
            resident = usage["memory_info"].rss if usage["memory_info"] is not None else 0
            cpu_delta = self._add(
                totals[group], group, key, usage, resident=resident, current_cpu=current_cpu
            )
            matched.append(ProcessUsage(pid, name, _cpu_percent(cpu_delta, elapsed), resident))
        self._match_of = {key: m for key, m in self._match_of.items() if key in seen}
        self._previous_cpu = current_cpu
        self._last_scan = now
        listed = sorted(matched, key=lambda p: p.resident_bytes, reverse=True)[: self._max_listed]
        all_cpu_seconds = sum(total.cpu_delta_seconds for total in totals.values())
        return ProcessScan(
            groups={
                name: self._usage(name, total, elapsed, cpus) for name, total in totals.items()
            },
            processes=tuple(sorted(listed, key=lambda p: p.pid)),
            unlisted=len(matched) - len(listed),
            cpu_percent=_cpu_percent(all_cpu_seconds, elapsed),
        )

    def _add(
        self,
        total: _GroupTotals,
        group: str,
        key: ProcessKey,
        usage: dict[str, Any],
        *,
        resident: int,
        current_cpu: dict[ProcessKey, tuple[float, float]],
    ) -> float | None:
        """Adds the process to its group's totals; its CPU seconds since the previous pass
        (None on first sight or when unreadable)."""
        total.processes += 1
        total.resident_bytes += resident
        total.threads += usage["num_threads"] or 0
        total.open_fds += usage["num_fds"] or 0
        times = usage["cpu_times"]
        if times is None:
            return None
        user_before, system_before = self._previous_cpu.get(key, (0.0, 0.0))
        user_delta = max(0.0, times.user - user_before)
        system_delta = max(0.0, times.system - system_before)
        self._cpu_totals[group]["user"] += user_delta
        self._cpu_totals[group]["system"] += system_delta
        seen_before = key in self._previous_cpu
        current_cpu[key] = (times.user, times.system)
        if not seen_before:
            return None
        total.cpu_delta_seconds += user_delta + system_delta
        return user_delta + system_delta

    def _usage(
        self, name: str, total: _GroupTotals, elapsed: float | None, cpus: float
    ) -> GroupUsage:
        ratio = None
        if elapsed and elapsed > 0:
            ratio = min(1.0, total.cpu_delta_seconds / (elapsed * cpus))
        return GroupUsage(
            processes=total.processes,
            cpu_user_seconds_total=self._cpu_totals[name]["user"],
            cpu_system_seconds_total=self._cpu_totals[name]["system"],
            cpu_ratio=ratio,
            resident_bytes=total.resident_bytes,
            threads=total.threads,
            open_fds=total.open_fds,
        )


def _cpu_percent(cpu_seconds: float | None, elapsed: float | None) -> float:
    """psutil's per-process percent: of one CPU, 0.0 until a delta exists."""
    if cpu_seconds is None or not elapsed:
        return 0.0
    return round(100.0 * cpu_seconds / elapsed, 2)
