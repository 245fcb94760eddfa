"""In-memory state of one workflow: while it runs (mutable) and once finished (frozen)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class StepRecord:
    step_id: str
    agent: str
    duration_seconds: float | None
    """None when the step's end arrived without a duration and its start never came."""
    success: bool
    error_type: str | None


@dataclass(frozen=True, slots=True)
class PendingStepEnd:
    """A step_finished that needs its step_started (for the duration or the agent)."""

    ts: float
    agent: str | None
    success: bool
    error_type: str | None
    duration_seconds: float | None


@dataclass(frozen=True, slots=True)
class ApprovalWait:
    outcome: str
    wait_seconds: float


@dataclass(slots=True)
class ActiveWorkflow:
    """A workflow the exporter has heard of and not yet finished.

    It may exist before its ``workflow_started`` arrives (``started`` False) when other
    events overtook the start; such a record counts in no metric until it is started.
    """

    workflow_id: str
    first_seen: float
    """Server clock when the exporter first heard of it; workflow_ttl counts from here."""
    started: bool = False
    start_ts: float | None = None
    complexity: str = "unknown"
    complexity_label: str = "unknown"
    user_message: str = ""
    total_steps: int = 0
    agents_involved: tuple[str, ...] = ()
    early_finish: tuple[float, str] | None = None
    """(ts, status) of a workflow_finished that arrived before workflow_started."""
    open_steps: dict[str, tuple[float, str]] = field(default_factory=dict)
    pending_step_ends: dict[str, PendingStepEnd] = field(default_factory=dict)
    open_approvals: dict[str, float] = field(default_factory=dict)
    pending_resolutions: dict[str, tuple[float, str]] = field(default_factory=dict)
    closed: set[tuple[str, str]] = field(default_factory=set)
    """("step" | "approval", id) already completed, so a late start is not reopened."""
    steps: list[StepRecord] = field(default_factory=list)
    completed_steps: int = 0
    failed_steps: int = 0
    approvals: list[ApprovalWait] = field(default_factory=list)
    resource_usage: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class FinishedWorkflow:
    """The history entry: what the original AutoBot WorkflowExecutionStats held, in seconds."""

    workflow_id: str
    user_message: str
    complexity: str
    total_steps: int
    completed_steps: int
    failed_steps: int
    agents_involved: tuple[str, ...]
    start_ts: float | None
    end_ts: float
    duration_seconds: float | None
    steps: tuple[StepRecord, ...]
    approvals: tuple[ApprovalWait, ...]
    resource_usage: dict[str, float]
    status: str

    @property
    def approval_wait_seconds(self) -> float:
        return sum(approval.wait_seconds for approval in self.approvals)

    @property
    def success_ratio(self) -> float:
        """Completed over completed plus failed steps; 0 when no step ran."""
        ran = self.completed_steps + self.failed_steps
        return self.completed_steps / ran if ran else 0.0
