"""Process groups: a real child process matched and measured; vanishing, zombie and
unreadable processes from a stand-in psutil never raise and are counted."""

from __future__ import annotations

import contextlib
import uuid
from collections import namedtuple
from types import SimpleNamespace

import psutil
import pytest

from exporter.config import ProcessGroup
from exporter.system.process_groups import ProcessGroupScanner
from tests.support.processes import memory_holder


@pytest.fixture
def child():
    marker = f"autobot-test-worker-{uuid.uuid4().hex[:8]}"
    with memory_holder(marker, 48) as process:
        yield marker, process


def test_real_child_is_matched_with_its_rss(child):
    marker, process = child
    scanner = ProcessGroupScanner((ProcessGroup(name="worker", cmdline=marker),))
    first = scanner.scan(now=1.0, cpus=2).groups["worker"]
    rss = psutil.Process(process.pid).memory_info().rss
    assert first.processes == 1
    assert first.resident_bytes == pytest.approx(rss, rel=0.05)
    assert first.resident_bytes > 48 * 1024 * 1024
    assert first.threads >= 1 and first.open_fds >= 3
    assert first.cpu_ratio is None
    second = scanner.scan(now=2.0, cpus=2).groups["worker"]
    assert second.cpu_ratio is not None and 0 <= second.cpu_ratio <= 1


def test_real_child_is_listed_on_its_own(child):
    marker, process = child
    scanner = ProcessGroupScanner((ProcessGroup(name="worker", cmdline=marker),))
    first = scanner.scan(now=1.0, cpus=2)
    (listed,) = first.processes
    assert (listed.pid, listed.name, listed.cpu_percent) == (
        process.pid,
        psutil.Process(process.pid).name(),
        0.0,
    )
    assert listed.resident_bytes == first.groups["worker"].resident_bytes
    assert first.unlisted == 0


def test_group_cpu_counter_survives_the_exit_of_its_process(child):
    marker, process = child
    scanner = ProcessGroupScanner((ProcessGroup(name="worker", cmdline=marker),))
    before = scanner.scan(now=1.0, cpus=2).groups["worker"]
    process.kill()
    process.wait()
    after = scanner.scan(now=2.0, cpus=2).groups["worker"]
    assert after.processes == 0
    assert after.cpu_user_seconds_total >= before.cpu_user_seconds_total
    assert after.cpu_user_seconds_total + after.cpu_system_seconds_total > 0


def test_the_scanner_never_counts_its_own_process():
    scanner = ProcessGroupScanner((ProcessGroup(name="me", cmdline="."),))
    own = psutil.Process()
    usage = scanner.scan(now=1.0, cpus=1).groups["me"]
    others = sum(1 for p in psutil.process_iter(["pid"]) if p.pid != own.pid)
    assert usage.processes <= others


def test_first_matching_group_wins():
    groups = (ProcessGroup(name="a", cmdline="worker"), ProcessGroup(name="b", comm="python"))
    ps = FakePs(
        {
            10: fake_process("python", ["python", "worker.py"]),
            11: fake_process("python", ["python", "other.py"]),
        }
    )
    usage = ProcessGroupScanner(groups, ps, own_pid=1).scan(1.0, 1).groups
    assert (usage["a"].processes, usage["b"].processes) == (1, 1)


CpuTimes = namedtuple("CpuTimes", "user system")
MemoryInfo = namedtuple("MemoryInfo", "rss vms")


class NoSuchProcess(Exception):
    pass


def fake_process(name, cmdline, status="running", denied=(), vanishes_at=None):
    return {
        "name": name,
        "cmdline": cmdline,
        "create_time": 1.0,
        "status": status,
        "cpu_times": CpuTimes(1.0, 0.5),
        "memory_info": MemoryInfo(1000, 2000),
        "num_threads": 2,
        "num_fds": 4,
        "denied": denied,
        "vanishes_at": vanishes_at,
    }


class FakePs(SimpleNamespace):
    """The few psutil calls the scanner makes."""

    STATUS_ZOMBIE = "zombie"
    NoSuchProcess = NoSuchProcess

    def __init__(self, processes):
        super().__init__(processes=processes)

    def pids(self):
        return [*self.processes, 999]  # 999 is gone by the time it is read

    def Process(self, pid):
        if pid not in self.processes:
            raise NoSuchProcess(pid)
        data = self.processes[pid]

        class Proc:
            calls = 0

            def create_time(self):
                return data["create_time"]

            def oneshot(self):
                return contextlib.nullcontext()

            def as_dict(self, attrs, ad_value=None):
                Proc.calls += 1
                if data["vanishes_at"] == Proc.calls:
                    raise NoSuchProcess(pid)
                return {a: ad_value if a in data["denied"] else data[a] for a in attrs}

        return Proc()


def test_vanished_zombie_and_denied_processes_are_skipped_and_counted():
    ps = FakePs(
        {
            10: fake_process("autobot", ["autobot", "serve"]),
            11: fake_process("autobot", ["autobot"], status="zombie"),
            12: fake_process("autobot", ["autobot"], denied=("num_fds", "memory_info")),
            13: fake_process("autobot", ["autobot"], vanishes_at=2),
        }
    )
    scanner = ProcessGroupScanner((ProcessGroup(name="autobot", comm="autobot"),), ps, own_pid=1)
    usage = scanner.scan(1.0, 1).groups["autobot"]
    assert usage.processes == 2
    assert usage.resident_bytes == 1000
    assert usage.open_fds == 4
    assert dict(scanner.skipped) == {"vanished": 2, "zombie": 1, "access_denied": 1}


def test_a_process_is_matched_once_for_its_lifetime():
    ps = FakePs({10: fake_process("autobot", ["autobot"])})
    scanner = ProcessGroupScanner((ProcessGroup(name="autobot", comm="autobot"),), ps, own_pid=1)
    scanner.scan(1.0, 1)
    ps.processes[10]["name"] = "renamed"
    assert scanner.scan(2.0, 1).groups["autobot"].processes == 1


def test_the_list_keeps_the_largest_processes_in_pid_order_and_counts_the_rest():
    processes = {pid: fake_process("autobot", ["autobot"]) for pid in range(10, 16)}
    for pid, rss in zip(processes, (10, 60, 30, 50, 20, 40), strict=True):
        processes[pid]["memory_info"] = MemoryInfo(rss, 0)
    ps = FakePs(processes)
    scanner = ProcessGroupScanner(
        (ProcessGroup(name="autobot", comm="autobot"),), ps, own_pid=1, max_listed=3
    )
    scanner.scan(1.0, 1)
    for pid, process in processes.items():
        process["cpu_times"] = CpuTimes(1.0 + pid / 100, 0.5)  # pid/100 s more
    scan = scanner.scan(3.0, 1)
    assert [(p.pid, p.resident_bytes) for p in scan.processes] == [(11, 60), (13, 50), (15, 40)]
    assert [p.cpu_percent for p in scan.processes] == [5.5, 6.5, 7.5]  # of one CPU over 2 s
    assert scan.unlisted == 3
    assert scan.cpu_percent == pytest.approx(sum(pid / 2 for pid in processes))
    assert scan.groups["autobot"].processes == 6
