"""/metrics at the label caps (every complexity, agent and error type at max_label_values),
and what scraping it does to ingest: single-event POST latency while a scraper loops, next
to the same POSTs with no scraper, in the same run.

    python tests/benchmarks/bench_scrape.py [--posts 400]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

sys.path.append(str(Path(__file__).resolve().parents[2]))  # an installed exporter first

from prometheus_client.exposition import generate_latest as client_python_text
from prometheus_client.openmetrics.exposition import (
    generate_latest as client_python_openmetrics,
)

from exporter.app import create_app
from exporter.config import Config
from exporter.web.exposition import choose
from exporter.web.keys import REGISTRY, TRACKER
from exporter.workflows.events import decode_events
from tests.support.processes import Exporter

LABEL_CAP = 64
HEADERS = {"Content-Type": "application/json"}


def worst_case_events() -> list[dict]:
    """Every complexity x status and agent x error type the caps allow."""
    events: list[dict] = []
    for complexity in range(LABEL_CAP):
        for status in ("completed", "failed", "cancelled", "timeout"):
            workflow = f"w-{complexity}-{status}"
            events.append(
                {
                    "type": "workflow_started",
                    "workflow_id": workflow,
                    "complexity": f"c{complexity}",
                    "ts": 1000,
                }
            )
            events.append(
                {"type": "workflow_finished", "workflow_id": workflow, "status": status, "ts": 1010}
            )
    for agent in range(LABEL_CAP):
        for error in range(LABEL_CAP):
            events.append(
                {
                    "type": "step_finished",
                    "workflow_id": f"s-{agent}",
                    "step_id": f"{error}",
                    "agent": f"a{agent}",
                    "success": False,
                    "error_type": f"E{error}",
                    "duration_seconds": 1.0,
                }
            )
        events.append(
            {
                "type": "step_finished",
                "workflow_id": f"s-{agent}",
                "step_id": "ok",
                "agent": f"a{agent}",
                "success": True,
                "duration_seconds": 0.5,
            }
        )
    return events


async def post_latencies_ms(url: str, posts: int, prefix: str) -> list[float]:
    async with aiohttp.ClientSession() as session:
        latencies = []
        for number in range(posts):
            body = json.dumps(
                {
                    "type": "step_started",
                    "workflow_id": prefix,
                    "step_id": str(number),
                    "agent": "a0",
                }
            )
            began = time.perf_counter()
            async with session.post(url + "/api/v1/events", data=body, headers=HEADERS) as reply:
                await reply.read()
            latencies.append((time.perf_counter() - began) * 1000)
        return latencies


async def get_forever(url: str, durations: list[float]) -> None:
    async with aiohttp.ClientSession() as session:
        while True:
            began = time.perf_counter()
            async with session.get(url) as reply:
                await reply.read()
            durations.append((time.perf_counter() - began) * 1000)


async def while_getting(base: str, path: str, posts: int) -> tuple[list[float], list[float]]:
    """Single-event POST latencies while ``path`` is fetched back to back, and the fetches'."""
    fetches: list[float] = []
    getter = asyncio.create_task(get_forever(base + path, fetches))
    await asyncio.sleep(0.2)
    latencies = await post_latencies_ms(base, posts, f"during{path}")
    getter.cancel()
    return latencies, fetches


def render_ms(renders: int) -> list[tuple[str, float, float]]:
    """In-process render time of the capped registry per format: the exporter's encoder and
    client_python's, alternated in the same loop."""
    app = create_app(Config())
    events = decode_events(json.dumps(worst_case_events()).encode()).events
    app[TRACKER].apply(events)
    registry = app[REGISTRY]
    rows = []
    for name, accept, standard in (
        ("text", "", client_python_text),
        ("OpenMetrics", "application/openmetrics-text", client_python_openmetrics),
    ):
        ours, _ = choose(accept)
        times: dict[str, list[float]] = {"ours": [], "standard": []}
        for _ in range(renders):
            for key, encoder in (("ours", ours), ("standard", standard)):
                began = time.perf_counter()
                encoder(registry)
                times[key].append((time.perf_counter() - began) * 1000)
        rows.append((name, statistics.median(times["ours"]), statistics.median(times["standard"])))
    return rows


def summary(values: list[float]) -> str:
    ordered = sorted(values)
    p99 = ordered[max(0, int(len(ordered) * 0.99) - 1)]
    return f"median {statistics.median(ordered):.1f} ms, p99 {p99:.1f} ms, max {ordered[-1]:.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=400)
    parser.add_argument("--renders", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        exporter = Exporter(Path(directory))
        try:
            exporter.post_events(worst_case_events())
            lines = exporter.metrics_text().count("\n")
            quiet = asyncio.run(post_latencies_ms(exporter.url, args.posts, "quiet"))
            during, scrapes = asyncio.run(while_getting(exporter.url, "/metrics", args.posts))
        finally:
            exporter.stop()
    print(f"/metrics at the label caps, {lines} lines: {summary(scrapes)} ({len(scrapes)} scrapes)")
    print(f"single-event POST while scraping back to back: {summary(during)}")
    print(f"  reference, the same POSTs with no scraper:   {summary(quiet)}")
    for name, ours, standard in render_ms(args.renders):
        print(
            f"render in-process, {name}: {ours:.0f} ms; reference, client_python's encoder: "
            f"{standard:.0f} ms ({standard / ours:.1f}x)"
        )


if __name__ == "__main__":
    main()
