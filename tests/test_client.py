"""The client: never raises, never blocks, delivers exactly once, survives an exporter
restart within its buffer bound and counts what it drops beyond it."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
import time
from collections.abc import Mapping
from pathlib import Path

import pytest
import requests
from autobot_exporter_client import AsyncMetricsClient, ClientSettings, DeliveryStats, MetricsClient
from autobot_exporter_client.core import EventBuffer, Outcome, backoff_delay, classify, settle
from autobot_exporter_client.recorder import numeric_fields

from tests.support.processes import ManagedProcess, free_port, wait_until

SLOW_SERVER = Path(__file__).parent / "support" / "slow_server.py"
SLOW_REPLY_SECONDS = 1.0


# ---- pieces without a network -----------------------------------------------------------


def test_buffer_refuses_beyond_capacity_and_counts():
    stats = DeliveryStats()
    buffer = EventBuffer(3, stats)
    lengths = [buffer.put({"n": n}) for n in range(5)]
    assert lengths == [1, 2, 3, -1, -1]
    assert (stats.enqueued, stats.dropped) == (3, 2)
    assert buffer.take(10) == [{"n": 0}, {"n": 1}, {"n": 2}]


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        (202, Outcome.DELIVERED),
        (None, Outcome.RETRY),
        (503, Outcome.RETRY),
        (429, Outcome.RETRY),
        (413, Outcome.SPLIT),
        (422, Outcome.REJECTED),
        (401, Outcome.REJECTED),
    ],
)
def test_replies_are_classified(status, outcome):
    assert classify(status) is outcome


def test_backoff_grows_with_jitter_and_is_capped():
    settings = ClientSettings(initial_backoff=0.1, max_backoff=2.0)
    assert 0.05 <= backoff_delay(settings, 0) <= 0.1
    assert 0.2 <= backoff_delay(settings, 2) <= 0.4
    assert 1.0 <= backoff_delay(settings, 30) <= 2.0


def test_413_splits_and_422_counts_what_was_applied():
    stats = DeliveryStats()
    outcome, again = settle([{"a": 1}, {"b": 2}, {"c": 3}], 413, stats)
    assert (outcome, again) == (Outcome.SPLIT, [[{"a": 1}], [{"b": 2}, {"c": 3}]])
    settle([{}, {}, {}], 422, stats, applied=2)
    assert (stats.delivered, stats.rejected) == (2, 1)


def test_resource_dicts_are_flattened_to_numbers():
    data = {
        "cpu_percent": 12,
        "timestamp": "2026-01-01",
        "ok": True,
        "network_io": {"bytes_sent": 5, "bytes_recv": 7},
    }
    assert numeric_fields(data) == {
        "cpu_percent": 12.0,
        "network_io.bytes_sent": 5.0,
        "network_io.bytes_recv": 7.0,
    }


class Recording(MetricsClient):
    """A client whose sender never runs, to look at what calls enqueue."""

    def __init__(self, **settings):
        super().__init__("http://127.0.0.1:9", flush_interval=3600, **settings)

    def events(self):
        return self._buffer.take(10_000)


@pytest.fixture
def recording():
    client = Recording()
    yield client
    client.close(timeout=0)


def test_calls_never_raise_and_count_what_they_could_not_record(recording):
    class Hostile(Mapping):
        def __getitem__(self, key):
            raise RuntimeError("workflow data exploded")

        def __iter__(self):
            return iter(["complexity"])

        def __len__(self):
            return 1

    recording.start_workflow_tracking("w", Hostile())
    recording.end_step_timing(object(), 3, success=False, error=ValueError("x"))
    assert recording.stats.dropped == 1
    [event] = recording.events()
    assert (event["step_id"], event["error_type"]) == ("3", "ValueError")


def test_original_calls_build_the_documented_events(recording):
    recording.record_approval_wait_time("w", wait_time_ms=5400, outcome="denied")
    recording.record_resource_usage("w", {"cpu_percent": 3, "network_io": {"bytes_sent": 9}})
    recording.request_approval("w", approval_id="a2")
    recording.resolve_approval("w", "timeout", approval_id="a2")
    events = recording.events()
    assert [e["type"] for e in events] == [
        "approval_resolved",
        "resource_sample",
        "approval_requested",
        "approval_resolved",
    ]
    assert (events[0]["wait_seconds"], events[0]["outcome"]) == (5.4, "denied")
    assert events[1]["data"] == {"cpu_percent": 3.0, "network_io.bytes_sent": 9.0}
    assert (events[3]["approval_id"], events[3]["outcome"]) == ("a2", "timeout")


def test_context_managers_record_failures_and_reraise_unchanged(recording):
    error = KeyError("missing")
    with pytest.raises(KeyError) as raised, recording.workflow("w1", complexity="c") as wf:
        with wf.step("research", step_id="s1"):
            pass
        with wf.step("librarian", step_id="s2"):
            raise error
    assert raised.value is error
    events = recording.events()
    assert [(e["type"], e.get("success"), e.get("status")) for e in events] == [
        ("workflow_started", None, None),
        ("step_started", None, None),
        ("step_finished", True, None),
        ("step_started", None, None),
        ("step_finished", False, None),
        ("workflow_finished", None, "failed"),
    ]
    assert events[4]["error_type"] == "KeyError"
    assert len({e["event_id"] for e in events}) == 6
    assert all(e["ts"] <= time.time() for e in events)


def test_decorator_times_sync_and_async_functions_in_the_current_workflow(recording):
    @recording.timed_step("planner")
    def plan(x):
        if x < 0:
            raise ValueError(x)
        return x * 2

    @recording.timed_step("writer")
    async def write():
        return "done"

    with recording.workflow("w2"):
        assert plan(2) == 4
        assert asyncio.run(write()) == "done"
        with pytest.raises(ValueError):
            plan(-1)
    steps = [e for e in recording.events() if e["type"] == "step_finished"]
    assert [(e["workflow_id"], e["success"]) for e in steps] == [
        ("w2", True),
        ("w2", True),
        ("w2", False),
    ]


# ---- against real processes -------------------------------------------------------------


def push_workflows(client, count: int, prefix: str) -> tuple[int, int]:
    """Workflows of three steps, every fifth step failing; returns (steps, errors)."""
    steps = errors = 0
    for number in range(count):
        workflow = f"{prefix}-{number}"
        client.start_workflow_tracking(workflow, {"complexity": "client-test"})
        for step in range(3):
            client.start_step_timing(workflow, f"s{step}", "research")
            failed = (number * 3 + step) % 5 == 0
            client.end_step_timing(
                workflow, f"s{step}", success=not failed, error="Timeout" if failed else None
            )
            steps += 1
            errors += failed
        client.end_workflow_tracking(workflow, "completed")
    return steps, errors


def assert_exact(exporter, workflows: int, steps: int, errors: int) -> None:
    get = exporter.sample_getter()
    assert get("autobot_workflows_started_total", complexity="client-test") == workflows
    assert (
        get("autobot_workflows_finished_total", complexity="client-test", status="completed")
        == workflows
    )
    total_steps = sum(
        get("autobot_step_duration_seconds_count", agent="research", status=status) or 0
        for status in ("success", "failure")
    )
    assert total_steps == steps
    assert get("autobot_step_errors_total", agent="research", error_type="Timeout") == errors
    assert get("autobot_exporter_events_duplicate_total") == 0


def test_sync_client_delivers_exactly(start_exporter):
    exporter = start_exporter()
    client = MetricsClient(exporter.url, batch_size=100)
    steps, errors = push_workflows(client, 400, "sync")
    assert client.flush(timeout=30)
    client.close()
    assert client.stats.delivered == client.stats.enqueued == 400 * 8
    assert_exact(exporter, 400, steps, errors)


def test_async_client_under_a_running_loop_delivers_exactly(start_exporter):
    exporter = start_exporter()

    async def scenario() -> tuple[int, int, DeliveryStats]:
        async with AsyncMetricsClient(exporter.url, batch_size=64) as client:
            steps, errors = push_workflows(client, 200, "async")
            loop = asyncio.get_running_loop()
            more = await loop.run_in_executor(None, push_workflows, client, 50, "thread")
            assert await client.flush(timeout=30)
            return steps + more[0], errors + more[1], client.stats

    steps, errors, stats = asyncio.run(scenario())
    assert stats.delivered == 250 * 8
    assert_exact(exporter, 250, steps, errors)


def test_exporter_killed_then_restarted(start_exporter):
    first = start_exporter()
    bound, batch = 300, 50
    client = MetricsClient(
        first.url,
        batch_size=batch,
        max_buffered_events=bound,
        initial_backoff=0.05,
        max_backoff=0.2,
    )
    push_workflows(client, 10, "before")
    assert client.flush(timeout=30)
    first.process.kill()
    first.process.wait()

    produced = 0
    for number in range(1000):
        client.start_workflow_tracking(f"down-{number}", {"complexity": "while-down"})
        produced += 1
    wait_until(lambda: client.stats.retries >= 2, 10, "the client to retry")
    held = client.stats.enqueued - client.stats.delivered
    assert bound <= held <= bound + batch
    assert client.stats.dropped == produced - held

    second = start_exporter(port=first.port)
    assert client.flush(timeout=30)
    client.close()
    get = second.sample_getter()
    assert get("autobot_workflows_started_total", complexity="while-down") == held
    assert get("autobot_exporter_events_duplicate_total") == 0
    assert client.stats.delivered == client.stats.enqueued


@pytest.fixture
def slow_exporter(tmp_path):
    port = free_port()
    server = ManagedProcess(
        [sys.executable, str(SLOW_SERVER), str(port), str(SLOW_REPLY_SECONDS)],
        tmp_path / "slow.log",
    )
    server.wait_ready(f"http://127.0.0.1:{port}/-/ready")
    yield f"http://127.0.0.1:{port}"
    server.stop()


def test_slow_exporter_never_slows_the_caller(slow_exporter):
    client = MetricsClient(slow_exporter, batch_size=500, request_timeout=10)
    durations = []
    for number in range(2000):
        began = time.perf_counter()
        client.start_workflow_tracking(f"slow-{number}", {"complexity": "slow"})
        durations.append(time.perf_counter() - began)
    # batches of 500 at 1 s each: a caller that waited for the exporter would need 4 s or more
    assert sum(durations) < 1.0
    assert max(durations) < 0.25
    assert client.flush(timeout=60)
    client.close()
    assert requests.get(slow_exporter + "/count", timeout=5).json() == {"events": 2000}


def test_async_client_calls_do_not_block_the_loop_on_a_slow_exporter(slow_exporter):
    async def scenario() -> float:
        async with AsyncMetricsClient(slow_exporter, batch_size=250) as client:
            began = time.perf_counter()
            for number in range(500):
                client.start_workflow_tracking(f"aslow-{number}")
            elapsed = time.perf_counter() - began
            assert await client.flush(timeout=60)
            return elapsed

    assert asyncio.run(scenario()) < 1.0
    assert requests.get(slow_exporter + "/count", timeout=5).json() == {"events": 500}


def test_pending_events_are_flushed_at_interpreter_exit(start_exporter):
    exporter = start_exporter()
    script = textwrap.dedent(f"""
        from autobot_exporter_client import MetricsClient
        client = MetricsClient({exporter.url!r}, flush_interval=3600)
        for n in range(25):
            client.start_workflow_tracking(f"exit-{{n}}", {{"complexity": "at-exit"}})
    """)
    subprocess.run([sys.executable, "-c", script], check=True, timeout=60)
    assert exporter.sample_getter()("autobot_workflows_started_total", complexity="at-exit") == 25


def test_invalid_events_are_rejected_not_retried(start_exporter):
    exporter = start_exporter()
    client = MetricsClient(exporter.url)
    client.start_workflow_tracking("x" * 200)
    client.start_workflow_tracking("fine", {"complexity": "ok"})
    assert client.flush(timeout=30)
    client.close()
    assert (client.stats.rejected, client.stats.delivered, client.stats.retries) == (1, 1, 0)


def test_the_seeds_calls_with_the_original_keyword_names_return_the_final_statistics(recording):
    """As AutoBot's integration calls WorkflowMetricsCollector (seed, "Workflow Integration")."""
    recording.start_workflow_tracking(
        workflow_id="wf-seed",
        workflow_data={
            "user_message": "install nginx",
            "complexity": "install",
            "total_steps": 3,
            "agents_involved": ["research", "system_commands"],
        },
    )
    recording.start_step_timing("wf-seed", "s1", "research")
    recording.end_step_timing("wf-seed", "s1", success=True)
    recording.start_step_timing(workflow_id="wf-seed", step_id="s2", agent_type="system_commands")
    recording.end_step_timing(workflow_id="wf-seed", step_id="s2", success=False, error="Boom")
    recording.record_approval_wait_time(workflow_id="wf-seed", wait_time_ms=1500)
    recording.record_resource_usage(workflow_id="wf-seed", resource_data={"cpu_percent": 12.5})
    final_stats = recording.end_workflow_tracking("wf-seed", "completed")
    assert final_stats is not None
    assert (final_stats.workflow_id, final_stats.user_message, final_stats.complexity) == (
        "wf-seed",
        "install nginx",
        "install",
    )
    assert (final_stats.total_steps, final_stats.completed_steps, final_stats.failed_steps) == (
        3,
        1,
        1,
    )
    assert final_stats.agents_involved == ["research", "system_commands"]
    assert set(final_stats.step_timings) == {"s1", "s2"}
    assert all(ms >= 0 for ms in final_stats.step_timings.values())
    assert final_stats.avg_step_duration_ms == pytest.approx(
        sum(final_stats.step_timings.values()) / 2, abs=0.01
    )
    assert (final_stats.approval_wait_time_ms, final_stats.error_count) == (1500.0, 1)
    assert (final_stats.success_rate, final_stats.status) == (50.0, "completed")
    assert final_stats.resource_usage == {"cpu_percent": 12.5}
    assert final_stats.end_time >= final_stats.start_time
    assert final_stats.total_duration_ms >= 0
    assert (
        recording.end_workflow_tracking(workflow_id="never-started", final_status="failed") is None
    )
    types = [event["type"] for event in recording.events()]
    assert types.count("workflow_finished") == 2  # the unknown one is still sent


def test_a_call_that_does_not_fit_the_signature_raises_at_the_call_site(recording):
    with pytest.raises(TypeError):
        recording.start_workflow_tracking("w", metadata={"complexity": "x"})
    with pytest.raises(TypeError):
        recording.end_workflow_tracking("w", status="completed")
    with pytest.raises(TypeError):
        recording.record_resource_usage("w", data={})
    assert recording.events() == [] and recording.stats.dropped == 0


def test_tracked_workflows_are_bounded():
    client = Recording(max_tracked_workflows=2)
    try:
        for name in ("a", "b", "c"):
            client.start_workflow_tracking(name, {"complexity": "x"})
        assert client.end_workflow_tracking("a") is None  # forgotten, the oldest
        assert client.end_workflow_tracking("c").workflow_id == "c"
    finally:
        client.close(timeout=0)
