"""In-memory state of one workflow: while it runs and once finished."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Literal, TypeVar

import msgspec

from exporter.workflows.budget import DetailBudget
from exporter.workflows.metrics import DetailKind

T = TypeVar("T")


StepFields = tuple[str, str, float | None, bool, str | None]
"""A kept step as the ingest path keeps it and the history seals it: (step_id, agent,
duration_seconds, success, error_type). A plain tuple, not a ``StepRecord``: one is made for
every step, and a struct cost the making and, at the seal, turning back into an array
(together about 4 % of an event's CPU in pure Python); readers get ``StepRecord`` views."""


class StepRecord(msgspec.Struct, frozen=True, gc=False):
    """One kept step, as the JSON readers see it (``WorkflowProgress.steps``)."""

    step_id: str
    agent: str
    duration_seconds: float | None
    """None when the step's end arrived without a duration and its start never came."""
    success: bool
    error_type: str | None


class StepEnd(msgspec.Struct, frozen=True, gc=False):
    """What a step_finished carries, kept while it waits for its step_started."""

    agent: str | None
    success: bool
    error_type: str | None
    duration_seconds: float | None
    trace_id: str | None = None


class ApprovalWait(msgspec.Struct, frozen=True, gc=False):
    outcome: str
    wait_seconds: float


Kept = Literal["kept", "max_steps", "budget"]
"""What became of a completed step or approval: kept in the workflow's details, or not
(``max_steps_per_workflow`` or the details budget bit)."""


@dataclass(slots=True)
class WorkflowProgress:
    """Steps, approvals and resource samples of one workflow.

    Shared by the running record and the finished one, so that a step or approval whose
    events arrive after the workflow's finish still lands in its history entry. The kept
    steps and approvals are keyed by their id: they are also the memory of which pairs are
    complete, so that a late partner or a repeat of one changes nothing.
    """

    max_steps: int
    budget: DetailBudget
    kept_steps: dict[str, StepFields] = field(default_factory=dict)
    """step_id -> the step, in the order they completed."""
    completed_steps: int = 0
    failed_steps: int = 0
    kept_approvals: dict[str, ApprovalWait] = field(default_factory=dict)
    """approval_id -> the approval, in the order they were resolved."""
    resource_usage: dict[str, float] = field(default_factory=dict)
    """Latest value per key of the workflow's own resource samples."""
    sampled_usage: Mapping[str, float] | None = None
    """What the sampler saw while the workflow ran, set at its finish: one mapping shared
    by the workflows that finished over the same passes (not a copy per workflow), never
    changed."""
    kept: int = 0
    """Units of the budget this workflow holds, returned by release()."""

    @property
    def steps(self) -> list[StepRecord]:
        """The kept steps, made into records for a reader."""
        return [StepRecord(*fields) for fields in self.kept_steps.values()]

    @property
    def approvals(self) -> Collection[ApprovalWait]:
        return self.kept_approvals.values()

    def add_step(
        self,
        step_id: str,
        agent: str,
        duration_seconds: float | None,
        success: bool,
        error_type: str | None,
    ) -> Kept:
        """Count the step; keep its details if max_steps and the budget allow."""
        if success:
            self.completed_steps += 1
        else:
            self.failed_steps += 1
        step = (step_id, agent, duration_seconds, success, error_type)
        return self._keep(self.kept_steps, step_id, step, "step")

    def add_approval(self, approval_id: str, approval: ApprovalWait) -> Kept:
        return self._keep(self.kept_approvals, approval_id, approval, "approval")

    def _keep(self, kept: dict[str, T], key: str, detail: T, kind: DetailKind) -> Kept:
        if len(kept) >= self.max_steps:
            self.budget.drop(kind)
            return "max_steps"
        if not self.budget.take(kind):
            return "budget"
        kept[key] = detail
        self.kept += 1
        return "kept"

    def add_resource_usage(self, data: Mapping[str, float]) -> None:
        """Latest value per key; a new key takes a unit of the budget."""
        for key, value in data.items():
            if key in self.resource_usage:
                self.resource_usage[key] = value
            elif self.budget.take("resource_key"):
                self.resource_usage[key] = value
                self.kept += 1

    def keep_agents(self, agents: tuple[str, ...]) -> tuple[str, ...]:
        """The agent names that fit in the budget, in order."""
        granted = self.budget.take("agent", len(agents))
        self.kept += granted
        return agents[:granted]

    def release(self) -> None:
        """Return this workflow's units: it leaves memory."""
        self.budget.release(self.kept)
        self.kept = 0

    @property
    def usage(self) -> dict[str, float]:
        """The sampler's figures, overridden by the workflow's own samples."""
        return {**(self.sampled_usage or {}), **self.resource_usage}

    @property
    def approval_wait_seconds(self) -> float:
        return sum(approval.wait_seconds for approval in self.approvals)

    @property
    def success_ratio(self) -> float:
        """Completed over completed plus failed steps; 0 when no step ran."""
        ran = self.completed_steps + self.failed_steps
        return self.completed_steps / ran if ran else 0.0


@dataclass(slots=True)
class ActiveWorkflow:
    """A workflow the exporter has heard of and not yet finished.

    It may exist before its ``workflow_started`` arrives (``started`` False) when other
    events overtook the start; such a record counts in no metric until it is started.
    """

    workflow_id: str
    first_seen: float
    """Server clock when the exporter first heard of it; workflow_ttl counts from here."""
    progress: WorkflowProgress
    started: bool = False
    start_ts: float | None = None
    complexity: str = "unknown"
    complexity_label: str = "unknown"
    user_message: str = ""
    total_steps: int = 0
    agents_involved: tuple[str, ...] = ()
    early_finish: tuple[float, str, str | None] | None = None
    """(ts, status, trace_id) of a workflow_finished that arrived before workflow_started."""


class FinishedWorkflow(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """The history entry: what the original AutoBot WorkflowExecutionStats held, in seconds.
    A struct, not a frozen dataclass, whose ``__init__`` sets each of its ten fields
    through ``object.__setattr__``: one is made per finished workflow. Untracked by the
    cyclic collector: nothing it holds refers back to it."""

    workflow_id: str
    user_message: str
    complexity: str
    total_steps: int
    agents_involved: tuple[str, ...]
    start_ts: float | None
    end_ts: float
    duration_seconds: float | None
    status: str
    progress: WorkflowProgress
