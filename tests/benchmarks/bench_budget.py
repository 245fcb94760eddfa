"""The exporter's cost at AutoBot's load: CPU % of one core, RSS and the p99 of an ingest
POST, idle and at 1x and 10x a busy AutoBot's peak, with a real Prometheus scraping.

    python tests/benchmarks/bench_budget.py [--seconds 60] [--peak 250]

Load: whole workflows (a start, four steps timed by the exporter, one approval wait, an
end: 11 events) through the shipped client's original calls (``MetricsClient``:
``start_workflow_tracking``, ``start_step_timing``, ``end_step_timing``,
``record_approval_wait_time``, ``end_workflow_tracking``), paced to ``--peak`` events per
second (1x) and ten times that (10x); at 10x, 60 s turn every window over (the largest,
``dedup_window``, holds 100,000 events). Meanwhile a prober posts the next 50 events of
whole workflows of the same shape (in the client's wire format) every 200 ms on its own
keep-alive connection and times each POST (the p99), and Prometheus scrapes /metrics every
5 s. Each phase lasts ``--seconds``.

Reference, same run, same load at 10x: a bare aiohttp handler that reads each body and
answers 202 (the HTTP cost alone), and its process's RSS.

Budget (issue "Lean and installable"), at 10x: at most 5 % of one core, idle at most 1 %,
p99 of a 50-event POST at most 20 ms, RSS at most 64 MiB.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import statistics
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psutil
import requests

sys.path.append(str(Path(__file__).resolve().parents[2]))

from autobot_exporter_client import MetricsClient

from tests.support.processes import cpu_seconds, free_port, installed, wait_until

EVENTS_PER_WORKFLOW = 11
STEPS = 4
PROBE_EVENTS = 50
PROBE_INTERVAL = 0.2
SCRAPE_INTERVAL = "5s"

BARE_HANDLER = textwrap.dedent(
    """
    import sys
    from aiohttp import web
    import prometheus_client  # loaded, as the exporter loads it: part of the RSS reference

    async def accept(request):
        await request.read()
        return web.json_response({"accepted": 1, "duplicates": 0}, status=202)

    app = web.Application()
    app.router.add_post("/api/v1/events", accept)
    app.router.add_get("/metrics", lambda request: web.Response(text=""))
    web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None, access_log=None)
    """
)


@dataclass
class Phase:
    name: str
    cpu_percent: float
    rss_mib: float
    p99_ms: float | None
    events_per_second: float


@contextlib.contextmanager
def started(args: list[str], url: str) -> Iterator[psutil.Process]:
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until(lambda: requests.get(url, timeout=2).ok, 30, f"{args[0]} to answer")
        yield psutil.Process(process.pid)
    finally:
        process.terminate()
        process.wait(timeout=15)


@contextlib.contextmanager
def prometheus_scraping(target: str, directory: Path) -> Iterator[None]:
    port = free_port()
    config = directory / "prometheus.yml"
    config.write_text(
        json.dumps(
            {
                "global": {"scrape_interval": SCRAPE_INTERVAL},
                "scrape_configs": [
                    {"job_name": "autobot-exporter", "static_configs": [{"targets": [target]}]}
                ],
            }
        )
    )
    args = [
        "prometheus",
        f"--config.file={config}",
        f"--storage.tsdb.path={directory / 'data'}",
        f"--web.listen-address=127.0.0.1:{port}",
    ]
    with started(args, f"http://127.0.0.1:{port}/-/ready"):
        yield


class Load:
    """Whole workflows through the client's original calls at ``rate`` events per second,
    and the prober's timed 50-event POSTs, until ``stop``."""

    def __init__(self, url: str, rate: float) -> None:
        self._url = url
        self._rate = rate
        self._stop = threading.Event()
        self.latencies: list[float] = []
        self.events = 0
        self._threads = [
            threading.Thread(target=self._workflows),
            threading.Thread(target=self._probe),
        ]

    def __enter__(self) -> Load:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join()

    def _workflows(self) -> None:
        client = MetricsClient(self._url)
        began = time.monotonic()
        number = 0
        while not self._stop.is_set():
            due = int((time.monotonic() - began) * self._rate / EVENTS_PER_WORKFLOW)
            while number < due:
                workflow_id = f"budget-{began}-{number}"
                client.start_workflow_tracking(
                    workflow_id, {"complexity": "research", "total_steps": STEPS}
                )
                for step in range(STEPS):
                    client.start_step_timing(workflow_id, f"s{step}", "research")
                    client.end_step_timing(workflow_id, f"s{step}", success=step != 3)
                client.record_approval_wait_time(workflow_id, 1500.0)
                client.end_workflow_tracking(workflow_id, "completed")
                number += 1
            time.sleep(0.01)
        client.close()
        self.events = number * EVENTS_PER_WORKFLOW

    def _probe(self) -> None:
        events = probe_events()
        with requests.Session() as session:
            while not self._stop.wait(PROBE_INTERVAL):
                batch = list(itertools.islice(events, PROBE_EVENTS))
                began = time.perf_counter()
                reply = session.post(f"{self._url}/api/v1/events", json=batch, timeout=10)
                self.latencies.append(time.perf_counter() - began)
                assert reply.status_code == 202, reply.text


def probe_events() -> Iterator[dict]:
    """Whole workflows, event by event, in the client's wire shape (each with its event_id
    and ts), for the prober to cut into 50-event batches as the client cuts its own."""
    for number in itertools.count():
        workflow_id = f"probe-{number}"
        kinds: list[tuple[str, dict]] = [
            ("workflow_started", {"complexity": "research", "total_steps": STEPS}),
        ]
        for step in range(STEPS):
            kinds.append(("step_started", {"step_id": f"s{step}", "agent": "probe"}))
            kinds.append(("step_finished", {"step_id": f"s{step}", "success": True}))
        kinds.append(("approval_resolved", {"outcome": "approved", "wait_seconds": 1.5}))
        kinds.append(("workflow_finished", {"status": "completed"}))
        for index, (kind, fields) in enumerate(kinds):
            yield {
                "type": kind,
                "workflow_id": workflow_id,
                "event_id": f"{workflow_id}-{index}",
                "ts": time.time(),
                **fields,
            }


def measure(process: psutil.Process, url: str, name: str, rate: float, seconds: float) -> Phase:
    with Load(url, rate) if rate else contextlib.nullcontext() as load:
        time.sleep(min(5.0, seconds / 3))  # warm-up, not counted
        cpu_before, began = cpu_seconds(process), time.monotonic()
        time.sleep(seconds)
        used, elapsed = cpu_seconds(process) - cpu_before, time.monotonic() - began
    p99 = None
    if load is not None and len(load.latencies) >= 20:
        p99 = statistics.quantiles(load.latencies, n=100)[98] * 1000
    return Phase(
        name,
        100 * used / elapsed,
        process.memory_info().rss / 2**20,
        p99,
        load.events / (elapsed + min(5.0, seconds / 3)) if load else 0.0,
    )


def report(phases: list[Phase]) -> None:
    print(f"{'phase':34} {'CPU % of a core':>15} {'RSS MiB':>8} {'p99 50-event POST':>18}")
    for phase in phases:
        p99 = f"{phase.p99_ms:.1f} ms" if phase.p99_ms is not None else "-"
        print(f"{phase.name:34} {phase.cpu_percent:15.2f} {phase.rss_mib:8.1f} {p99:>18}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--seconds",
        type=float,
        default=60.0,
        help="length of each phase (60: at 10x, past every window)",
    )
    parser.add_argument("--peak", type=float, default=250.0, help="1x, in events per second")
    args = parser.parse_args()
    phases = []
    with tempfile.TemporaryDirectory() as folder:
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        exporter_args = [installed("autobot-exporter"), f"--web.listen-address=127.0.0.1:{port}"]
        with (
            started(exporter_args, url + "/-/ready") as exporter,
            prometheus_scraping(f"127.0.0.1:{port}", Path(folder)),
        ):
            phases.append(measure(exporter, url, "exporter idle (scraped)", 0, args.seconds))
            for times in (1, 10):
                rate = args.peak * times
                name = f"exporter at {times}x ({rate:g} events/s)"
                phases.append(measure(exporter, url, name, rate, args.seconds))
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        with started([sys.executable, "-c", BARE_HANDLER, str(port)], url + "/metrics") as bare:
            rate = args.peak * 10
            name = "reference: bare aiohttp at 10x"
            phases.append(measure(bare, url, name, rate, args.seconds))
    report(phases)


if __name__ == "__main__":
    main()
