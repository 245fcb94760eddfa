"""Cost of a client call next to a synchronous POST of the same event, and how many events
one client process delivers per second, against the real exporter in the same run.

    python tests/benchmarks/bench_client.py [--calls 20000] [--posts 500] [--events 200000]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import requests

sys.path.append(str(Path(__file__).resolve().parents[2]))  # an installed exporter first

from autobot_exporter_client import MetricsClient

from tests.support.processes import Exporter


def percentiles_us(durations_ns: list[int]) -> str:
    ordered = sorted(durations_ns)
    p99 = ordered[int(len(ordered) * 0.99) - 1]
    return f"median {statistics.median(ordered) / 1000:.2f} µs, p99 {p99 / 1000:.2f} µs"


def client_call_ns(url: str, calls: int) -> list[int]:
    client = MetricsClient(url, max_buffered_events=calls + 1)
    durations = []
    for number in range(calls):
        began = time.perf_counter_ns()
        client.start_step_timing("bench-workflow", f"step-{number}", "research")
        durations.append(time.perf_counter_ns() - began)
    client.flush(timeout=60)
    client.close()
    return durations


def direct_post_ns(url: str, posts: int) -> list[int]:
    session = requests.Session()
    durations = []
    for number in range(posts):
        event = {
            "type": "step_started",
            "workflow_id": "bench-direct",
            "step_id": f"d-{number}",
            "agent": "research",
        }
        began = time.perf_counter_ns()
        session.post(url + "/api/v1/events", json=event, timeout=10)
        durations.append(time.perf_counter_ns() - began)
    return durations


def delivery_rate(url: str, events: int) -> float:
    client = MetricsClient(url, batch_size=1000, max_buffered_events=events + 1)
    began = time.perf_counter()
    for number in range(events // 2):
        client.start_step_timing("rate-workflow", f"s{number}", "research")
        client.end_step_timing("rate-workflow", f"s{number}")
    assert client.flush(timeout=300)
    elapsed = time.perf_counter() - began
    client.close()
    assert client.stats.delivered == events // 2 * 2
    return events // 2 * 2 / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=20_000)
    parser.add_argument("--posts", type=int, default=500)
    parser.add_argument("--events", type=int, default=200_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        exporter = Exporter(Path(directory))
        try:
            calls = client_call_ns(exporter.url, args.calls)
            posts = direct_post_ns(exporter.url, args.posts)
            rate = delivery_rate(exporter.url, args.events)
        finally:
            exporter.stop()
    print(f"client call (enqueue), {args.calls} calls: {percentiles_us(calls)}")
    print(
        f"  reference, requests.post of the same event, {args.posts} posts: "
        f"{percentiles_us(posts)} ({statistics.median(posts) / statistics.median(calls):.0f}x "
        "the client's median)"
    )
    print(
        f"one client process delivers {rate:,.0f} events/s ({args.events} step events, "
        "batches of 1000, to the exporter on the same 2-CPU machine)"
    )


if __name__ == "__main__":
    main()
