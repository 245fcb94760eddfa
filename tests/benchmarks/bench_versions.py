"""Two or more installed exporters (two versions of the code, two builds) fed the same
batches in turn over HTTP, in the same seconds: what a change does to the CPU per event,
from the first events to far past every window.

    python tests/benchmarks/bench_versions.py BEFORE=/tmp/before/bin/autobot-exporter \\
        AFTER=.venv/bin/autobot-exporter [--events 2000000]

Each name is a label, each path an ``autobot-exporter`` command (install each version into
a venv of its own; ``rm -rf build`` before a non-editable install from a tree whose files
changed), started as the tests start the exporter, on its default config. Workload and CPU
reading as ``bench_ingest.py``'s; the reference is the first exporter named, fed the same
batches in the same seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from pathlib import Path

import aiohttp

sys.path.append(str(Path(__file__).resolve().parents[2]))  # an installed exporter first

from tests.benchmarks.bench_ingest import (
    CONNECTIONS,
    HttpFeed,
    checkpoints,
    feed_in_turn,
    spans_marks,
)
from tests.support.processes import Exporter


async def feed(urls: list[tuple[str, int]], total: int, marks: set[int]) -> list[HttpFeed]:
    """Each exporter (url, pid) the same batches in turn; their feeds, with the readings."""
    connector = aiohttp.TCPConnector(limit=2 * CONNECTIONS)
    async with aiohttp.ClientSession(connector=connector) as session:
        feeds = [HttpFeed(session, url, pid, marks) for url, pid in urls]
        await feed_in_turn(feeds, total)
        return feeds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("exporters", nargs="+", metavar="NAME=COMMAND")
    parser.add_argument("--events", type=int, default=2_000_000)
    args = parser.parse_args()
    commands = dict(item.split("=", 1) for item in args.exporters)
    total = args.events - args.events % (CONNECTIONS * 1000)
    spans = checkpoints(total)
    with tempfile.TemporaryDirectory() as directory:
        started: list[Exporter] = []
        try:
            for command in commands.values():
                started.append(Exporter(Path(directory), program=command))
            urls = [(exporter.url, exporter.process.pid) for exporter in started]
            feeds = asyncio.run(feed(urls, total, spans_marks(total)))
        finally:
            for exporter in started:
                exporter.stop()
    names = list(commands)
    print(f"{total:,} events, each batch to every exporter in turn; CPU per event from /proc:")
    for label, first, end in spans:
        costs = [each.per_event_us(first, end) for each in feeds]
        against = "  ".join(
            f"{name} {cost:5.2f} µs ({cost / costs[0]:4.2f}x)"
            for name, cost in zip(names, costs, strict=True)
        )
        print(f"  {label:28} {against}")
    for name, each in zip(names, feeds, strict=True):
        growth = each.per_event_us(*spans[-1][1:]) / each.per_event_us(*spans[0][1:])
        print(f"  {name}: last 100k against its own first 60k: {growth:4.2f}x")


if __name__ == "__main__":
    main()
