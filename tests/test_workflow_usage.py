"""A workflow's sampled resource usage: the same answer as summing its passes, at a cost
that does not grow with the workflow's length or the time since start."""

from __future__ import annotations

import random

import pytest

from exporter.config import parse_config
from exporter.jsonapi.workflow_usage import WorkflowResourceUsage
from exporter.system.sampler import Sampler
from exporter.system.snapshot import CpuUsage, GroupUsage, MemoryUsage, ProcessScan, Snapshot
from exporter.system.window_stats import WindowStats
from tests.support.usage import summed


def brute_force(values: list[float | None]) -> tuple[int, float, float] | None:
    present = [value for value in values if value is not None]
    return (len(present), sum(present), max(present)) if present else None


def ranges_within(first: int, end: int, rng: random.Random) -> list[range]:
    """Every non-empty range of the numbers [first, end) when there are at most 200; else
    the whole of it, and 200 picked at random."""
    if (end - first) * (end - first + 1) // 2 <= 200:
        return [range(a, b) for a in range(first, end) for b in range(a + 1, end + 1)]
    starts = [rng.randrange(first, end) for _ in range(200)]
    return [range(first, end), *(range(a, rng.randrange(a + 1, end + 1)) for a in starts)]


@pytest.mark.parametrize("capacity", [1, 2, 5, 64, 720])
def test_window_stats_match_the_values_of_any_range(capacity):
    """Ranges of the latest ``capacity`` values, at every point of a run long enough to cut
    the oldest values off several times."""
    rng = random.Random(capacity)
    stats, values = WindowStats(capacity, first=7), [None] * 7
    for _ in range(5 * capacity + 3):
        value = None if rng.random() < 0.2 else rng.uniform(-5, 100)
        stats.append(value)
        values.append(value)
        if len(values) % (capacity // 50 + 1):
            continue  # for the larger capacities, ranges are checked every few appends
        for numbers in ranges_within(max(7, len(values) - capacity), len(values), rng):
            expected = brute_force(values[numbers.start : numbers.stop])
            got = stats.stats(numbers)
            if expected is None:
                assert got is None
            else:
                assert got is not None
                assert got[0] == expected[0] and got[2] == expected[2]
                assert got[1] == pytest.approx(expected[1], abs=1e-9)


def test_window_stats_refuse_a_range_they_no_longer_hold():
    stats = WindowStats(4)
    for value in range(20):
        stats.append(float(value))
    assert stats.next_number == 20
    assert stats.stats(range(16, 20)) == (4, 70.0, 19.0)
    for outside in (range(0, 3), range(15, 20), range(18, 21)):
        with pytest.raises(IndexError):
            stats.stats(outside)


def test_window_stats_hold_twice_the_capacity_at_most():
    """Memory is bounded by the capacity, not by the number of values appended; the prefix
    sums start from zero again at each cut, so their rounding error does not grow either."""
    stats = WindowStats(100)
    for value in range(10_000):
        stats.append(float(value))
        assert len(stats._counts) <= 2 * 100 + 1
        assert all(len(level) <= 2 * 100 for level in stats._maxima)
    assert stats._sums[0] == 0.0 and stats._sums[-1] < 200 * 10_000


def a_pass(timestamp: float, rng: random.Random) -> Snapshot:
    cpu = None if rng.random() < 0.1 else CpuUsage(rng.random(), 2.0, None)
    return Snapshot(
        timestamp=timestamp,
        cpu=cpu,
        memory=MemoryUsage(rng.randrange(1000), 1000, None),
        processes=ProcessScan(
            {"autobot": GroupUsage(2, 1.0, 1.0, rng.random(), rng.randrange(10**9), 4, 9)},
            (),
            0,
            0.0,
        ),
    )


def test_usage_matches_the_passes_during_each_workflow():
    """Workflows of every length, finishing between passes and at the latest one, while
    passes come and leave a 30-pass ring (300 passes in all)."""
    rng = random.Random(3)
    sampler = Sampler(parse_config("collection_interval: 5s\nresource_history: 150s\n"))
    usage = WorkflowResourceUsage(sampler)
    for number in range(300):
        sampler.record(a_pass(1000.0 + 5 * number, rng))
        latest = sampler.latest.timestamp
        for _ in range(5):
            end = latest - rng.choice([0.0, 0.5, 7.5, 40.0])
            start = end - rng.uniform(0, 200)
            expected = summed(sampler.passes(sampler.pass_numbers(start, end)))
            answer = usage(start, end)
            if expected["sampled_points"] == 0:
                assert answer is None
            else:
                assert answer == pytest.approx(expected, abs=0.011)  # rounded to 2 places


def test_workflows_over_the_same_passes_share_one_answer():
    rng = random.Random(4)
    sampler = Sampler(parse_config("collection_interval: 5s\n"))
    usage = WorkflowResourceUsage(sampler)
    for number in range(10):
        sampler.record(a_pass(100.0 + 5 * number, rng))
    first = usage(111.0, 146.0)
    assert first is usage(112.0, 147.0)
    assert usage(116.0, 147.0) != first
    earlier = usage(111.0, 137.0)  # a range that ends before the latest pass
    assert earlier is usage(112.0, 136.0)
    sampler.record(a_pass(150.0, rng))
    assert usage(111.0, 146.0) is not first  # a new pass: answers are made anew
    assert usage(111.0, 146.0) == first


def test_shared_answers_are_bounded_by_the_ring():
    rng = random.Random(6)
    sampler = Sampler(parse_config("collection_interval: 5s\nresource_history: 50s\n"))
    usage = WorkflowResourceUsage(sampler)
    for number in range(10):
        sampler.record(a_pass(5.0 * number, rng))
    for first in range(10):
        for last in range(first, 10):
            assert usage(5.0 * first, 5.0 * last) is not None
            assert len(usage._answers) <= sampler.capacity == 10


def test_passes_missed_while_nothing_finished_are_skipped():
    """Ten times the ring's passes recorded between two finishes: the usage starts over
    from the passes still held."""
    rng = random.Random(5)
    sampler = Sampler(parse_config("collection_interval: 5s\nresource_history: 50s\n"))
    usage = WorkflowResourceUsage(sampler)
    sampler.record(a_pass(0.0, rng))
    assert usage(0.0, 1.0) == summed(sampler.passes(range(0, 1)))
    for number in range(1, 101):
        sampler.record(a_pass(5.0 * number, rng))
    assert usage(0.0, 500.0) == pytest.approx(summed(sampler.passes(range(91, 101))), abs=0.011)
    assert usage(600.0, 601.0) is None
