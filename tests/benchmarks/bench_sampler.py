"""CPU cost of the background sampler, next to one node_exporter scrape on the same machine
in the same run.

    python tests/benchmarks/bench_sampler.py [--passes 60] [--scrapes 30]

Needs Debian's prometheus-node-exporter (apt-get install prometheus-node-exporter).
The sampler's passes run in this process and are timed with process CPU time; the
node_exporter's CPU time is read from its /proc entry before and after the scrapes.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

import psutil
import requests

sys.path.append(str(Path(__file__).resolve().parents[2]))  # an installed exporter first

from exporter.config import Config
from exporter.system.filesystems import FilesystemReader
from exporter.system.sampler import Sampler
from tests.support.processes import ManagedProcess, free_port


def cpu_seconds(process: psutil.Process) -> float:
    times = process.cpu_times()
    return times.user + times.system


def sampler_cpu_per_pass(passes: int) -> float:
    sampler = Sampler(Config())
    sampler.measure()  # the first pass fills caches (process matches), as at start-up
    began = time.process_time()
    for _ in range(passes):
        sampler.measure()
    return (time.process_time() - began) / passes


def filesystem_seconds_per_mount(reads: int) -> tuple[float, float, int]:
    """CPU time per mount of a read under the mount_timeout deadline (a thread per
    statvfs), and of a direct psutil.disk_usage of the same mounts."""
    reader = FilesystemReader(Config().filesystem)
    mounts = [disk.mountpoint for disk in reader.read().usage]
    began = time.process_time()
    for _ in range(reads):
        reader.read()
    guarded = time.process_time() - began
    began = time.process_time()
    for _ in range(reads):
        psutil.disk_partitions(all=False)
        for mountpoint in mounts:
            psutil.disk_usage(mountpoint)
    direct = time.process_time() - began
    calls = reads * max(len(mounts), 1)
    return guarded / calls, direct / calls, len(mounts)


def node_exporter_cpu_per_scrape(scrapes: int) -> tuple[float, int]:
    binary = shutil.which("prometheus-node-exporter")
    if binary is None:
        raise SystemExit("prometheus-node-exporter is missing: apt-get install it first")
    port = free_port()
    with tempfile.TemporaryDirectory() as directory:
        node = ManagedProcess(
            [binary, f"--web.listen-address=127.0.0.1:{port}"], Path(directory) / "node.log"
        )
        try:
            url = f"http://127.0.0.1:{port}/metrics"
            node.wait_ready(url)
            requests.get(url, timeout=10)
            process = psutil.Process(node.process.pid)
            before = cpu_seconds(process)
            for _ in range(scrapes):
                body = requests.get(url, timeout=10).text
            return (cpu_seconds(process) - before) / scrapes, body.count("\n")
        finally:
            node.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passes", type=int, default=60)
    parser.add_argument("--scrapes", type=int, default=30)
    args = parser.parse_args()
    interval = Config().collection_interval
    per_pass = sampler_cpu_per_pass(args.passes)
    per_scrape, lines = node_exporter_cpu_per_scrape(args.scrapes)
    guarded, direct, mounts = filesystem_seconds_per_mount(args.passes * 10)
    per_minute = per_pass * 60 / interval
    print(f"host: {psutil.cpu_count()} CPUs, {len(psutil.pids())} processes")
    print(
        f"sampler: {per_pass * 1000:.1f} ms CPU per pass; at collection_interval={interval:g}s "
        f"that is {per_minute * 1000:.0f} ms CPU per minute ({per_minute / 60:.3%} of one CPU)"
    )
    print(
        f"  reference, one node_exporter scrape ({lines} lines): {per_scrape * 1000:.1f} ms CPU; "
        f"the sampler's minute costs {per_minute / per_scrape:.1f} node_exporter scrapes"
    )
    print(
        f"filesystems ({mounts} mounts): {guarded * 1e6:.0f} µs CPU per mount with the "
        f"mount_timeout thread; reference, direct psutil.disk_usage: {direct * 1e6:.0f} µs"
    )


if __name__ == "__main__":
    main()
