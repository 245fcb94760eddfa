"""Memory the exporter keeps per entry of each bounded window, next to the size of the JSON
that carried it (the reference: what the client sent), measured with tracemalloc, and the
bound those give at the default config.

    python tests/benchmarks/bench_memory.py [--workflows 2000]

Worst cases: 90-100 character ids. The figures size ``max_kept_details``, the fixed cost
per running workflow (``max_active_workflows``) and per finished one (``max_history``,
sealed), ``dedup_window`` and ``max_pending_pairs`` in docs/configuration.md.
"""

from __future__ import annotations

import argparse
import json
import sys
import tracemalloc
from collections.abc import Callable
from pathlib import Path

sys.path.append(str(Path(__file__).resolve().parents[2]))  # an installed exporter first

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


def finished_workflow(number: int) -> list[dict]:
    """The same workflow, finished: what the history keeps of it, sealed."""
    return [
        *workflow_start(number),
        {"type": "workflow_finished", "workflow_id": f"w{number:089d}", "status": "completed"},
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


def remembered_id(number: int) -> list[dict]:
    """A repeat-proof event whose only lasting trace is its 100-character event_id (the
    workflow is held already, and its started counter exists)."""
    return [
        {
            "type": "resource_sample",
            "workflow_id": "w" * 90,
            "event_id": f"e{number:099d}",
            "data": {},
        }
    ]


def open_half(number: int) -> list[dict]:
    """A step start whose finish has not come: it waits in the pair table."""
    return [
        {
            "type": "step_started",
            "workflow_id": "w" * 90,
            "step_id": f"s{number:089d}",
            "agent": "research",
        }
    ]


def bytes_per_item(events: Events, count: int, keep_steps: bool = True) -> tuple[float, float]:
    """Tracked memory per item after applying ``count`` of them, and JSON bytes per item;
    ``keep_steps`` False leaves the steps out of the JSON (only their closed-pair keys stay)."""
    registry = CollectorRegistry()
    config = msgspec.structs.replace(
        Config(), max_steps_per_workflow=count + 1 if keep_steps else 1
    )
    tracker = WorkflowTracker(
        config, WorkflowMetrics(registry, config.buckets), SelfMetrics(registry)
    )
    tracker.apply(decode_events(json.dumps(step(0)).encode()).events)
    bodies = [json.dumps(events(n)).encode() for n in range(1, count + 1)]
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    for body in bodies:
        tracker.apply(decode_events(body).events)
    used = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    return used / count, sum(len(b) for b in bodies) / count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workflows", type=int, default=2000)
    args = parser.parse_args()
    config = Config()
    windows = [
        (
            "running workflow (fixed state)",
            workflow_start,
            config.max_active_workflows,
            "max_active_workflows",
        ),
        (
            "finished workflow in the history (sealed)",
            finished_workflow,
            config.max_history,
            "max_history",
        ),
        (
            "kept step of a running workflow (also its pair's closed mark)",
            step,
            config.max_kept_details,
            "max_kept_details",
        ),
        (
            "step half waiting for its partner",
            open_half,
            4 * config.max_pending_pairs,
            "4 x max_pending_pairs (starts and ends, steps and approvals)",
        ),
    ]
    closed, closed_sent = bytes_per_item(step, args.workflows, keep_steps=False)
    # two pair tables (steps, approvals), each with its closed keys
    total = closed * 2 * config.max_pending_pairs / 2**20
    print(
        f"closed-pair key of a step not kept: {closed:,.0f} bytes (its JSON event: "
        f"{closed_sent:,.0f} bytes); at 2 x the default max_pending_pairs = "
        f"{2 * config.max_pending_pairs:,}: {total:,.0f} MiB"
    )
    windows.append(("remembered event_id", remembered_id, config.dedup_window, "dedup_window"))
    for name, events, entries, setting in windows:
        kept, sent = bytes_per_item(events, args.workflows)
        bound = kept * entries / 2**20
        total += bound
        print(
            f"{name}: {kept:,.0f} bytes kept (its JSON event: {sent:,.0f} bytes); "
            f"at the default {setting} = {entries:,}: {bound:,.0f} MiB"
        )
    print(f"worst case at the defaults, all windows full: {total:,.0f} MiB above idle")


if __name__ == "__main__":
    main()
