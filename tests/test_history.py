"""The history: a finished workflow is sealed as it enters, read back whole, unsealed in
place by a late step or approval, and its budget units returned when it leaves."""

from __future__ import annotations

from prometheus_client import CollectorRegistry

from exporter.jsonapi.workflow_json import finished_view
from exporter.workflows.budget import DetailBudget
from exporter.workflows.history import History, SealedWorkflow, seal, unseal
from exporter.workflows.metrics import SelfMetrics
from exporter.workflows.records import ApprovalWait, FinishedWorkflow, WorkflowProgress
from tests.test_tracker import Harness, approval, step_finished, wf_finished, wf_started


def a_budget() -> DetailBudget:
    return DetailBudget(1000, SelfMetrics(CollectorRegistry()))


def finished_workflow(budget: DetailBudget, workflow_id: str = "w1") -> FinishedWorkflow:
    progress = WorkflowProgress(10, budget)
    progress.keep_agents(("research", "librarian"))
    progress.add_step("s1", "research", 2.5, True, None)
    progress.add_step("s2", "librarian", None, False, "Timeout")
    progress.add_approval("a1", ApprovalWait("approved", 3.0))
    progress.add_resource_usage({"gpu_percent": 40.0})
    progress.sampled_usage = {"sampled_points": 3, "cpu_percent_avg": 12.5}
    return FinishedWorkflow(
        workflow_id=workflow_id,
        user_message="install nginx",
        complexity="install",
        total_steps=2,
        agents_involved=("research", "librarian"),
        start_ts=100.0,
        end_ts=110.5,
        duration_seconds=10.5,
        status="completed",
        progress=progress,
    )


def test_a_sealed_workflow_reads_back_as_it_was():
    budget = a_budget()
    original = finished_workflow(budget)
    sealed = seal(original)
    back = unseal(sealed, 10, budget)
    assert finished_view(back) == finished_view(original)
    assert back.progress.kept_steps == original.progress.kept_steps
    assert back.progress.kept_approvals == original.progress.kept_approvals
    assert back.progress.sampled_usage is original.progress.sampled_usage  # shared, not copied
    assert back.progress.kept == original.progress.kept == 6  # 2 agents, 2 steps, 1, 1


def test_an_entry_is_sealed_and_a_reader_does_not_unseal_it():
    budget = a_budget()
    history = History(10, 10, budget)
    history.add(finished_workflow(budget))
    assert isinstance(history.entry("w1"), SealedWorkflow)
    assert history.get("w1").progress.completed_steps == 1
    assert [workflow.workflow_id for workflow in history.snapshot()] == ["w1"]
    assert isinstance(history.entry("w1"), SealedWorkflow)


def test_a_snapshot_keeps_the_entries_it_was_taken_with():
    budget = a_budget()
    history = History(2, 10, budget)
    history.add(finished_workflow(budget, "w1"))
    taken = history.snapshot()
    history.add(finished_workflow(budget, "w2"))
    history.add(finished_workflow(budget, "w3"))  # w1 leaves
    assert [workflow.workflow_id for workflow in taken] == ["w1"]
    assert len(history) == 2 and "w1" not in history


def test_the_budget_units_return_when_a_sealed_or_an_unsealed_entry_leaves():
    budget = a_budget()
    history = History(1, 10, budget)
    history.add(finished_workflow(budget, "w1"))
    history.live("w1", history.entry("w1"))  # unsealed by a late detail
    history.add(finished_workflow(budget, "w2"))  # w1 leaves, unsealed
    history.add(finished_workflow(budget, "w3"))  # w2 leaves, sealed
    assert budget._used == 3 * 6 - 2 * 6  # only w3's units are still taken


def test_a_late_step_unseals_its_workflow_in_place_and_lands():
    harness = Harness()
    harness.send(wf_started("w0"), wf_finished("w0"))
    late = step_finished("s2", ts=111.0, agent="research", duration_seconds=2.0)
    harness.send(wf_started(), step_finished("s1", agent="research", duration_seconds=1.0))
    harness.send(wf_finished())
    harness.send(late)  # after the finish
    finished = harness.tracker.get_finished("w1")
    assert list(finished.progress.kept_steps) == ["s1", "s2"]
    assert finished.progress.completed_steps == 2
    assert [w.workflow_id for w in harness.tracker.history()] == ["w0", "w1"]  # order kept
    steps = {"agent": "research", "status": "success"}
    assert harness.get("autobot_step_duration_seconds_count", **steps) == 2
    assert harness.send(late) == (1, 0)  # a repeat without an event_id: its pair is complete
    assert harness.get("autobot_step_duration_seconds_count", **steps) == 2
    assert harness.tracker.get_finished("w1").progress.completed_steps == 2


def test_a_late_approval_resolution_lands_in_a_sealed_workflow():
    harness = Harness()
    harness.send(wf_started(), approval("requested", 105.0, approval_id="a1"), wf_finished())
    harness.send(approval("resolved", 112.0, approval_id="a1", outcome="denied"))
    approvals = harness.tracker.get_finished("w1").progress.kept_approvals
    assert approvals == {"a1": ApprovalWait("denied", 7.0)}
