"""Sustained ingest: CPU per event and RSS from the first events to far past every bounded
window, over HTTP and in-process, each beside a reference from the same run.

    python tests/benchmarks/bench_ingest.py [--events 2000000] [--rounds 1]

Workload: whole workflows (a start, 8 steps with ``duration_seconds``, a finish; unique
``event_id``s) in batches of 1000, sent over 4 keep-alive connections. The default config's
largest window is 100,000 (``dedup_window``, ``max_pending_pairs``; ``max_history`` holds
10,000 workflows = 100,000 events), so 2,000,000 events turn every window over 20 times.

Figures:
  1. exporter CPU per event over HTTP (read from /proc), and RSS, for the first 60,000
     events, the 100,000 events before 5x the largest window, and the last 100,000 events;
     reference: a bare aiohttp handler that reads the same bodies and answers 202;
  2. the exporter's growth: its CPU per event over every 100,000 events against its own
     first 60,000, both divided by a control's over the same events. The control is a
     second exporter on small windows (CONTROL_SETTINGS), so its cost is flat from its
     first events; it is fed the same batches in turn with the exporter, one step each,
     from the first event to the last, so that it measures how fast the machine runs at
     the time (this shared machine's speed moves by 10-15 % between minutes). Both sides of
     each ratio are the same two processes, so what a process owes to its own memory
     layout (new processes read up to 1.08x against each other) cancels out;
  3. at every 200,000 events, the exporter's CPU per event over its next 60,000 events
     against a new exporter's over its first 60,000, the two fed in turn: the steady state
     against a fresh start in the same seconds, a second process's layout included;
  4. 1 to 3 again for events decoded and applied by direct calls, in processes of their
     own (a new process's heap holds nothing but the tracker);
  5. CPU per single-event POST (keep-alive), exporter vs the bare handler;
  6. /metrics latency after the load vs a bare handler GET;
  7. RSS idle vs a bare aiohttp + prometheus_client process.
The exporter measured is the one installed in the running interpreter's environment:
compiled with mypyc from a non-editable install where a C compiler was found (setup.py),
pure Python from the editable install ``./run-tests.sh`` makes. With ``--rounds N``, all of
it N times, then the medians. ``--set max_history=100`` (and
more ``--set``) runs both the exporter and the in-process tracker on other settings, to see
what a window costs; ``--direct-only`` skips the HTTP figures (about 30 s a round).
``--control SETTING=VALUE`` (repeatable) puts the control on other settings than
CONTROL_SETTINGS; its CPU per event against the exporter's in each span is what the
exporter's full windows cost against the control's, both in steady state.
"""

from __future__ import annotations

import abc
import argparse
import asyncio
import contextlib
import functools
import gc
import json
import multiprocessing
import statistics
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable, Iterator, Sequence
from multiprocessing.connection import Connection
from pathlib import Path
from typing import NamedTuple

import aiohttp
import psutil
from prometheus_client import CollectorRegistry

sys.path.append(str(Path(__file__).resolve().parents[2]))  # an installed exporter first

from exporter.config import parse_config
from exporter.workflows.events import decode_events
from exporter.workflows.metrics import COMPILED, SelfMetrics, WorkflowMetrics
from exporter.workflows.tracker import WorkflowTracker
from tests.support.processes import Exporter, ManagedProcess, free_port

BATCH_WORKFLOWS = 100
EVENTS_PER_WORKFLOW = 10
BATCH = BATCH_WORKFLOWS * EVENTS_PER_WORKFLOW
CONNECTIONS = 4
FRESH = 60_000
LARGEST_WINDOW = 100_000
SPAN = 100_000
PAIRED_EVERY = 200_000
SINGLE_POSTS = 4000
SCRAPES = 100
COMPLEXITIES = ("simple", "research", "install", "complex")
AGENTS = ("classifier", "research", "librarian", "system_commands", "orchestrator")
CONTROL_SETTINGS = ["dedup_window=1000", "max_history=100", "max_pending_pairs=1000"]
"""Small windows, full after the first few thousand events: a cost flat from the start."""

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


def process_cpu_seconds(pid: int) -> float:
    """Another process's CPU time: the sum of its threads' run time in nanoseconds
    (``/proc/PID/task/*/schedstat``). ``/proc/PID/stat`` counts 10 ms clock ticks, which is
    0.17 µs per event over 60,000 events, 5 % of the figure. Threads that exited in between
    are not counted (the sampler's short-lived statvfs threads: well under 0.01 µs per
    event)."""
    run_ns = 0
    for schedstat in Path(f"/proc/{pid}/task").glob("*/schedstat"):
        # a thread may end between the listing and the read
        with contextlib.suppress(FileNotFoundError, ProcessLookupError):
            run_ns += int(schedstat.read_text().split()[0])
    return run_ns / 1e9


class Feed(abc.ABC):
    """Sends this benchmark's batches, in order, to one consumer; adds up the consumer's
    CPU time over them, and notes (CPU seconds, RSS MiB) at the event counts in ``marks``."""

    def __init__(self, pid: int, marks: set[int]) -> None:
        self._process = psutil.Process(pid)
        self._marks = marks
        self.sent = 0
        self.cpu_seconds = 0.0
        self.readings: dict[int, tuple[float, float]] = {0: (0.0, self.rss())}

    async def step(self) -> None:
        self.cpu_seconds += await self._send()
        if self.sent in self._marks:
            self.readings[self.sent] = (self.cpu_seconds, self.rss())

    @abc.abstractmethod
    async def _send(self) -> float:
        """Send the next batches, count them in ``sent``; the CPU seconds they took."""

    def rss(self) -> float:
        return self._process.memory_info().rss / 2**20

    def per_event_us(self, start: int, end: int) -> float:
        return (self.readings[end][0] - self.readings[start][0]) / (end - start) * 1e6


class HttpFeed(Feed):
    """POSTs CONNECTIONS batches at a time, over keep-alive connections, to a server."""

    def __init__(self, session: aiohttp.ClientSession, url: str, pid: int, marks: set[int]) -> None:
        super().__init__(pid, marks)
        self._session, self._url, self._pid = session, url + "/api/v1/events", pid

    async def _send(self) -> float:
        bodies = [batch_body(self.sent // BATCH + n) for n in range(CONNECTIONS)]
        began = process_cpu_seconds(self._pid)
        await asyncio.gather(*(self._post(body) for body in bodies))
        self.sent += CONNECTIONS * BATCH
        return process_cpu_seconds(self._pid) - began

    async def _post(self, body: bytes) -> None:
        headers = {"Content-Type": "application/json"}
        async with self._session.post(self._url, data=body, headers=headers) as reply:
            assert reply.status == 202, await reply.text()


def apply_batches(connection: Connection, config_text: str) -> None:
    """In a new process (so that its heap holds nothing else): a tracker applies the batches
    asked for; the answer is the CPU seconds each took to decode and apply."""
    tracker = new_tracker(config_text)
    while (number := connection.recv()) is not None:
        body = batch_body(number)  # built outside the measured time
        began = time.process_time()
        tracker.apply(decode_events(body).events)
        connection.send(time.process_time() - began)


class TrackerFeed(Feed, contextlib.AbstractContextManager["TrackerFeed"]):
    """Direct calls, one batch at a time, in a new Python process (``apply_batches``)."""

    def __init__(self, marks: set[int], config_text: str) -> None:
        context = multiprocessing.get_context("spawn")
        self._connection, theirs = context.Pipe()
        self._worker = context.Process(target=apply_batches, args=(theirs, config_text))
        self._worker.start()
        super().__init__(self._worker.pid or 0, marks)

    async def _send(self) -> float:
        self._connection.send(self.sent // BATCH)
        self.sent += BATCH
        return float(self._connection.recv())

    def __exit__(self, *exc_info: object) -> None:
        self._connection.send(None)
        self._worker.join()


class Paired(NamedTuple):
    """The long-lived consumer's CPU per event over FRESH events from ``at`` on, a new
    consumer's over its first FRESH events, and the control's over the same events as the
    long-lived one, all fed in turn in the same seconds."""

    at: int
    steady_us: float
    fresh_us: float
    control_us: float


async def feed_all(
    steady: Feed,
    control: Feed,
    total: int,
    new_fresh: Callable[[], contextlib.AbstractContextManager[Feed]],
) -> list[Paired]:
    """Send ``total`` events to ``steady`` and the same to ``control``, a step each in turn;
    from every PAIRED_EVERY events on, feed a new consumer its first FRESH events in turn
    with them. Ratios of consumers fed in turn hold however fast this shared machine runs
    at the time (it moves by 10-15 % between minutes)."""
    pairs = []
    while steady.sent < total:
        if steady.sent % PAIRED_EVERY or steady.sent + FRESH > total:
            await steady.step()
            await control.step()
            continue
        at, before, control_before = steady.sent, steady.cpu_seconds, control.cpu_seconds
        with new_fresh() as fresh:
            while fresh.sent < FRESH:
                await steady.step()
                await control.step()
                await fresh.step()
        pairs.append(
            Paired(
                at,
                (steady.cpu_seconds - before) / FRESH * 1e6,
                fresh.cpu_seconds / FRESH * 1e6,
                (control.cpu_seconds - control_before) / FRESH * 1e6,
            )
        )
    return pairs


class Run(NamedTuple):
    """What one way of feeding (over HTTP or by direct calls) measured."""

    steady: Feed
    control: Feed
    pairs: list[Paired]


async def over_http(exporter: Exporter, control: Exporter, total: int, config_text: str) -> Run:
    """The exporter and the control fed ``total`` events each, and a new exporter on the
    exporter's settings (in the same folder) beside them from every PAIRED_EVERY events on."""
    connector = aiohttp.TCPConnector(limit=2 * CONNECTIONS)
    async with aiohttp.ClientSession(connector=connector) as session:

        @contextlib.contextmanager
        def new_exporter() -> Iterator[Feed]:
            fresh = Exporter(exporter.config_path.parent, config_text)
            try:
                yield HttpFeed(session, fresh.url, fresh.process.pid, set())
            finally:
                fresh.stop()

        marks = spans_marks(total)
        steady = HttpFeed(session, exporter.url, exporter.process.pid, marks)
        reference = HttpFeed(session, control.url, control.process.pid, marks)
        return Run(steady, reference, await feed_all(steady, reference, total, new_exporter))


async def bare_handler(url: str, pid: int) -> float:
    """CPU per event of the bare aiohttp handler over FRESH events."""
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=CONNECTIONS)) as session:
        feed = HttpFeed(session, url, pid, {FRESH})
        while feed.sent < FRESH:
            await feed.step()
        return feed.per_event_us(0, FRESH)


def new_tracker(config_text: str = "") -> WorkflowTracker:
    """A tracker set up as the exporter's (bench_cache.py too), on the default config."""
    config = parse_config(config_text)
    registry = CollectorRegistry()
    tracker = WorkflowTracker(
        config, WorkflowMetrics(registry, config.buckets), SelfMetrics(registry)
    )
    gc.freeze()  # as the exporter does after start-up
    return tracker


def in_process(total: int, config_text: str, control_text: str) -> Run:
    marks = spans_marks(total)
    with TrackerFeed(marks, config_text) as steady, TrackerFeed(marks, control_text) as control:
        fresh = functools.partial(TrackerFeed, set(), config_text)
        return Run(steady, control, asyncio.run(feed_all(steady, control, total, fresh)))


async def single_posts_cpu_us(url: str, pid: int, seed: int) -> float:
    bodies = iter(
        json.dumps({"type": "workflow_started", "workflow_id": f"single-{seed}-{n}"}).encode()
        for n in range(SINGLE_POSTS)
    )
    headers = {"Content-Type": "application/json"}

    async def worker(session: aiohttp.ClientSession, work: Iterator[bytes]) -> None:
        for body in work:
            async with session.post(url + "/api/v1/events", data=body, headers=headers) as reply:
                assert reply.status == 202
                await reply.read()

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=8)) as session:
        began = process_cpu_seconds(pid)
        await asyncio.gather(*(worker(session, bodies) for _ in range(8)))
        return (process_cpu_seconds(pid) - began) / SINGLE_POSTS * 1e6


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


class Figures(NamedTuple):
    """One round's CPU per event in each checkpoint span and against the control there; the
    highest and median growth against its own start; the same of its pairs."""

    spans_us: list[float]
    against_control: list[float]
    worst_growth: float
    median_growth: float
    worst_pair: float
    median_pair: float


def growth(run: Run, total: int) -> list[float]:
    """For every whole SPAN from LARGEST_WINDOW on: the exporter's CPU per event there over
    its first FRESH events', each divided by the control's over the same events."""

    def against_control(start: int, end: int) -> float:
        return run.steady.per_event_us(start, end) / run.control.per_event_us(start, end)

    start_ratio = against_control(0, FRESH)
    return [
        against_control(start, start + SPAN) / start_ratio
        for start in range(LARGEST_WINDOW, total - SPAN + 1, SPAN)
    ]


def report(
    name: str, run: Run, spans: list[tuple[str, int, int]], total: int, rss: bool
) -> Figures:
    """Print each span's CPU per event, the growth against its own start, then each pair;
    returns the figures."""
    fresh = run.steady.per_event_us(spans[0][1], spans[0][2])
    costs, against_control = [], []
    for label, start, end in spans:
        cost, control = run.steady.per_event_us(start, end), run.control.per_event_us(start, end)
        costs.append(cost)
        against_control.append(cost / control)
        memory = f", RSS {run.steady.readings[end][1]:6.1f} MiB" if rss else ""
        print(
            f"  {name:22} {label:28} {cost:6.2f} µs/event ({cost / fresh:4.2f}x first 60k; "
            f"control {control:5.2f}, {cost / control:4.2f}x){memory}"
        )
    ratios = growth(run, total)
    print(
        f"  against its own first {FRESH // 1000}k, each divided by the control's, "
        f"every {SPAN // 1000}k from {LARGEST_WINDOW // 1000}k:"
    )
    for first in range(0, len(ratios), 10):
        print("    " + " ".join(f"{ratio:4.2f}" for ratio in ratios[first : first + 10]))
    print(f"    highest {max(ratios):4.2f}x, median {statistics.median(ratios):4.2f}x")
    print(
        f"  fed in turn with a new one (its first {FRESH // 1000}k events, the same seconds; "
        "the control against it too: whether the control ages):"
    )
    for pair in run.pairs:
        print(
            f"    from {pair.at // 1000:>5}k: {pair.steady_us:5.2f} against {pair.fresh_us:5.2f}"
            f" µs/event ({pair.steady_us / pair.fresh_us:4.2f}x); control {pair.control_us:5.2f}"
            f" ({pair.control_us / pair.fresh_us:4.2f}x)"
        )
    steady = [pair.steady_us / pair.fresh_us for pair in run.pairs if pair.at >= LARGEST_WINDOW]
    control = [pair.control_us / pair.fresh_us for pair in run.pairs if pair.at >= LARGEST_WINDOW]
    print(
        f"    past the largest window: highest {max(steady):4.2f}x, "
        f"median {statistics.median(steady):4.2f}x; the control: highest {max(control):4.2f}x, "
        f"median {statistics.median(control):4.2f}x"
    )
    return Figures(
        costs,
        against_control,
        max(ratios),
        statistics.median(ratios),
        max(steady),
        statistics.median(steady),
    )


async def feed_in_turn(feeds: Sequence[Feed], total: int) -> None:
    """Send ``total`` events to each feed, a step each in turn (the same seconds)."""
    while feeds[0].sent < total:
        for feed in feeds:
            await feed.step()


def spans_marks(total: int) -> set[int]:
    """The event counts at which a feed notes its CPU: every SPAN and the checkpoints'."""
    marks = {*range(0, total + 1, SPAN)}
    marks.update(point for _, start, end in checkpoints(total) for point in (start, end))
    assert all(point % (BATCH * CONNECTIONS) == 0 for point in marks), marks
    return marks


def http_round(
    total: int, spans: list[tuple[str, int, int]], config_text: str, control_text: str
) -> Figures:
    """Measure and print the figures over HTTP once."""
    with tempfile.TemporaryDirectory() as directory:
        exporter = Exporter(Path(directory), config_text)
        control = Exporter(Path(directory), control_text)
        port = free_port()
        bare = ManagedProcess(
            [sys.executable, "-c", BARE_SERVER, str(port)], Path(directory) / "bare.log"
        )
        bare_url = f"http://127.0.0.1:{port}"
        try:
            bare.wait_ready(bare_url + "/-/ready")
            idle = psutil.Process(exporter.process.pid).memory_info().rss / 2**20
            bare_idle = psutil.Process(bare.process.pid).memory_info().rss / 2**20
            run = asyncio.run(over_http(exporter, control, total, config_text))
            bare_cost = asyncio.run(bare_handler(bare_url, bare.process.pid))
            single = asyncio.run(single_posts_cpu_us(exporter.url, exporter.process.pid, 1))
            bare_single = asyncio.run(single_posts_cpu_us(bare_url, bare.process.pid, 2))
            scrape = asyncio.run(get_latencies_ms(exporter.url + "/metrics", SCRAPES))
            bare_get = asyncio.run(get_latencies_ms(bare_url + "/-/ready", SCRAPES))
            finished = exporter.sample_getter()(
                "autobot_workflows_finished_total", complexity="simple", status="completed"
            )
        finally:
            exporter.stop()
            control.stop()
            bare.stop()
    print("batches over HTTP (exporter CPU from /proc):")
    figures = report("exporter", run, spans, total, rss=True)
    print(f"  {'reference, bare aiohttp':22} {spans[0][0]:28} {bare_cost:6.2f} µs/event")
    print(f"counted exactly: {finished == total // EVENTS_PER_WORKFLOW // 4} ({finished:,.0f})")
    print(
        f"single-event POST: {single:.0f} µs CPU; bare aiohttp handler {bare_single:.0f} µs "
        f"({single / bare_single:.2f}x)"
    )
    print(f"/metrics after the load: {summary_ms(scrape)}; bare GET {summary_ms(bare_get)}")
    print(
        f"RSS idle {idle:.1f} MiB, after the load {run.steady.readings[total][1]:.1f} MiB; "
        f"bare aiohttp + prometheus_client idle {bare_idle:.1f} MiB ({idle / bare_idle:.2f}x)"
    )
    return figures


def direct_round(
    total: int, spans: list[tuple[str, int, int]], config_text: str, control_text: str
) -> Figures:
    """Measure and print the in-process figures once."""
    run = in_process(total, config_text, control_text)
    print("decoded and applied by direct calls, in a process of their own:")
    return report("direct calls", run, spans, total, rss=False)


def medians(name: str, rounds: list[Figures], spans: list[tuple[str, int, int]]) -> None:
    """Per span, the median CPU per event, the median of each round's ratio to its own
    first span and to the control; then the medians of the rounds' growth and pairs."""
    for index, (label, _, _) in enumerate(spans):
        cost = statistics.median(figures.spans_us[index] for figures in rounds)
        ratio = statistics.median(
            figures.spans_us[index] / figures.spans_us[0] for figures in rounds
        )
        control = statistics.median(figures.against_control[index] for figures in rounds)
        print(
            f"  {name:22} {label:28} {cost:6.2f} µs/event ({ratio:4.2f}x first 60k, "
            f"{control:4.2f}x control)"
        )

    def each(values: Iterator[float]) -> str:
        return "/".join(f"{value:4.2f}" for value in values)

    print(
        f"    against its own start, by the control: "
        f"highest {each(figures.worst_growth for figures in rounds)}, "
        f"median {each(figures.median_growth for figures in rounds)}"
    )
    print(
        f"    fed in turn with a new one, past the largest window: "
        f"highest {each(figures.worst_pair for figures in rounds)}, "
        f"median {each(figures.median_pair for figures in rounds)}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2_000_000)
    parser.add_argument("--rounds", type=int, default=1, help="repeat, then print medians")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="SETTING=VALUE",
        help="a config setting other than the default (max_history=100), for both figures",
    )
    parser.add_argument("--direct-only", action="store_true", help="no HTTP figures")
    parser.add_argument(
        "--control",
        action="append",
        metavar="SETTING=VALUE",
        help=f"the control's settings over --set's (default: {' '.join(CONTROL_SETTINGS)})",
    )
    args = parser.parse_args()
    total = args.events - args.events % (BATCH * CONNECTIONS)
    spans = checkpoints(total)
    config_text = settings_text(args.set)
    control_text = settings_text(args.set + (args.control or CONTROL_SETTINGS))
    http_rounds, direct_rounds = [], []
    for number in range(1, args.rounds + 1):
        if args.rounds > 1:
            print(f"--- round {number} of {args.rounds}")
        print(
            f"{total:,} events in batches of {BATCH} over {CONNECTIONS} connections; "
            f"Python {sys.version.split()[0]}, {psutil.cpu_count()} CPUs; "
            f"config: {', '.join(args.set) or 'the defaults'}; control: "
            f"{', '.join(control_text.splitlines())}; ingest path "
            f"{'compiled with mypyc' if COMPILED else 'pure Python'} "
            f"({Path(sys.executable).parent})"
        )
        if not args.direct_only:
            http_rounds.append(http_round(total, spans, config_text, control_text))
        direct_rounds.append(direct_round(total, spans, config_text, control_text))
    if args.rounds > 1:
        print(f"--- medians over {args.rounds} rounds (highest and median: each round's)")
        if http_rounds:
            medians("exporter over HTTP", http_rounds, spans)
        medians("direct calls", direct_rounds, spans)


def settings_text(settings: list[str]) -> str:
    """YAML for ``SETTING=VALUE`` items, a later item overriding an earlier one; checked
    here, so that a bad setting fails at once, not in every process."""
    values = dict(setting.split("=", 1) for setting in settings)
    text = "".join(f"{name}: {value}\n" for name, value in values.items())
    parse_config(text)
    return text


if __name__ == "__main__":
    main()
