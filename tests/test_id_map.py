"""The id maps: a value for each of the last ``capacity`` ids, oldest first, the oldest
leaving as a new one comes. Both implementations: FifoMap (C, built by setup.py, here by
the editable install) and DictIdMap (Python, where no compiler was found)."""

from __future__ import annotations

import gc
import random
import sys
import weakref
from collections import OrderedDict
from collections.abc import Callable

import pytest

from exporter.workflows.id_map import BUILT_MAP, DictIdMap, IdMap, id_map


def fifo_map(capacity: int) -> IdMap:
    assert BUILT_MAP is not None
    return BUILT_MAP(capacity, random.getrandbits(64))


MAPS: dict[str, Callable[[int], IdMap]] = {"FifoMap": fifo_map, "DictIdMap": DictIdMap}


@pytest.fixture(params=sorted(MAPS))
def new_map(request: pytest.FixtureRequest) -> Callable[[int], IdMap]:
    return MAPS[request.param]


class Value:
    """A value that can be watched leaving (weakref) and can hold the map (a cycle)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.holds: object = None


def test_the_c_map_is_built_here_and_chosen():
    assert BUILT_MAP is not None
    assert isinstance(id_map(10), BUILT_MAP)


def test_the_oldest_leaves_as_a_new_id_comes_and_its_value_is_returned(new_map):
    held = new_map(3)
    assert [held.push(key, key.upper()) for key in "abc"] == [None, None, None]
    assert held.push("d", "D") == "A"
    assert held.values() == ["B", "C", "D"]
    assert len(held) == 3
    assert "a" not in held and held.get("a") is None
    assert held.get("b") == "B" and "d" in held


def test_a_held_id_is_refused_as_new_and_nothing_changes(new_map):
    held = new_map(3)
    held.push("a", 1)
    held.push("b", 2)
    with pytest.raises(KeyError):
        held.push("a", 3)
    assert held.values() == [1, 2]


def test_a_replaced_value_keeps_its_place(new_map):
    held = new_map(3)
    for number, key in enumerate("abc"):
        held.push(key, number)
    held.replace("a", "new")
    assert held.values() == ["new", 1, 2]
    assert held.push("d", 3) == "new", "still the oldest"
    with pytest.raises(KeyError):
        held.replace("a", 0)


def test_a_model_of_the_map_agrees_over_many_evictions(new_map):
    """Against an OrderedDict, on a small table, so that probe runs wrap around its end and
    leaving shifts entries back many thousand times: every answer the same."""
    rng = random.Random(11)
    capacity = 37
    held = new_map(capacity)
    model: OrderedDict[str, int] = OrderedDict()
    for step in range(60_000):
        key = f"wf-{rng.randrange(150)}"
        action = rng.random()
        if action < 0.6:
            if key in model:
                with pytest.raises(KeyError):
                    held.push(key, step)
            else:
                model[key] = step
                oldest = model.popitem(last=False)[1] if len(model) > capacity else None
                assert held.push(key, step) == oldest
        elif action < 0.75:
            if key in model:
                model[key] = -step
                held.replace(key, -step)
        else:
            assert held.get(key) == model.get(key), key
            assert (key in held) == (key in model)
        assert len(held) == len(model)
    assert held.values() == list(model.values())


def test_values_are_released_when_they_leave_are_replaced_or_the_map_goes(new_map):
    held = new_map(2)
    values = [Value(name) for name in "abcd"]
    watched = [weakref.ref(value) for value in values]
    held.push("a", values[0])
    held.push("b", values[1])
    held.replace("b", values[2])
    held.push("c", values[3])  # a leaves
    del values
    gc.collect()
    assert [ref() is None for ref in watched] == [True, True, False, False]
    del held
    gc.collect()
    assert all(ref() is None for ref in watched)


def test_a_cycle_through_a_value_is_collected(new_map):
    held = new_map(4)
    value = Value("a")
    value.holds = held
    held.push("a", value)
    watched = weakref.ref(value)
    del held, value
    gc.collect()
    assert watched() is None


def test_the_c_map_memory_is_fixed_at_creation_and_told_by_getsizeof():
    held = fifo_map(10_000)
    size = sys.getsizeof(held)
    arrays = 10_000 * (16 + 8) + 2**15 * 8  # ring hashes, values, table slots
    assert arrays <= size < arrays + 1024
    for number in range(25_000):
        held.push(f"wf-{number}", number)
    assert sys.getsizeof(held) == size


@pytest.mark.parametrize("key", [1, b"bytes", None])
def test_the_c_map_refuses_keys_other_than_str(key):
    held = fifo_map(10)
    with pytest.raises(TypeError, match="str or tuples of str"):
        held.push(key, 1)
    assert len(held) == 0
