"""Sustained ingest: CPU per event and RSS from the first events to far past every bounded
window, over HTTP and in-process, each beside a reference from the same run.

    python tests/benchmarks/bench_ingest.py [--events 2000000] [--rounds 1]

Workload: whole workflows (a start, 8 steps with ``duration_seconds``, a finish; unique
``event_id``s) in batches of 1000, sent over 4 keep-alive connections. The default config's
largest window is 100,000 (``dedup_window``, ``max_pending_pairs``; ``max_history`` holds
10,000 workflows = 100,000 events), so 2,000,000 events turn every window over 20 times.

Figures, for the first 60,000 events, the 100,000 events before 5x the largest window,
and the last 100,000 events:
  1. exporter CPU per event over HTTP (read from /proc), and RSS;
     reference: a bare aiohttp handler that reads the same bodies and answers 202;
  2. CPU per event decoded and applied by direct calls in this process;
  3. CPU per single-event POST (keep-alive), exporter vs the bare handler;
  4. /metrics latency after the load vs a bare handler GET;
  5. RSS idle vs a bare aiohttp + prometheus_client process.
With ``--rounds N``, all of it N times, then the medians of the CPU figures and of each
round's ratio to its own first 60,000 events: on a shared machine one round's ratio moves
by 10-15 %.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import statistics
import sys
import tempfile
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import psutil
from prometheus_client import CollectorRegistry

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from exporter.config import Config
from exporter.workflows.events import decode_events
from exporter.workflows.metrics import SelfMetrics, WorkflowMetrics
from exporter.workflows.tracker import WorkflowTracker
from tests.support.processes import Exporter, ManagedProcess, free_port

BATCH_WORKFLOWS = 100
EVENTS_PER_WORKFLOW = 10
BATCH = BATCH_WORKFLOWS * EVENTS_PER_WORKFLOW
CONNECTIONS = 4
FRESH = 60_000
LARGEST_WINDOW = 100_000
SPAN = 100_000
SINGLE_POSTS = 4000
SCRAPES = 100
COMPLEXITIES = ("simple", "research", "install", "complex")
AGENTS = ("classifier", "research", "librarian", "system_commands", "orchestrator")

BARE_SERVER = textwrap.dedent(
    """
    import sys
    import prometheus_client
    from aiohttp import web
    async def accept(request):
        await request.read()
        return web.json_response({"accepted": 1, "duplicates": 0}, status=202)
    async def ok(request):
        return web.Response(text="ok")
    app = web.Application()
    app.router.add_post("/api/v1/events", accept)
    app.router.add_get("/-/ready", ok)
    web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None, access_log=None)
    """
)


def batch_body(number: int) -> bytes:
    """Batch ``number``: 100 whole workflows, 1000 events, every id unique."""
    events = []
    for workflow in range(number * BATCH_WORKFLOWS, (number + 1) * BATCH_WORKFLOWS):
        workflow_id = f"wf-{workflow:09d}"
        events.append(
            {
                "type": "workflow_started",
                "workflow_id": workflow_id,
                "complexity": COMPLEXITIES[workflow % 4],
                "event_id": f"{workflow_id}-start",
            }
        )
        for step in range(8):
            events.append(
                {
                    "type": "step_finished",
                    "workflow_id": workflow_id,
                    "step_id": f"s{step}",
                    "agent": AGENTS[(workflow + step) % 5],
                    "success": (workflow + step) % 13 != 0,
                    "duration_seconds": 0.1 * (step + 1),
                    "event_id": f"{workflow_id}-{step}",
                }
            )
        events.append(
            {
                "type": "workflow_finished",
                "workflow_id": workflow_id,
                "status": "completed",
                "event_id": f"{workflow_id}-end",
            }
        )
    return json.dumps(events).encode()


def checkpoints(total: int) -> list[tuple[str, int, int]]:
    """(name, first event, end event) of the spans measured."""
    at_five = 5 * LARGEST_WINDOW + 2 * SPAN
    return [
        ("first 60k", 0, FRESH),
        (f"{(at_five - SPAN) // 1000}k-{at_five // 1000}k (5x window)", at_five - SPAN, at_five),
        (f"last 100k (to {total // 1000}k)", total - SPAN, total),
    ]


class CpuMeter:
    """CPU seconds of a process (or of this one) at chosen event counts.

    Another process's CPU time is the sum of its threads' run time in nanoseconds
    (``/proc/PID/task/*/schedstat``): ``/proc/PID/stat`` counts 10 ms clock ticks, which is
    0.17 µs per event over the first 60,000 events, 5 % of the figure. Threads that exited
    in between are not counted (the sampler's short-lived statvfs threads: well under
    0.01 µs per event)."""

    def __init__(self, pid: int | None) -> None:
        self._process = psutil.Process(pid) if pid else None
        self._tasks = Path(f"/proc/{pid}/task") if pid else None
        self.readings: dict[int, tuple[float, float]] = {}

    def cpu(self) -> float:
        if self._tasks is None:
            return time.process_time()
        run_ns = 0
        for schedstat in self._tasks.glob("*/schedstat"):
            # a thread may end between the listing and the read
            with contextlib.suppress(FileNotFoundError, ProcessLookupError):
                run_ns += int(schedstat.read_text().split()[0])
        return run_ns / 1e9

    def mark(self, events: int) -> None:
        rss = (self._process or psutil.Process()).memory_info().rss / 2**20
        self.readings[events] = (self.cpu(), rss)

    def per_event_us(self, start: int, end: int) -> float:
        return (self.readings[end][0] - self.readings[start][0]) / (end - start) * 1e6

    def rss(self, events: int) -> float:
        return self.readings[events][1]


async def send_batches(url: str, total: int, meter: CpuMeter, marks: set[int]) -> None:
    """Batches in order over CONNECTIONS connections; marks taken between batches, with
    nothing in flight."""
    headers = {"Content-Type": "application/json"}
    connector = aiohttp.TCPConnector(limit=CONNECTIONS)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def post(body: bytes) -> None:
            async with session.post(url + "/api/v1/events", data=body, headers=headers) as reply:
                assert reply.status == 202, await reply.text()

        sent = 0
        meter.mark(0)
        while sent < total:
            group = min(CONNECTIONS, (total - sent) // BATCH)
            bodies = [batch_body(sent // BATCH + n) for n in range(group)]
            await asyncio.gather(*(post(body) for body in bodies))
            sent += group * BATCH
            if sent in marks:
                meter.mark(sent)


def new_tracker() -> WorkflowTracker:
    """A tracker on the default config, set up as the exporter's (bench_cache.py too)."""
    config = Config()
    registry = CollectorRegistry()
    tracker = WorkflowTracker(
        config, WorkflowMetrics(registry, config.buckets), SelfMetrics(registry)
    )
    gc.freeze()  # as the exporter does after start-up
    return tracker


def in_process(total: int, marks: set[int]) -> CpuMeter:
    tracker = new_tracker()
    meter = CpuMeter(None)
    applied, cpu = 0, 0.0
    meter.readings[0] = (0.0, psutil.Process().memory_info().rss / 2**20)
    for number in range(total // BATCH):
        body = batch_body(number)  # built outside the measured time
        began = time.process_time()
        tracker.apply(decode_events(body).events)
        cpu += time.process_time() - began
        applied += BATCH
        if applied in marks:
            meter.readings[applied] = (cpu, psutil.Process().memory_info().rss / 2**20)
    return meter


async def single_posts_cpu_us(url: str, pid: int, seed: int) -> float:
    bodies = iter(
        json.dumps({"type": "workflow_started", "workflow_id": f"single-{seed}-{n}"}).encode()
        for n in range(SINGLE_POSTS)
    )
    meter = CpuMeter(pid)
    headers = {"Content-Type": "application/json"}

    async def worker(session: aiohttp.ClientSession, work: Iterator[bytes]) -> None:
        for body in work:
            async with session.post(url + "/api/v1/events", data=body, headers=headers) as reply:
                assert reply.status == 202
                await reply.read()

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=8)) as session:
        meter.mark(0)
        await asyncio.gather(*(worker(session, bodies) for _ in range(8)))
        meter.mark(SINGLE_POSTS)
    return meter.per_event_us(0, SINGLE_POSTS)


async def get_latencies_ms(url: str, count: int) -> list[float]:
    async with aiohttp.ClientSession() as session:
        latencies = []
        for _ in range(count):
            began = time.perf_counter()
            async with session.get(url) as reply:
                await reply.read()
            latencies.append((time.perf_counter() - began) * 1000)
        return latencies


def summary_ms(latencies: list[float]) -> str:
    ordered = sorted(latencies)
    p99 = ordered[int(len(ordered) * 0.99) - 1]
    return f"median {statistics.median(ordered):.2f} ms, p99 {p99:.2f} ms"


def report(name: str, meter: CpuMeter, spans: list[tuple[str, int, int]], rss: bool) -> list[float]:
    """Print each span's CPU per event; returns them."""
    fresh = meter.per_event_us(spans[0][1], spans[0][2])
    costs = []
    for label, start, end in spans:
        cost = meter.per_event_us(start, end)
        costs.append(cost)
        memory = f", RSS {meter.rss(end):6.1f} MiB" if rss else ""
        print(f"  {name:22} {label:28} {cost:6.2f} µs/event ({cost / fresh:4.2f}x fresh){memory}")
    return costs


def one_round(total: int, spans: list[tuple[str, int, int]]) -> tuple[list[float], list[float]]:
    """Measure and print every figure once; returns the CPU per event of each span, over
    HTTP and in-process."""
    marks = {point for _, start, end in spans for point in (start, end)}
    assert all(point % (BATCH * CONNECTIONS) == 0 for point in marks), marks
    with tempfile.TemporaryDirectory() as directory:
        exporter = Exporter(Path(directory))
        port = free_port()
        bare = ManagedProcess(
            [sys.executable, "-c", BARE_SERVER, str(port)], Path(directory) / "bare.log"
        )
        bare_url = f"http://127.0.0.1:{port}"
        try:
            bare.wait_ready(bare_url + "/-/ready")
            idle = psutil.Process(exporter.process.pid).memory_info().rss / 2**20
            bare_idle = psutil.Process(bare.process.pid).memory_info().rss / 2**20
            over_http = CpuMeter(exporter.process.pid)
            asyncio.run(send_batches(exporter.url, total, over_http, marks))
            bare_meter = CpuMeter(bare.process.pid)
            asyncio.run(send_batches(bare_url, spans[0][2], bare_meter, {spans[0][2]}))
            single = asyncio.run(single_posts_cpu_us(exporter.url, exporter.process.pid, 1))
            bare_single = asyncio.run(single_posts_cpu_us(bare_url, bare.process.pid, 2))
            scrape = asyncio.run(get_latencies_ms(exporter.url + "/metrics", SCRAPES))
            bare_get = asyncio.run(get_latencies_ms(bare_url + "/-/ready", SCRAPES))
            finished = exporter.sample_getter()(
                "autobot_workflows_finished_total", complexity="simple", status="completed"
            )
        finally:
            exporter.stop()
            bare.stop()
    direct = in_process(total, marks)
    print(
        f"{total:,} events in batches of {BATCH} over {CONNECTIONS} connections; "
        f"Python {sys.version.split()[0]}, {psutil.cpu_count()} CPUs"
    )
    print("batches over HTTP (exporter CPU from /proc):")
    http_costs = report("exporter", over_http, spans, rss=True)
    bare_cost = bare_meter.per_event_us(0, spans[0][2])
    print(f"  {'reference, bare aiohttp':22} {spans[0][0]:28} {bare_cost:6.2f} µs/event")
    print("decoded and applied in-process:")
    direct_costs = report("direct calls", direct, spans, rss=False)
    print(f"counted exactly: {finished == total // EVENTS_PER_WORKFLOW // 4} ({finished:,.0f})")
    print(
        f"single-event POST: {single:.0f} µs CPU; bare aiohttp handler {bare_single:.0f} µs "
        f"({single / bare_single:.2f}x)"
    )
    print(f"/metrics after the load: {summary_ms(scrape)}; bare GET {summary_ms(bare_get)}")
    print(
        f"RSS idle {idle:.1f} MiB, after the load {over_http.rss(total):.1f} MiB; "
        f"bare aiohttp + prometheus_client idle {bare_idle:.1f} MiB ({idle / bare_idle:.2f}x)"
    )
    return http_costs, direct_costs


def medians(name: str, rounds: list[list[float]], spans: list[tuple[str, int, int]]) -> None:
    """Per span, the median CPU per event and the median of each round's ratio to its own
    first span (a round's steady state is compared with its own fresh start)."""
    for index, (label, _, _) in enumerate(spans):
        cost = statistics.median(costs[index] for costs in rounds)
        ratio = statistics.median(costs[index] / costs[0] for costs in rounds)
        print(f"  {name:22} {label:28} {cost:6.2f} µs/event ({ratio:4.2f}x fresh)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2_000_000)
    parser.add_argument("--rounds", type=int, default=1, help="repeat, then print medians")
    args = parser.parse_args()
    total = args.events - args.events % (BATCH * CONNECTIONS)
    spans = checkpoints(total)
    results = []
    for number in range(1, args.rounds + 1):
        if args.rounds > 1:
            print(f"--- round {number} of {args.rounds}")
        results.append(one_round(total, spans))
    if args.rounds > 1:
        print(f"--- medians over {args.rounds} rounds")
        medians("exporter over HTTP", [http for http, _ in results], spans)
        medians("direct calls", [direct for _, direct in results], spans)


if __name__ == "__main__":
    main()
