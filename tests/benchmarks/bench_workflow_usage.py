"""CPU per finished workflow of its sampled resource usage, with the sampler's ring buffer
full, for workflows of every length: it must not grow with the workflow's length.

    python tests/benchmarks/bench_workflow_usage.py [--finishes 20000]

The ring holds the default 720 passes (resource_history 1h at collection_interval 5s), real
passes of this machine. Workflows finish at staggered times over the latest interval, their
lengths drawn at random in each mix, interleaved as they are in real traffic.

Reference in the same run: the same finishes answered by reading every pass of each
workflow's range (what the exporter did before ``WindowStats``), and the instant workflows
of ``bench_ingest.py`` (start and finish in one batch: one pass).
"""

from __future__ import annotations

import argparse
import dataclasses
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.append(str(Path(__file__).resolve().parents[2]))  # an installed exporter first

from exporter.config import Config
from exporter.jsonapi.workflow_usage import WorkflowResourceUsage
from exporter.system.sampler import Sampler
from tests.support.usage import summed

MIXES = (
    ("instant (bench_ingest.py's)", 0.0, 0.0),
    ("10-60 s", 10.0, 60.0),
    ("1-30 min", 60.0, 1800.0),
    ("up to 1 h (the whole ring)", 0.0, 3600.0),
)


def full_sampler(config: Config) -> Sampler:
    """A sampler whose ring holds its capacity of this machine's passes, 5 s apart."""
    sampler = Sampler(config)
    sampler.measure()
    time.sleep(0.2)  # a CPU delta for the next pass
    model = sampler.measure()
    for number in range(sampler.capacity):
        sampler.record(dataclasses.replace(model, timestamp=1e6 + 5.0 * number))
    return sampler


def reading_every_pass(sampler: Sampler) -> Callable[[float, float], dict[str, float]]:
    return lambda start, end: summed(sampler.passes(sampler.pass_numbers(start, end)))


def per_finish_us(
    usage: Callable[[float, float], object], spans: list[tuple[float, float]]
) -> float:
    usage(*spans[0])  # the ring's passes are folded in first (in the exporter, as they come)
    began = time.process_time()
    for start, end in spans:
        usage(start, end)
    return (time.process_time() - began) / len(spans) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--finishes", type=int, default=20_000)
    args = parser.parse_args()
    sampler = full_sampler(Config())
    latest = sampler.latest.timestamp if sampler.latest else 0.0
    rng = random.Random(1)
    print(f"{sampler.capacity} passes in the ring; {args.finishes:,} finishes per mix")
    print(f"  {'workflow lengths':28} {'now':>10} {'reading every pass':>20}")
    for label, shortest, longest in MIXES:
        spans = []
        for number in range(args.finishes):
            end = latest + 5.0 * number / args.finishes
            spans.append((end - rng.uniform(shortest, longest), end))
        now = per_finish_us(WorkflowResourceUsage(sampler), spans)
        before = per_finish_us(reading_every_pass(sampler), spans)
        print(f"  {label:28} {now:7.2f} µs {before:17.2f} µs")


if __name__ == "__main__":
    main()
