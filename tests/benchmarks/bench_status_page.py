"""What a dozen open status pages cost the exporter: its CPU per second while 12 pollers
fetch /api/status every 5 s (the page's interval at the default collection_interval),
beside the same 12 pollers fetching /-/healthy (a bare handler) and no pollers at all,
with 10,000 workflows in the history (every status is built from it).

    python tests/benchmarks/bench_status_page.py [--seconds 20]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
import psutil

sys.path.append(str(Path(__file__).resolve().parents[2]))  # an installed exporter first
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_ingest import batch_body

from tests.support.processes import Exporter

TABS = 12
POLL_SECONDS = 5.0
HISTORY_BATCHES = 100  # 100 workflows each


async def load(url: str) -> None:
    headers = {"Content-Type": "application/json"}
    async with aiohttp.ClientSession() as session:
        for number in range(HISTORY_BATCHES):
            async with session.post(
                url + "/api/v1/events", data=batch_body(number), headers=headers
            ) as reply:
                assert reply.status == 202


async def poll(url: str, path: str | None, seconds: float) -> int:
    """Tabs fetching ``path`` every POLL_SECONDS (staggered) for ``seconds``; requests made."""
    if path is None:
        await asyncio.sleep(seconds)
        return 0
    made = 0
    async with aiohttp.ClientSession() as session:

        async def tab(offset: float) -> None:
            nonlocal made
            await asyncio.sleep(offset)
            deadline = time.monotonic() + seconds - offset
            while time.monotonic() < deadline:
                async with session.get(url + path) as reply:
                    await reply.read()
                made += 1
                await asyncio.sleep(POLL_SECONDS)

        await asyncio.gather(*(tab(n * POLL_SECONDS / TABS) for n in range(TABS)))
    return made


def cpu_seconds(pid: int) -> float:
    times = psutil.Process(pid).cpu_times()
    return times.user + times.system


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        exporter = Exporter(Path(directory))
        try:
            asyncio.run(load(exporter.url))
            pid = exporter.process.pid
            figures = {}
            for name, path in (
                ("no pollers", None),
                (f"{TABS} pollers of /-/healthy (reference)", "/-/healthy"),
                (f"{TABS} status pages polling /api/status", "/api/status"),
            ):
                before = cpu_seconds(pid)
                made = asyncio.run(poll(exporter.url, path, args.seconds))
                figures[name] = ((cpu_seconds(pid) - before) / args.seconds, made)
        finally:
            exporter.stop()
    print(f"{HISTORY_BATCHES * 100:,} workflows in the history; {args.seconds:g} s per phase")
    for name, (cpu, made) in figures.items():
        print(f"  {name:42} {cpu * 1000:6.1f} ms of CPU per second ({made} requests)")


if __name__ == "__main__":
    main()
