"""Memory the tracker keeps per workflow and per kept detail, next to the size of the JSON
that carried them (the reference: what the client sent), measured with tracemalloc.

    python tests/benchmarks/bench_memory.py [--workflows 2000]

The figures size ``max_kept_details`` and the fixed cost per workflow held
(``max_active_workflows`` + ``max_history``) in the README.
"""

from __future__ import annotations

import argparse
import json
import sys
import tracemalloc
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import msgspec
from prometheus_client import CollectorRegistry

from exporter.config import Config
from exporter.workflows.events import decode_events
from exporter.workflows.metrics import SelfMetrics, WorkflowMetrics
from exporter.workflows.tracker import WorkflowTracker

Events = Callable[[int], list[dict]]


def workflow_start(number: int) -> list[dict]:
    """A start with a 90-character id, a 2 KiB user message (200 characters kept) and 3 agents."""
    return [
        {
            "type": "workflow_started",
            "workflow_id": f"w{number:089d}",
            "complexity": "research",
            "user_message": "m" * 2048,
            "total_steps": 3,
            "agents_involved": ["research", "librarian", "coder"],
            "ts": 1_800_000_000.0,
        }
    ]


def step(number: int) -> list[dict]:
    """A finished step with 90-character workflow and step ids, into one running workflow."""
    return [
        {
            "type": "step_finished",
            "workflow_id": "w" * 90,
            "step_id": f"s{number:089d}",
            "agent": "research",
            "success": False,
            "error_type": "TimeoutError",
            "duration_seconds": 1.5,
        }
    ]


def bytes_per_item(events: Events, count: int) -> tuple[float, float]:
    """Tracked memory per item after applying ``count`` of them, and JSON bytes per item."""
    registry = CollectorRegistry()
    config = msgspec.structs.replace(Config(), max_steps_per_workflow=count + 1)
    tracker = WorkflowTracker(
        config, WorkflowMetrics(registry, config.buckets), SelfMetrics(registry)
    )
    tracker.apply(e for _, e in decode_events(json.dumps(step(0)).encode()).events)
    bodies = [json.dumps(events(n)).encode() for n in range(1, count + 1)]
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    for body in bodies:
        tracker.apply(e for _, e in decode_events(body).events)
    used = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    return used / count, sum(len(b) for b in bodies) / count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workflows", type=int, default=2000)
    args = parser.parse_args()
    for name, events in (("workflow held (fixed state)", workflow_start), ("kept step", step)):
        kept, sent = bytes_per_item(events, args.workflows)
        print(f"{name}: {kept:,.0f} bytes kept; reference, its JSON event: {sent:,.0f} bytes")


if __name__ == "__main__":
    main()
