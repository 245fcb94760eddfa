"""Per-eviction cost of every bounded memory, in its first window and after it turned over
ten times: flat means O(1) however many evictions came before.

    python tests/benchmarks/bench_evictions.py [--capacity 100000] [--windows 10]

Reference in the same run: the pattern the exporter used before (a dict as an ordered
set, evicting with ``del d[next(iter(d))]``), which grows with every eviction.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

from prometheus_client import CollectorRegistry

sys.path.append(str(Path(__file__).resolve().parents[2]))  # an installed exporter first

from exporter.config import Config
from exporter.workflows.dedup import BUILT_WINDOW, SeenIds
from exporter.workflows.events import StepStarted, WorkflowFinished, WorkflowStarted
from exporter.workflows.id_map import BUILT_MAP, DictIdMap, IdMap
from exporter.workflows.metrics import SelfMetrics, WorkflowMetrics
from exporter.workflows.pairing import Half, PairTable
from exporter.workflows.tracker import WorkflowTracker

Operation = Callable[[int], object]


def per_op_ns(operation: Operation, first: int, count: int) -> float:
    began = time.perf_counter()
    for n in range(first, first + count):
        operation(n)
    return (time.perf_counter() - began) / count * 1e9


def first_and_late(operation: Operation, capacity: int, windows: int) -> tuple[float, float]:
    """ns per operation over the window right after filling, and over the last window."""
    for n in range(capacity):
        operation(n)
    first = per_op_ns(operation, capacity, capacity)
    for n in range(2 * capacity, windows * capacity):
        operation(n)
    late = per_op_ns(operation, windows * capacity, capacity)
    return first, late


def old_dict_pattern(capacity: int) -> Operation:
    ids: dict[int, None] = {}

    def add(n: int) -> None:
        ids[n] = None
        if len(ids) > capacity:
            del ids[next(iter(ids))]

    return add


def seen_ids(capacity: int) -> Operation:
    return SeenIds(capacity).add


def fifo_ids(capacity: int) -> Operation:
    """The C window (the default where setup.py built it): ids as the events carry them."""
    assert BUILT_WINDOW is not None, "the C windows are not built here"
    window = BUILT_WINDOW(capacity, 0)
    return lambda n: window.add(f"event-{n}")


def map_pushes(held: IdMap) -> Operation:
    """Finished workflows entering a full map by id: each push returns the oldest."""
    return lambda n: held.push(f"wf-{n}", n)


def fifo_map(capacity: int) -> Operation:
    assert BUILT_MAP is not None, "the C windows are not built here"
    return map_pushes(BUILT_MAP(capacity, 0))


def dict_id_map(capacity: int) -> Operation:
    return map_pushes(DictIdMap(capacity))


def open_halves(capacity: int) -> Operation:
    """Step starts whose finish never comes: the oldest is drained past capacity."""
    table: PairTable[str, None] = PairTable(capacity)

    def put(n: int) -> None:
        table.put_start(("wf", str(n)), Half(0.0, 0.0, "agent"))
        table.drain(deadline=-1.0)

    return put


def matched_then_drained(capacity: int) -> Operation:
    """Most halves leave from the middle (matched), leaving holes; one old one stays."""
    table: PairTable[str, None] = PairTable(capacity)
    table.put_start(("wf", "never"), Half(0.0, 1e18, "agent"))

    def put_and_match(n: int) -> None:
        key = ("wf", str(n))
        table.put_start(key, Half(0.0, 1e18, "agent"))
        table.take_start(key)
        table.close(key)
        table.settle()  # as the tracker does after each batch
        table.drain(deadline=0.0)

    return put_and_match


def tracker(config: Config) -> WorkflowTracker:
    registry = CollectorRegistry()
    return WorkflowTracker(config, WorkflowMetrics(registry, config.buckets), SelfMetrics(registry))


def active_at_capacity(capacity: int) -> Operation:
    """Workflows that never finish: past max_active_workflows the oldest is abandoned, and
    past max_history the oldest finished one leaves the history."""
    config = Config(max_active_workflows=capacity, max_history=capacity)
    workflows = tracker(config)

    def start(n: int) -> None:
        workflows.apply([WorkflowStarted(workflow_id=f"wf-{n}", complexity="c")])

    return start


def history_at_capacity(capacity: int) -> Operation:
    """Whole workflows (start, a step, finish): the history turns over."""
    workflows = tracker(Config(max_history=capacity))

    def run(n: int) -> None:
        workflow_id = f"wf-{n}"
        workflows.apply(
            [
                WorkflowStarted(workflow_id=workflow_id, complexity="c"),
                StepStarted(workflow_id=workflow_id, step_id="s", agent="a"),
                WorkflowFinished(workflow_id=workflow_id, status="completed"),
            ]
        )

    return run


STRUCTURES: dict[str, Callable[[int], Operation]] = {
    "dedup window (FifoIds, C)": fifo_ids,
    "dedup window (SeenIds, without a compiler)": seen_ids,
    "history's map (FifoMap, C)": fifo_map,
    "history's map (DictIdMap, without a compiler)": dict_id_map,
    "open pair halves, drained": open_halves,
    "pairs matched, closed, drained": matched_then_drained,
    "active workflows at max_active_workflows": active_at_capacity,
    "history at max_history": history_at_capacity,
    "reference: dict + del d[next(iter(d))]": old_dict_pattern,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--capacity", type=int, default=100_000)
    parser.add_argument("--windows", type=int, default=10)
    args = parser.parse_args()
    print(f"capacity {args.capacity:,}; late = the window after {args.windows} turnovers")
    print(f"{'structure':44} {'first ns/op':>12} {'late ns/op':>12} {'late/first':>10}")
    for name, make in STRUCTURES.items():
        first, late = first_and_late(make(args.capacity), args.capacity, args.windows)
        print(f"{name:44} {first:12,.0f} {late:12,.0f} {late / first:10.2f}")


if __name__ == "__main__":
    main()
