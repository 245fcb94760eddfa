"""The JSON API's whole-history answers with 10,000 finished workflows, and what they do to
ingest: single-event POST latency while each is fetched back to back, next to the same POSTs
with nothing fetched, in the same run.

    python tests/benchmarks/bench_json_api.py [--workflows 10000] [--posts 300]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

sys.path.append(str(Path(__file__).resolve().parents[2]))  # an installed exporter first

from tests.benchmarks.bench_scrape import post_latencies_ms, summary, while_getting
from tests.support.processes import Exporter

PATHS = ("/api/metrics/export/workflow", "/api/metrics/performance/summary?time_window_hours=24")


def finished_workflow(number: int, start: float) -> list[dict]:
    """A workflow of five steps (one failing) and an approval, finished."""
    workflow = f"w{number}"
    events: list[dict] = [
        {"type": "workflow_started", "workflow_id": workflow, "complexity": "research", "ts": start}
    ]
    for step in range(5):
        events.append(
            {
                "type": "step_finished",
                "workflow_id": workflow,
                "step_id": f"s{step}",
                "agent": f"agent{step}",
                "success": step != 3,
                "duration_seconds": 1.0 + step,
                "ts": start + step,
            }
        )
    events += [
        {"type": "approval_requested", "workflow_id": workflow, "ts": start + 1},
        {
            "type": "approval_resolved",
            "workflow_id": workflow,
            "outcome": "approved",
            "ts": start + 2,
        },
        {
            "type": "workflow_finished",
            "workflow_id": workflow,
            "status": "completed",
            "ts": start + 6,
        },
    ]
    return events


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workflows", type=int, default=10_000)
    parser.add_argument("--posts", type=int, default=300)
    args = parser.parse_args()
    began = time.time() - 3600
    with tempfile.TemporaryDirectory() as directory:
        exporter = Exporter(Path(directory))
        try:
            for first in range(0, args.workflows, 500):
                batch = [
                    event
                    for number in range(first, min(first + 500, args.workflows))
                    for event in finished_workflow(number, began + number * 0.3)
                ]
                assert exporter.post_events(batch).status_code == 202
            quiet = asyncio.run(post_latencies_ms(exporter.url, args.posts, "quiet"))
            rows = [
                (path, *asyncio.run(while_getting(exporter.url, path, args.posts)))
                for path in PATHS
            ]
        finally:
            exporter.stop()
    print(f"{args.workflows} finished workflows in history")
    for path, during, fetches in rows:
        print(f"GET {path}: {summary(fetches)} ({len(fetches)} fetches)")
        print(f"  single-event POST meanwhile: {summary(during)}")
    print(f"  reference, the same POSTs with nothing fetched: {summary(quiet)}")


if __name__ == "__main__":
    main()
