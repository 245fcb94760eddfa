"""The id windows: at least the last ``capacity`` ids are remembered, whether they came one
at a time or as whole batches, and the memory stays within a run of the capacity. Both
implementations: FifoIds (C, built by setup.py, here by the editable install) and SeenIds
(Python, where no compiler was found)."""

from __future__ import annotations

import random
import sys
from collections import deque
from collections.abc import Callable, Hashable

import pytest

from exporter.workflows.dedup import BUILT_WINDOW, TAIL_LENGTH, IdWindow, SeenIds, id_window


def fifo_ids(capacity: int) -> IdWindow:
    assert BUILT_WINDOW is not None
    return BUILT_WINDOW(capacity, random.getrandbits(64))


WINDOWS: dict[str, Callable[[int], IdWindow]] = {"FifoIds": fifo_ids, "SeenIds": SeenIds}


@pytest.fixture(params=sorted(WINDOWS))
def window(request: pytest.FixtureRequest) -> Callable[[int], IdWindow]:
    return WINDOWS[request.param]


def test_the_c_windows_are_built_here_and_chosen():
    """./run-tests.sh installs a compiler, so its editable install builds them (setup.py):
    the Python window is the fallback, not what the tests exercise alone."""
    assert BUILT_WINDOW is not None
    assert isinstance(id_window(10), BUILT_WINDOW)


def test_a_batch_of_new_ids_is_recorded_at_once(window):
    seen = window(100)
    assert seen.add_all(["a", "b", "c"])
    assert all(key in seen for key in "abc")
    assert not seen.add("b")


def test_a_batch_with_any_repeat_records_nothing(window):
    seen = window(100)
    seen.add("a")
    assert not seen.add_all(["x", "a"])  # seen before
    assert not seen.add_all(["y", "y"])  # twice within the batch
    assert "x" not in seen and "y" not in seen
    assert len(seen) == 1


def test_a_repeat_anywhere_in_a_large_batch_is_found(window):
    seen = window(10_000)
    keys = [f"event-{number}" for number in range(2000)]
    assert not seen.add_all([*keys, keys[1234]])
    assert len(seen) == 0
    assert seen.add_all(keys)
    assert len(seen) == 2000


def test_at_least_the_last_capacity_ids_are_remembered_and_no_more_than_a_run_over(window):
    capacity, batch = 5000, 700
    seen = window(capacity)
    added: list[str] = []
    for number in range(40):  # batches and single ids interleaved, 8x the capacity
        keys = [f"{number}-{n}" for n in range(batch)]
        assert seen.add_all(keys)
        added += keys
        for n in range(300):
            key = f"{number}-single-{n}"
            assert seen.add(key)
            added.append(key)
        assert all(key in seen for key in added[-capacity:])
        assert len(seen) <= capacity + max(batch, TAIL_LENGTH) + TAIL_LENGTH
    assert added[0] not in seen
    assert seen.add(added[0]), "a forgotten id counts again"


def test_ids_added_as_new_are_members_at_once_and_ordered_when_settled(window):
    seen = window(2 * TAIL_LENGTH)
    for number in range(6 * TAIL_LENGTH):
        key = f"closed-{number}"
        seen.add_new(key)
        assert key in seen  # before the batch settles
        if number % 250 == 249:  # a batch's end
            seen.settle()
    assert all(f"closed-{n}" in seen for n in range(4 * TAIL_LENGTH, 6 * TAIL_LENGTH))
    assert "closed-0" not in seen
    assert len(seen) <= 2 * TAIL_LENGTH + 2 * TAIL_LENGTH


def test_pair_keys_are_ids_too(window):
    seen = window(10)
    assert seen.add(("wf-1", "step-1"))
    assert seen.has(("wf-1", "step-1"))
    assert not seen.has(("wf-1", "step-2")) and not seen.has(("step-1", "wf-1"))
    assert not seen.has(("wf-1step-1",)) and not seen.has("wf-1step-1")


# ---- FifoIds alone ------------------------------------------------------------------------


def test_exactly_the_last_capacity_ids_are_remembered():
    seen = fifo_ids(3)
    for key in "abcd":
        assert seen.add(key)
    assert len(seen) == 3
    assert "a" not in seen and all(key in seen for key in "bcd")


def test_a_model_of_the_window_agrees_over_many_evictions():
    """Against a deque and a set, on a small table, so that probe runs wrap around its end
    and forgetting shifts entries back many thousand times: every answer the same."""
    rng = random.Random(7)
    capacity = 37
    seen = fifo_ids(capacity)
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
            assert seen.has(key) == (key in held), key
        assert len(seen) == len(held)
    assert all(key in seen for key in held)


def test_equal_strings_are_one_id_whatever_their_characters():
    seen = fifo_ids(100)
    texts = ["plain", "é-latin-1", "ü€-bmp", "🤖-astral", ""]
    for text in texts:
        assert seen.add(text)
    for text in texts:
        rebuilt = "".join(list(text))  # an equal string, another object
        assert not seen.add(rebuilt), text
    assert not seen.has("plain\x00")


@pytest.mark.parametrize("key", [1, 2.5, b"bytes", ("wf", 1), None])
def test_keys_other_than_str_or_tuples_of_str_are_refused(key):
    seen = fifo_ids(10)
    with pytest.raises(TypeError, match="str or tuples of str"):
        seen.add(key)
    assert len(seen) == 0


def test_the_memory_is_fixed_at_creation_and_told_by_getsizeof():
    seen = fifo_ids(100_000)
    size = sys.getsizeof(seen)
    assert 100_000 * 16 + 2**18 * 8 <= size < 100_000 * 16 + 2**18 * 8 + 1024
    for number in range(250_000):
        seen.add(f"id-{number}")
    assert sys.getsizeof(seen) == size


@pytest.mark.parametrize("capacity", [0, -1, 2**30 + 1])
def test_the_capacity_is_checked(capacity):
    assert BUILT_WINDOW is not None
    with pytest.raises(ValueError, match="capacity"):
        BUILT_WINDOW(capacity, 0)
