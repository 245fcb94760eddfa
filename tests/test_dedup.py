"""SeenIds: at least the last ``capacity`` ids are remembered, whether they came one at a
time or as whole batches, and the memory stays within a run of the capacity."""

from __future__ import annotations

from exporter.workflows.dedup import TAIL_LENGTH, SeenIds


def test_a_batch_of_new_ids_is_recorded_at_once():
    seen = SeenIds(100)
    assert seen.add_all(["a", "b", "c"])
    assert all(key in seen for key in "abc")
    assert not seen.add("b")


def test_a_batch_with_any_repeat_records_nothing():
    seen = SeenIds(100)
    seen.add("a")
    assert not seen.add_all(["x", "a"])  # seen before
    assert not seen.add_all(["y", "y"])  # twice within the batch
    assert "x" not in seen and "y" not in seen
    assert len(seen) == 1


def test_at_least_the_last_capacity_ids_are_remembered_and_no_more_than_a_run_over():
    capacity, batch = 5000, 700
    seen = SeenIds(capacity)
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


def test_ids_added_as_new_are_members_at_once_and_ordered_when_settled():
    seen = SeenIds(2 * TAIL_LENGTH)
    for number in range(6 * TAIL_LENGTH):
        key = f"closed-{number}"
        seen.add_new(key)
        assert key in seen  # before the batch settles
        if number % 250 == 249:  # a batch's end
            seen.settle()
    assert all(f"closed-{n}" in seen for n in range(4 * TAIL_LENGTH, 6 * TAIL_LENGTH))
    assert "closed-0" not in seen
    assert len(seen) <= 2 * TAIL_LENGTH + 2 * TAIL_LENGTH
