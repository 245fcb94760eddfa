"""WorkflowTracker in one process: a fresh registry, a fake clock, events as structs."""

from __future__ import annotations

import itertools
import json
import random
import tracemalloc
from collections.abc import Callable, Mapping
from typing import get_args

import msgspec
import pytest
from prometheus_client import CollectorRegistry

from exporter.config import Config, parse_config
from exporter.workflows.events import AnyEvent, decode_events
from exporter.workflows.metrics import SelfMetrics, WorkflowMetrics
from exporter.workflows.records import WorkflowProgress
from exporter.workflows.tracker import WorkflowTracker
from tests.support.expectations import mismatches
from tests.support.workload import build_workload


class FakeClock:
    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class Harness:
    def __init__(
        self,
        config: Config | None = None,
        resource_usage: Callable[[float, float], Mapping[str, float] | None] | None = None,
    ) -> None:
        self.config = config or Config()
        self.registry = CollectorRegistry()
        self.clock = FakeClock()
        self.tracker = WorkflowTracker(
            self.config,
            WorkflowMetrics(self.registry, self.config.buckets),
            SelfMetrics(self.registry),
            self.clock,
            resource_usage,
        )

    def send(self, *events: dict) -> tuple[int, int]:
        decoded = [msgspec.convert(event, AnyEvent) for event in events]
        return self.tracker.apply(decoded)

    def send_json(self, *events: dict) -> tuple[int, int]:
        """As the exporter gets them: each string a new object, decoded from the body."""
        return self.tracker.apply(decode_events(json.dumps(events).encode()).events)

    def get(self, name: str, **labels: str) -> float | None:
        return self.registry.get_sample_value(name, labels)


def test_every_event_type_is_handled():
    """The handlers are a table by type: one missing would fail here, not in production."""
    handled = Harness().tracker._handlers
    assert set(handled) == set(get_args(AnyEvent))


def test_a_repeat_within_one_batch_counts_once_and_keeps_the_order():
    harness = Harness()
    start = {**wf_started(), "event_id": "e1"}
    finish = {**wf_finished(), "event_id": "e2"}
    assert harness.send(start, start, finish, finish) == (2, 2)
    assert (
        harness.get("autobot_workflows_finished_total", complexity="simple", status="completed")
        == 1
    )
    assert harness.get("autobot_exporter_events_duplicate_total") == 2
    assert harness.send(finish) == (0, 1)


def wf_started(wf="w1", ts=100.0, complexity="simple", **extra):
    return {
        "type": "workflow_started",
        "workflow_id": wf,
        "ts": ts,
        "complexity": complexity,
        **extra,
    }


def wf_finished(wf="w1", ts=110.0, status="completed"):
    return {"type": "workflow_finished", "workflow_id": wf, "ts": ts, "status": status}


def step_started(step="s1", ts=101.0, agent="research", wf="w1"):
    return {"type": "step_started", "workflow_id": wf, "step_id": step, "agent": agent, "ts": ts}


def step_finished(step="s1", ts=103.5, success=True, wf="w1", **extra):
    return {
        "type": "step_finished",
        "workflow_id": wf,
        "step_id": step,
        "success": success,
        "ts": ts,
        **extra,
    }


def approval(kind, ts, wf="w1", **extra):
    return {"type": f"approval_{kind}", "workflow_id": wf, "ts": ts, **extra}


IN_ORDER = [
    wf_started(),
    step_started(),
    step_finished(),
    step_started("s2", 104.0, "librarian"),
    step_finished("s2", 104.25, success=False, error_type="Timeout"),
    approval("requested", 105.0),
    approval("resolved", 108.0, outcome="approved"),
    wf_finished(),
]


def observable_state(harness: Harness) -> dict:
    names = [
        ("autobot_workflows_started_total", {"complexity": "simple"}),
        ("autobot_workflows_finished_total", {"complexity": "simple", "status": "completed"}),
        ("autobot_workflow_duration_seconds_sum", {"complexity": "simple", "status": "completed"}),
        ("autobot_workflows_active", {"complexity": "simple"}),
        ("autobot_step_duration_seconds_sum", {"agent": "research", "status": "success"}),
        ("autobot_step_duration_seconds_sum", {"agent": "librarian", "status": "failure"}),
        ("autobot_step_errors_total", {"agent": "librarian", "error_type": "Timeout"}),
        ("autobot_approval_wait_seconds_sum", {"outcome": "approved"}),
        ("autobot_approvals_pending", {}),
    ]
    state = {f"{name}{labels}": harness.get(name, **labels) for name, labels in names}
    finished = harness.tracker.get_finished("w1")
    assert finished is not None
    progress = finished.progress
    state["history"] = (
        finished.duration_seconds,
        progress.completed_steps,
        progress.failed_steps,
        sorted((s.step_id, s.duration_seconds) for s in progress.steps),
        progress.approval_wait_seconds,
    )
    return state


def test_in_order_workflow_sets_every_family():
    harness = Harness()
    assert harness.send(*IN_ORDER) == (8, 0)
    state = observable_state(harness)
    assert (
        state[
            "autobot_workflow_duration_seconds_sum{'complexity': 'simple', 'status': 'completed'}"
        ]
        == 10.0
    )
    assert (
        state["autobot_step_duration_seconds_sum{'agent': 'research', 'status': 'success'}"] == 2.5
    )
    assert state["autobot_approval_wait_seconds_sum{'outcome': 'approved'}"] == 3.0
    assert state["autobot_approvals_pending{}"] == 0
    assert state["autobot_workflows_active{'complexity': 'simple'}"] == 0
    assert state["history"] == (10.0, 1, 1, [("s1", 2.5), ("s2", 0.25)], 3.0)
    assert harness.get("autobot_exporter_events_out_of_order_total", type="step_finished") == 0


@pytest.mark.parametrize("seed", range(12))
def test_any_arrival_order_gives_the_in_order_result(seed):
    reference = Harness()
    reference.send(*IN_ORDER)
    shuffled = list(IN_ORDER)
    random.Random(seed).shuffle(shuffled)
    harness = Harness()
    harness.send(*shuffled)
    assert observable_state(harness) == observable_state(reference)


def test_every_permutation_of_start_step_finish():
    events = [wf_started(), step_started(), step_finished(), wf_finished()]
    reference = Harness()
    reference.send(*events)
    for order in itertools.permutations(events):
        harness = Harness()
        harness.send(*order)
        assert (
            harness.get("autobot_step_duration_seconds_count", agent="research", status="success")
            == 1
        )
        assert harness.tracker.get_finished("w1").duration_seconds == 10.0
        assert harness.get("autobot_workflows_active", complexity="simple") == 0


def test_finished_counters_start_at_zero_for_every_status():
    harness = Harness()
    harness.send(wf_started(complexity="fresh"))
    for status in ("completed", "failed", "cancelled", "timeout", "abandoned"):
        assert (
            harness.get("autobot_workflows_finished_total", complexity="fresh", status=status) == 0
        )


def test_duplicate_event_ids_count_once():
    harness = Harness()
    event = wf_started(event_id="e-1")
    assert harness.send(event, event, event) == (1, 2)
    assert harness.get("autobot_workflows_started_total", complexity="simple") == 1
    assert harness.get("autobot_exporter_events_duplicate_total") == 2


def test_event_ids_are_remembered_exactly_the_last_dedup_window_of_them():
    harness = Harness(parse_config("dedup_window: 3"))
    events = [wf_started(wf=f"w{n}", event_id=f"e-{n}") for n in range(5)]
    assert harness.send_json(*events) == (5, 0)
    assert harness.send_json(events[2], events[3], events[4]) == (0, 3)
    assert harness.send_json(events[1]) == (1, 0), "forgotten: the window moved past it"


def test_a_remembered_event_id_costs_the_same_whatever_its_length():
    """The dedup window keeps a fixed-size digest of each id, so its memory is bounded by
    dedup_window alone: 100-character ids take no more than 5-character ones (kept as
    strings, they took about twice as much)."""

    def memory_held(id_length: int) -> int:
        harness = Harness()
        harness.send_json(wf_started())
        bodies = [
            json.dumps(
                [
                    {
                        "type": "resource_sample",
                        "workflow_id": "w1",
                        "event_id": f"{number:0{id_length}d}",
                        "data": {},
                    }
                    for number in range(batch * 1000, (batch + 1) * 1000)
                ]
            ).encode()
            for batch in range(5)
        ]
        tracemalloc.start()
        before = tracemalloc.get_traced_memory()[0]
        for body in bodies:
            harness.tracker.apply(decode_events(body).events)
        held = tracemalloc.get_traced_memory()[0] - before
        tracemalloc.stop()
        return held

    assert memory_held(100) < 1.1 * memory_held(5)


def test_repeated_start_and_finish_without_ids_are_counted_out_of_order():
    harness = Harness()
    harness.send(wf_started(), wf_started(), wf_finished(), wf_finished())
    assert harness.get("autobot_workflows_started_total", complexity="simple") == 1
    assert (
        harness.get("autobot_workflows_finished_total", complexity="simple", status="completed")
        == 1
    )
    assert harness.get("autobot_exporter_events_out_of_order_total", type="workflow_started") == 1
    assert harness.get("autobot_exporter_events_out_of_order_total", type="workflow_finished") == 1


def test_step_for_unknown_workflow_is_timed_and_kept_for_its_later_start():
    harness = Harness()
    harness.send(step_finished(agent="research", duration_seconds=4.0))
    assert (
        harness.get("autobot_step_duration_seconds_count", agent="research", status="success") == 1
    )
    assert harness.tracker.active_count == 0
    harness.send(wf_started(), wf_finished())
    assert harness.tracker.get_finished("w1").progress.completed_steps == 1


def test_unmatched_step_end_is_applied_without_duration_after_ttl():
    harness = Harness(parse_config("workflow_ttl: 60s"))
    harness.send(step_finished(success=False, error_type="Boom"))
    assert harness.get("autobot_exporter_unmatched_events") == 1
    harness.clock.now += 61
    harness.tracker.expire()
    assert harness.get("autobot_step_errors_total", agent="unknown", error_type="Boom") == 1
    assert (
        harness.get("autobot_step_duration_seconds_count", agent="unknown", status="failure")
        is None
    )
    assert harness.get("autobot_exporter_events_out_of_order_total", type="step_finished") == 1
    assert harness.get("autobot_exporter_unmatched_events") == 0


def test_workflow_without_finish_expires_as_abandoned():
    harness = Harness(parse_config("workflow_ttl: 60s"))
    harness.send(wf_started(ts=harness.clock.now), approval("requested", harness.clock.now))
    assert harness.get("autobot_workflows_active", complexity="simple") == 1
    assert harness.get("autobot_approvals_pending") == 1
    harness.clock.now += 59
    harness.tracker.expire()
    assert harness.get("autobot_workflows_active", complexity="simple") == 1
    harness.clock.now += 2
    harness.tracker.expire()
    assert harness.get("autobot_workflows_active", complexity="simple") == 0
    assert harness.get("autobot_approvals_pending") == 0
    assert (
        harness.get("autobot_workflows_finished_total", complexity="simple", status="abandoned")
        == 1
    )
    assert (
        harness.get(
            "autobot_workflow_duration_seconds_sum", complexity="simple", status="abandoned"
        )
        == 61
    )
    assert harness.get("autobot_exporter_workflows_expired_total", reason="ttl") == 1
    assert harness.tracker.get_finished("w1").status == "abandoned"


def test_finish_whose_start_never_comes_counts_under_unknown_after_ttl():
    harness = Harness(parse_config("workflow_ttl: 60s"))
    harness.send(wf_finished(status="failed"))
    assert (
        harness.get("autobot_workflows_finished_total", complexity="unknown", status="failed")
        is None
    )
    harness.clock.now += 61
    harness.tracker.expire()
    assert harness.get("autobot_workflows_started_total", complexity="unknown") == 1
    assert (
        harness.get("autobot_workflows_finished_total", complexity="unknown", status="failed") == 1
    )
    assert harness.get("autobot_workflows_active", complexity="unknown") in (None, 0)


def test_capacity_evicts_the_oldest_workflow():
    harness = Harness(parse_config("max_active_workflows: 2"))
    harness.send(wf_started("a"), wf_started("b"), wf_started("c"))
    assert harness.get("autobot_workflows_active", complexity="simple") == 2
    assert harness.get("autobot_exporter_workflows_expired_total", reason="capacity") == 1
    assert harness.tracker.get_finished("a").status == "abandoned"


def test_history_is_bounded_and_eviction_counted():
    harness = Harness(parse_config("max_history: 3"))
    for number in range(5):
        harness.send(wf_started(f"w{number}"), wf_finished(f"w{number}"))
    assert [w.workflow_id for w in harness.tracker.history()] == ["w2", "w3", "w4"]
    assert harness.get("autobot_exporter_history_evicted_total") == 2
    assert harness.get("autobot_exporter_workflows_tracked", state="history") == 3


def test_label_values_are_capped_to_other():
    harness = Harness(parse_config("max_label_values: 2"))
    for number, complexity in enumerate(["a", "b", "c", "d", "a"]):
        harness.send(wf_started(f"w{number}", complexity=complexity))
    assert harness.get("autobot_workflows_started_total", complexity="a") == 2
    assert harness.get("autobot_workflows_started_total", complexity="other") == 2
    assert harness.get("autobot_exporter_label_overflow_total", label="complexity") == 2
    assert harness.tracker.get_active("w2").complexity == "c"


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        ("", "x" * 200),
        ("user_message: {max_length: 5}", "xxxxx"),
        ("user_message: {enabled: false}", ""),
    ],
)
def test_user_message_truncated_or_disabled(config, expected):
    harness = Harness(parse_config(config))
    harness.send(wf_started(user_message="x" * 500))
    assert harness.tracker.get_active("w1").user_message == expected


def test_steps_kept_per_workflow_are_bounded_but_all_counted():
    harness = Harness(parse_config("max_steps_per_workflow: 2"))
    steps = [step_finished(f"s{n}", agent="research", duration_seconds=1.0) for n in range(4)]
    harness.send(wf_started(), *steps)
    progress = harness.tracker.get_active("w1").progress
    assert (len(progress.steps), progress.completed_steps) == (2, 4)
    assert (
        harness.get("autobot_step_duration_seconds_count", agent="research", status="success") == 4
    )


@pytest.mark.parametrize("finished", [False, True])
def test_a_completed_step_ignores_its_late_partner_and_repeats_kept_or_not(finished):
    """s0's details are kept (its workflow remembers it is complete), s1's are not
    (max_steps_per_workflow: the pair table remembers it): either way a late start or a
    repeated finish changes nothing, while the workflow runs and once it finished."""
    harness = Harness(parse_config("max_steps_per_workflow: 1"))
    steps = [step_finished(f"s{n}", agent="research", duration_seconds=1.0) for n in range(2)]
    harness.send(wf_started(), *steps, *([wf_finished()] if finished else []))
    harness.send(step_started("s0"), step_started("s1"), *steps)
    assert (
        harness.get("autobot_step_duration_seconds_count", agent="research", status="success") == 2
    )
    assert_nothing_waits_or_is_out_of_order(harness, "step_started", "step_finished")
    progress = progress_of(harness, "w1", finished)
    assert ([s.step_id for s in progress.steps], progress.completed_steps) == (["s0"], 2)


def assert_nothing_waits_or_is_out_of_order(harness: Harness, *event_types: str) -> None:
    assert harness.get("autobot_exporter_unmatched_events") == 0
    for kind in event_types:
        assert harness.get("autobot_exporter_events_out_of_order_total", type=kind) == 0


def progress_of(harness: Harness, workflow_id: str, finished: bool) -> WorkflowProgress:
    tracker = harness.tracker
    record = tracker.get_finished(workflow_id) if finished else tracker.get_active(workflow_id)
    assert record is not None
    return record.progress


@pytest.mark.parametrize("finished", [False, True])
def test_a_resolved_approval_ignores_its_late_request_and_repeats_kept_or_not(finished):
    """As for steps: a0 is kept in the workflow's details, a1 is not (max_steps_per_workflow)
    and is remembered by the pair table."""
    harness = Harness(parse_config("max_steps_per_workflow: 1"))
    resolved = [
        approval("resolved", 108.0, approval_id=f"a{n}", outcome="approved", wait_seconds=3.0)
        for n in range(2)
    ]
    harness.send(wf_started(), *resolved, *([wf_finished()] if finished else []))
    requests = [approval("requested", 105.0, approval_id=f"a{n}") for n in range(2)]
    harness.send(*requests, *resolved)
    assert harness.get("autobot_approval_wait_seconds_count", outcome="approved") == 2
    assert harness.get("autobot_approvals_pending") == 0
    assert_nothing_waits_or_is_out_of_order(harness, "approval_requested", "approval_resolved")
    assert progress_of(harness, "w1", finished).approval_wait_seconds == 3.0


def test_records_share_one_copy_of_each_label_value_and_keep_overflowed_ones_as_sent():
    harness = Harness(parse_config("max_label_values: 1"))
    for wf in ("w1", "w2"):
        harness.send_json(
            wf_started(wf, complexity="research"),
            step_finished(
                "s1",
                wf=wf,
                agent="coder",
                success=False,
                error_type="Timeout",
                duration_seconds=2.0,
            ),
            step_finished("s2", wf=wf, agent="librarian", duration_seconds=1.0),
        )
    first, second = (harness.tracker.get_active(wf) for wf in ("w1", "w2"))
    assert first.complexity is second.complexity
    (a1, b1), (a2, b2) = (list(record.progress.steps) for record in (first, second))
    assert (a1.agent, a1.error_type) == ("coder", "Timeout")
    assert a1.agent is a2.agent and a1.error_type is a2.error_type, "one shared copy each"
    assert b1.agent == b2.agent == "librarian", "past max_label_values: kept as sent"
    assert harness.get("autobot_step_duration_seconds_count", agent="other", status="success")


def test_pending_halves_are_bounded_and_the_log_names_that_setting(caplog):
    harness = Harness(parse_config("max_pending_pairs: 3"))
    with caplog.at_level("WARNING", logger="exporter.workflows.tracker"):
        harness.send(*[step_started(f"s{n}") for n in range(5)])
    assert harness.get("autobot_exporter_unmatched_events") == 3
    assert harness.get("autobot_exporter_events_out_of_order_total", type="step_started") == 2
    messages = [record.getMessage() for record in caplog.records]
    assert any(m.startswith("max_pending_pairs=3 reached") for m in messages), messages
    assert not any("workflow_ttl" in m for m in messages), "nothing expired"


def test_mixed_workload_counts_are_exact_in_process():
    workload = build_workload(400, seed=3)
    harness = Harness()
    harness.send(*workload.events)
    problems = mismatches(workload.expected, harness.get)
    assert problems == []
    assert (
        harness.registry.get_sample_value(
            "autobot_exporter_events_out_of_order_total", {"type": "step_finished"}
        )
        == 0
    )


def test_kept_details_share_one_budget_and_the_rest_still_counts(caplog):
    harness = Harness(parse_config("max_kept_details: 5"))
    agents = {"agents_involved": ["research", "librarian", "coder"]}
    steps = [step_finished(f"s{n}", agent="research", duration_seconds=1.0) for n in range(4)]
    with caplog.at_level("WARNING", logger="exporter.workflows.budget"):
        harness.send(wf_started(**agents), *steps)
    record = harness.tracker.get_active("w1")
    assert record.agents_involved == ("research", "librarian", "coder")
    assert (len(record.progress.steps), record.progress.completed_steps) == (2, 4)
    assert (
        harness.get("autobot_step_duration_seconds_count", agent="research", status="success") == 4
    )
    assert harness.get("autobot_exporter_details_kept") == 5
    assert harness.get("autobot_exporter_details_dropped_total", kind="step") == 2
    assert harness.get("autobot_exporter_details_dropped_total", kind="agent") == 0

    harness.send(
        wf_started("w2", **agents),
        {"type": "resource_sample", "workflow_id": "w1", "data": {"cpu": 0.5}},
    )
    assert harness.tracker.get_active("w2").agents_involved == ()
    assert harness.get("autobot_exporter_details_dropped_total", kind="agent") == 3
    assert harness.get("autobot_exporter_details_dropped_total", kind="resource_key") == 1
    budget_lines = [r for r in caplog.records if "max_kept_details=5 reached" in r.getMessage()]
    assert len(budget_lines) == 1


def test_a_workflow_leaving_the_history_returns_its_details():
    harness = Harness(parse_config("max_kept_details: 3\nmax_history: 1"))
    two_steps = [step_finished(f"s{n}", agent="research", duration_seconds=1.0) for n in range(2)]
    harness.send(wf_started(), *two_steps, wf_finished())
    assert harness.get("autobot_exporter_details_kept") == 2
    harness.send(wf_started("w2"), wf_finished("w2"))
    assert harness.get("autobot_exporter_details_kept") == 0, "w1 left the history"
    three_steps = [
        step_finished(f"s{n}", wf="w3", agent="research", duration_seconds=1.0) for n in range(3)
    ]
    harness.send(wf_started("w3"), *three_steps)
    assert len(harness.tracker.get_active("w3").progress.steps) == 3


def test_a_record_that_never_started_returns_its_details_at_ttl():
    harness = Harness(parse_config("max_kept_details: 10\nworkflow_ttl: 60s"))
    harness.send(
        {"type": "resource_sample", "workflow_id": "ghost", "data": {"cpu": 0.5, "mem": 1.0}}
    )
    assert harness.get("autobot_exporter_details_kept") == 2
    harness.clock.now += 61
    harness.tracker.expire()
    assert harness.tracker.get_active("ghost") is None
    assert harness.get("autobot_exporter_details_kept") == 0


def test_the_sampled_usage_is_shared_and_a_workflows_own_samples_override_it():
    """Workflows finishing over the same sampler passes share one mapping, not a copy each;
    a sample of one of them, even after its finish, changes only that workflow's answer."""
    sampled = {"sampled_points": 2, "cpu": 1.0}
    harness = Harness(resource_usage=lambda start, end: sampled)
    sample = {"type": "resource_sample", "workflow_id": "w1"}
    harness.send(
        wf_started("w1"),
        wf_started("w2"),
        sample | {"data": {"gpu": 5.0}},
        wf_finished("w1"),
        wf_finished("w2"),
        sample | {"data": {"cpu": 9.0}},
    )
    first, second = (harness.tracker.get_finished(w).progress for w in ("w1", "w2"))
    assert first.usage == {"sampled_points": 2, "cpu": 9.0, "gpu": 5.0}
    assert second.usage == {"sampled_points": 2, "cpu": 1.0}
    assert first.sampled_usage is second.sampled_usage is sampled
    assert sampled == {"sampled_points": 2, "cpu": 1.0}


def test_a_full_budget_still_updates_resource_keys_already_kept():
    harness = Harness(parse_config("max_kept_details: 1"))
    sample = {"type": "resource_sample", "workflow_id": "w1"}
    harness.send(
        wf_started(), sample | {"data": {"cpu": 0.5}}, sample | {"data": {"cpu": 0.7, "mem": 2.0}}
    )
    assert harness.tracker.get_active("w1").progress.resource_usage == {"cpu": 0.7}
