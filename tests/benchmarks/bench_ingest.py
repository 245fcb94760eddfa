"""Sustained ingest: the exporter's CPU per event and RSS from its first events to far
past every bounded window, against its own start, with the machine's speed taken out.

    python tests/benchmarks/bench_ingest.py [--events 1000000]

Workload: whole workflows (a start, 8 steps with ``duration_seconds``, a finish; unique
``event_id``s; ids of 40-60 characters) in batches of 1000 over keep-alive HTTP. The default
config's largest window is 100,000 (``dedup_window``, ``max_pending_pairs``; ``max_history``
holds 10,000 workflows = 100,000 events), so 1,000,000 events turn every window over ten
times.

The control is a second exporter on small windows (``CONTROL_CONFIG``), so its cost is flat
from its first events; it gets the same batches in turn with the exporter, one each. For
every span of 100,000 events the exporter's CPU per event is divided by its own over its
first 60,000, and that by the control's same ratio: what is left is the exporter's growth,
not how fast this shared machine runs at the minute. Budget: at most 1.15x after 400,000.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psutil
import requests

sys.path.append(str(Path(__file__).resolve().parents[2]))

from tests.support.processes import Exporter, main_thread_cpu_seconds

BATCH = 1000
FRESH_EVENTS = 60_000
SPAN_EVENTS = 100_000
STEPS = 8
CONTROL_CONFIG = (
    "dedup_window: 1000\nmax_pending_pairs: 1000\nmax_history: 100\n"
    "max_active_workflows: 1000\nmax_kept_details: 10000\n"
)


def batches(total: int) -> Iterator[bytes]:
    """Bodies of BATCH events, whole workflows cut wherever a batch ends."""
    events: list[dict] = []
    number = 0
    sent = 0
    while sent < total:
        workflow = f"steady-workflow-{number:012d}-{'x' * (number % 20)}"
        ids = f"{workflow}-event"
        events.append(
            {"type": "workflow_started", "workflow_id": workflow, "event_id": f"{ids}-start"}
        )
        events += [
            {
                "type": "step_finished",
                "workflow_id": workflow,
                "event_id": f"{ids}-{step}",
                "step_id": f"step-{step}",
                "agent": "research",
                "success": step != 3,
                "duration_seconds": 0.5 + step,
            }
            for step in range(STEPS)
        ]
        events.append(
            {
                "type": "workflow_finished",
                "workflow_id": workflow,
                "event_id": f"{ids}-end",
                "status": "completed",
            }
        )
        number += 1
        while len(events) >= BATCH:
            yield json.dumps(events[:BATCH]).encode()
            del events[:BATCH]
            sent += BATCH


class Fed:
    """An exporter being fed, with its event loop's CPU read at span boundaries."""

    def __init__(self, exporter: Exporter) -> None:
        self.url = exporter.url + "/api/v1/events"
        self.process = psutil.Process(exporter.process.pid)
        self.session = requests.Session()
        self.marks: list[float] = [main_thread_cpu_seconds(self.process)]

    def post(self, body: bytes) -> None:
        reply = self.session.post(
            self.url, data=body, headers={"Content-Type": "application/json"}, timeout=30
        )
        assert reply.json()["accepted"] == BATCH, reply.text

    def mark(self) -> float:
        """CPU seconds since the last mark."""
        self.marks.append(main_thread_cpu_seconds(self.process))
        return self.marks[-1] - self.marks[-2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        exporter = Exporter(Path(folder))
        control = Exporter(Path(folder), CONTROL_CONFIG)
        try:
            run(Fed(exporter), Fed(control), args.events)
        finally:
            exporter.stop()
            control.stop()


def run(exporter: Fed, control: Fed, total: int) -> None:
    boundaries = {FRESH_EVENTS, *range(SPAN_EVENTS, total + 1, SPAN_EVENTS)}
    fresh: tuple[float, float] | None = None
    start = 0
    print(f"{'events':>17} {'µs/event':>9} {'control':>8} {'growth':>7} {'RSS MiB':>8}")
    worst_after_400k = 0.0
    for sent, body in enumerate(batches(total), start=1):
        exporter.post(body)
        control.post(body)
        events = sent * BATCH
        if events not in boundaries:
            continue
        count = events - start
        per_event = exporter.mark() / count * 1e6, control.mark() / count * 1e6
        rss = exporter.process.memory_info().rss / 2**20
        if fresh is None:
            fresh = per_event
            growth = 1.0
        else:
            growth = (per_event[0] / fresh[0]) / (per_event[1] / fresh[1])
        if events > 400_000:
            worst_after_400k = max(worst_after_400k, growth)
        span = f"{start:,}-{events:,}"
        print(f"{span:>17} {per_event[0]:9.2f} {per_event[1]:8.2f} {growth:6.2f}x {rss:8.1f}")
        start = events
    print(f"highest growth after 400,000 events: {worst_after_400k:.2f}x (budget 1.15x)")


if __name__ == "__main__":
    main()
