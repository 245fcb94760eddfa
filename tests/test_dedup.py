"""The id window: exactly the last ``capacity`` distinct ids are remembered, whether they
came one at a time or as whole batches; a batch with any repeat records nothing."""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Hashable

from exporter.workflows.dedup import IdWindow


def test_a_batch_of_new_ids_is_recorded_at_once():
    seen = IdWindow(100)
    assert seen.add_all(["a", "b", "c"])
    assert all(key in seen for key in "abc")
    assert not seen.add("b")


def test_a_batch_with_any_repeat_records_nothing():
    seen = IdWindow(100)
    seen.add("a")
    assert not seen.add_all(["x", "a"])  # seen before
    assert not seen.add_all(["y", "y"])  # twice within the batch
    assert "x" not in seen and "y" not in seen
    assert len(seen) == 1


def test_a_repeat_anywhere_in_a_large_batch_is_found():
    seen = IdWindow(10_000)
    keys = [f"event-{number}" for number in range(2000)]
    assert not seen.add_all([*keys, keys[1234]])
    assert len(seen) == 0
    assert seen.add_all(keys)
    assert len(seen) == 2000


def test_exactly_the_last_capacity_ids_are_remembered_one_at_a_time_or_in_batches():
    capacity = 5000
    seen = IdWindow(capacity)
    added: list[str] = []
    for number in range(40):  # batches and single ids interleaved, 8x the capacity
        keys = [f"{number}-{n}" for n in range(700)]
        assert seen.add_all(keys)
        added += keys
        for n in range(300):
            key = f"{number}-single-{n}"
            assert seen.add(key)
            added.append(key)
        assert len(seen) == min(capacity, len(added))
        assert all(key in seen for key in added[-capacity:])
        assert not any(key in seen for key in added[-capacity - 50 : -capacity])
    assert seen.add(added[0]), "a forgotten id counts again"


def test_a_batch_larger_than_the_window_keeps_its_newest_ids():
    seen = IdWindow(3)
    assert seen.add_all(["a", "b", "c", "d", "e"])
    assert len(seen) == 3
    assert [key in seen for key in "abcde"] == [False, False, True, True, True]


def test_pair_keys_are_ids_too():
    seen = IdWindow(10)
    assert seen.add(("wf-1", "step-1"))
    assert ("wf-1", "step-1") in seen
    assert ("wf-1", "step-2") not in seen and ("step-1", "wf-1") not in seen


def test_a_model_of_the_window_agrees_over_many_evictions():
    """Against the definition (the last ``capacity`` distinct ids), on a small window turned
    over thousands of times: every answer the same."""
    rng = random.Random(7)
    capacity = 37
    seen = IdWindow(capacity)
    order: deque[Hashable] = deque()
    held: set[Hashable] = set()

    def model_add(key: Hashable) -> bool:
        if key in held:
            return False
        if len(order) == capacity:
            held.discard(order.popleft())
        order.append(key)
        held.add(key)
        return True

    for _ in range(60_000):
        pick = rng.randrange(200)  # ids repeat within and beyond the window
        key: Hashable = f"id-{pick}" if pick % 3 else (f"wf-{pick}", f"s-{pick % 7}")
        action = rng.random()
        if action < 0.7:
            assert seen.add(key) == model_add(key), key
        elif action < 0.85:
            keys = [f"id-{rng.randrange(200)}" for _ in range(rng.randrange(1, 6))]
            fresh = len(set(keys)) == len(keys) and held.isdisjoint(keys)
            assert seen.add_all(keys) == fresh, keys
            if fresh:
                for each in keys:
                    model_add(each)
        else:
            assert (key in seen) == (key in held), key
        assert len(seen) == len(held)
