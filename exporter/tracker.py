"""WorkflowTracker: applies events to workflow state, the metric families and the history.

Ordering rules (README "Out-of-order events"): an end that arrives before its start waits
in the workflow's record and is completed when the start comes, so the final metrics
equal those of the in-order sequence. What can never be paired (a start that never comes
before the workflow ends or expires, a repeated start or finish, an event for a workflow
already finished) is applied as far as it can be and counted in
``autobot_exporter_events_out_of_order_total{type}``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator, Sized

from exporter.config import Config
from exporter.dedup import SeenIds
from exporter.events import (
    AnyEvent,
    ApprovalRequested,
    ApprovalResolved,
    ResourceSample,
    StepFinished,
    StepStarted,
    WorkflowFinished,
    WorkflowStarted,
)
from exporter.labels import LabelValueLimiter
from exporter.metrics import EXEMPLAR_LABEL, SelfMetrics, WorkflowMetrics
from exporter.records import (
    ActiveWorkflow,
    ApprovalWait,
    FinishedWorkflow,
    PendingStepEnd,
    StepRecord,
)

log = logging.getLogger(__name__)

UNKNOWN = "unknown"
ABANDONED = "abandoned"


class WorkflowTracker:
    """Single-threaded by design: the aiohttp event loop is its only caller."""

    def __init__(
        self,
        config: Config,
        metrics: WorkflowMetrics,
        self_metrics: SelfMetrics,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._config = config
        self._metrics = metrics
        self._self = self_metrics
        self._clock = clock
        self._active: dict[str, ActiveWorkflow] = {}
        self._history: dict[str, FinishedWorkflow] = {}
        self._seen_ids = SeenIds(config.dedup_window)
        overflow = self_metrics.label_overflow
        self._complexity = LabelValueLimiter("complexity", config.max_label_values, overflow)
        self._agent = LabelValueLimiter("agent", config.max_label_values, overflow)
        self._error_type = LabelValueLimiter("error_type", config.max_label_values, overflow)
        self._capacity_logged = False
        self._history_logged = False
        self._steps_logged = False
        self._handlers: dict[type, Callable] = {
            WorkflowStarted: self._workflow_started,
            StepStarted: self._step_started,
            StepFinished: self._step_finished,
            ApprovalRequested: self._approval_requested,
            ApprovalResolved: self._approval_resolved,
            ResourceSample: self._resource_sample,
            WorkflowFinished: self._workflow_finished,
        }
        self._update_tracked_gauges()

    # ---- public API -------------------------------------------------------------------

    def apply(self, events: Iterable[AnyEvent]) -> tuple[int, int]:
        """Apply events in order; returns (accepted, duplicates)."""
        accepted = duplicates = 0
        for event in events:
            if event.event_id is not None and not self._seen_ids.add(event.event_id):
                duplicates += 1
                self._self.events_duplicate.inc()
                continue
            now = self._clock()
            self._handlers[type(event)](event, event.ts if event.ts is not None else now, now)
            self._self.events.labels(type=event.__struct_config__.tag).inc()
            accepted += 1
        self._update_tracked_gauges()
        return accepted, duplicates

    def expire(self) -> int:
        """Finish as ``abandoned`` every workflow first seen more than workflow_ttl ago."""
        now = self._clock()
        deadline = now - self._config.workflow_ttl
        expired = 0
        while self._active:
            oldest = next(iter(self._active.values()))
            if oldest.first_seen > deadline:
                break
            self._evict(oldest, now, reason="ttl")
            expired += 1
        self._update_tracked_gauges()
        return expired

    def active(self) -> Iterator[ActiveWorkflow]:
        return iter(self._active.values())

    def history(self) -> Iterator[FinishedWorkflow]:
        """Finished workflows, oldest finish first."""
        return iter(self._history.values())

    def get_active(self, workflow_id: str) -> ActiveWorkflow | None:
        return self._active.get(workflow_id)

    def get_finished(self, workflow_id: str) -> FinishedWorkflow | None:
        return self._history.get(workflow_id)

    @property
    def active_count(self) -> int:
        """Started and not finished (records waiting for their start do not count)."""
        return sum(1 for record in self._active.values() if record.started)

    def now(self) -> float:
        return self._clock()

    # ---- record lookup ------------------------------------------------------------------

    def _record(self, workflow_id: str, now: float) -> ActiveWorkflow | None:
        """The running record, created on first sight; None once the workflow finished."""
        record = self._active.get(workflow_id)
        if record is not None:
            return record
        if workflow_id in self._history:
            return None
        if len(self._active) >= self._config.max_active_workflows:
            self._evict(next(iter(self._active.values())), now, reason="capacity")
            if not self._capacity_logged:
                self._capacity_logged = True
                log.warning(
                    "max_active_workflows=%d reached; the oldest workflows are finished as "
                    'abandoned (autobot_exporter_workflows_expired_total{reason="capacity"})',
                    self._config.max_active_workflows,
                )
        record = ActiveWorkflow(workflow_id=workflow_id, first_seen=now)
        self._active[workflow_id] = record
        return record

    def _room(self, per_workflow: Sized) -> bool:
        """Whether a per-workflow collection may grow (max_steps_per_workflow bounds each)."""
        if len(per_workflow) < self._config.max_steps_per_workflow:
            return True
        if not self._steps_logged:
            self._steps_logged = True
            log.warning(
                "a workflow reached max_steps_per_workflow=%d; further steps and approvals "
                "count in the metrics but are not kept in its JSON record",
                self._config.max_steps_per_workflow,
            )
        return False

    def _out_of_order(self, event: AnyEvent) -> None:
        self._self.events_out_of_order.labels(type=event.__struct_config__.tag).inc()

    # ---- workflow events ----------------------------------------------------------------

    def _workflow_started(self, event: WorkflowStarted, ts: float, now: float) -> None:
        record = self._record(event.workflow_id, now)
        if record is None or record.started:
            self._out_of_order(event)
            return
        record.started = True
        record.start_ts = ts
        record.complexity = event.complexity
        record.complexity_label = self._complexity(event.complexity)
        record.user_message = self._user_message(event.user_message)
        record.total_steps = event.total_steps
        record.agents_involved = event.agents_involved
        self._metrics.workflows_started.labels(complexity=record.complexity_label).inc()
        self._metrics.workflows_active.labels(complexity=record.complexity_label).inc()
        if record.early_finish is not None:
            end_ts, status = record.early_finish
            self._finish(record, end_ts, status)

    def _workflow_finished(self, event: WorkflowFinished, ts: float, now: float) -> None:
        record = self._record(event.workflow_id, now)
        if record is None or record.early_finish is not None:
            self._out_of_order(event)
            return
        if record.started:
            self._finish(record, ts, event.status)
        else:
            record.early_finish = (ts, event.status)

    def _user_message(self, message: str | None) -> str:
        settings = self._config.user_message
        if not settings.enabled or message is None:
            return ""
        return message[: settings.max_length]

    def _resource_sample(self, event: ResourceSample, ts: float, now: float) -> None:
        record = self._record(event.workflow_id, now)
        if record is None:
            self._out_of_order(event)
            return
        record.resource_usage.update(event.data)

    # ---- steps --------------------------------------------------------------------------

    def _step_started(self, event: StepStarted, ts: float, now: float) -> None:
        record = self._record(event.workflow_id, now)
        key = ("step", event.step_id)
        if (
            record is None
            or key in record.closed
            or event.step_id in record.open_steps
            or not self._room(record.open_steps)
        ):
            self._out_of_order(event)
            return
        pending = record.pending_step_ends.pop(event.step_id, None)
        if pending is None:
            record.open_steps[event.step_id] = (ts, event.agent)
            return
        duration = pending.duration_seconds
        if duration is None:
            duration = max(0.0, pending.ts - ts)
        step = StepRecord(
            event.step_id,
            pending.agent or event.agent,
            duration,
            pending.success,
            pending.error_type,
        )
        self._complete_step(record, event.workflow_id, step)

    def _step_finished(self, event: StepFinished, ts: float, now: float) -> None:
        record = self._record(event.workflow_id, now)
        if record is not None and (
            ("step", event.step_id) in record.closed or event.step_id in record.pending_step_ends
        ):
            self._out_of_order(event)
            return
        start = record.open_steps.pop(event.step_id, None) if record is not None else None
        agent = event.agent or (start[1] if start else None)
        duration = event.duration_seconds
        if duration is None and start is not None:
            duration = max(0.0, ts - start[0])
        waits = agent is None or duration is None
        if record is not None and waits and self._room(record.pending_step_ends):
            record.pending_step_ends[event.step_id] = PendingStepEnd(
                ts, agent, event.success, event.error_type, duration
            )
            return
        if record is None or waits:
            self._out_of_order(event)
        step = StepRecord(
            event.step_id, agent or UNKNOWN, duration, event.success, event.error_type
        )
        self._complete_step(record, event.workflow_id, step)

    def _complete_step(
        self, record: ActiveWorkflow | None, workflow_id: str, step: StepRecord
    ) -> None:
        agent_label = self._agent(step.agent)
        if step.duration_seconds is not None:
            self._metrics.step_duration.labels(
                agent=agent_label, status="success" if step.success else "failure"
            ).observe(step.duration_seconds, {EXEMPLAR_LABEL: workflow_id})
        if not step.success:
            self._metrics.step_errors.labels(
                agent=agent_label, error_type=self._error_type(step.error_type or UNKNOWN)
            ).inc()
        if record is None:
            return
        if step.success:
            record.completed_steps += 1
        else:
            record.failed_steps += 1
        if self._room(record.steps):
            record.closed.add(("step", step.step_id))
            record.steps.append(step)

    # ---- approvals ----------------------------------------------------------------------

    def _approval_requested(self, event: ApprovalRequested, ts: float, now: float) -> None:
        record = self._record(event.workflow_id, now)
        key = ("approval", event.approval_id)
        if (
            record is None
            or key in record.closed
            or event.approval_id in record.open_approvals
            or not self._room(record.open_approvals)
        ):
            self._out_of_order(event)
            return
        pending = record.pending_resolutions.pop(event.approval_id, None)
        if pending is None:
            record.open_approvals[event.approval_id] = ts
            self._metrics.approvals_pending.inc()
            return
        resolved_ts, outcome = pending
        self._complete_approval(record, event.approval_id, outcome, max(0.0, resolved_ts - ts))

    def _approval_resolved(self, event: ApprovalResolved, ts: float, now: float) -> None:
        record = self._record(event.workflow_id, now)
        if record is not None and (
            ("approval", event.approval_id) in record.closed
            or event.approval_id in record.pending_resolutions
        ):
            self._out_of_order(event)
            return
        requested = (
            record.open_approvals.pop(event.approval_id, None) if record is not None else None
        )
        if requested is not None:
            self._metrics.approvals_pending.dec()
        wait = event.wait_seconds
        if wait is None and requested is not None:
            wait = max(0.0, ts - requested)
        if record is not None and wait is None and self._room(record.pending_resolutions):
            record.pending_resolutions[event.approval_id] = (ts, event.outcome)
            return
        if record is None or wait is None:
            self._out_of_order(event)
        if wait is not None:
            self._complete_approval(record, event.approval_id, event.outcome, wait)

    def _complete_approval(
        self, record: ActiveWorkflow | None, approval_id: str, outcome: str, wait: float
    ) -> None:
        self._metrics.approval_wait.labels(outcome=outcome).observe(wait)
        if record is not None and self._room(record.approvals):
            record.closed.add(("approval", approval_id))
            record.approvals.append(ApprovalWait(outcome, wait))

    # ---- finishing ----------------------------------------------------------------------

    def _evict(self, record: ActiveWorkflow, now: float, reason: str) -> None:
        """Finish a record the exporter gives up on (workflow_ttl or capacity)."""
        if record.early_finish is not None:
            end_ts, status = record.early_finish
            self._finish(record, end_ts, status)
        elif record.started:
            self._self.workflows_expired.labels(reason=reason).inc()
            self._finish(record, now, ABANDONED)
        else:
            # Only step or approval events ever came: nothing was counted as a workflow.
            del self._active[record.workflow_id]
            self._flush_unpaired(record)

    def _flush_unpaired(self, record: ActiveWorkflow) -> None:
        """Apply what still waits for a partner that will now never come."""
        for step_id, pending in record.pending_step_ends.items():
            self._self.events_out_of_order.labels(type="step_finished").inc()
            step = StepRecord(
                step_id,
                pending.agent or UNKNOWN,
                pending.duration_seconds,
                pending.success,
                pending.error_type,
            )
            self._complete_step(None, record.workflow_id, step)
        self._self.events_out_of_order.labels(type="approval_resolved").inc(
            len(record.pending_resolutions)
        )
        self._metrics.approvals_pending.dec(len(record.open_approvals))

    def _finish(self, record: ActiveWorkflow, end_ts: float, status: str) -> None:
        del self._active[record.workflow_id]
        self._flush_unpaired(record)
        labels = {"complexity": record.complexity_label, "status": status}
        if record.started:
            self._metrics.workflows_active.labels(complexity=record.complexity_label).dec()
        else:
            # Its finish came but its start never did: counted as started now, so that
            # started - finished - active stays zero.
            self._metrics.workflows_started.labels(complexity=record.complexity_label).inc()
        self._metrics.workflows_finished.labels(**labels).inc()
        duration = None
        if record.start_ts is not None:
            duration = max(0.0, end_ts - record.start_ts)
            self._metrics.workflow_duration.labels(**labels).observe(
                duration, {EXEMPLAR_LABEL: record.workflow_id}
            )
        self._remember(
            FinishedWorkflow(
                workflow_id=record.workflow_id,
                user_message=record.user_message,
                complexity=record.complexity,
                total_steps=record.total_steps,
                completed_steps=record.completed_steps,
                failed_steps=record.failed_steps,
                agents_involved=record.agents_involved,
                start_ts=record.start_ts,
                end_ts=end_ts,
                duration_seconds=duration,
                steps=tuple(record.steps),
                approvals=tuple(record.approvals),
                resource_usage=record.resource_usage,
                status=status,
            )
        )

    def _remember(self, finished: FinishedWorkflow) -> None:
        self._history[finished.workflow_id] = finished
        if len(self._history) > self._config.max_history:
            del self._history[next(iter(self._history))]
            self._self.history_evicted.inc()
            if not self._history_logged:
                self._history_logged = True
                log.info(
                    "max_history=%d reached; the oldest finished workflows leave the JSON API "
                    "(autobot_exporter_history_evicted_total)",
                    self._config.max_history,
                )

    def _update_tracked_gauges(self) -> None:
        self._self.workflows_tracked.labels(state="active").set(len(self._active))
        self._self.workflows_tracked.labels(state="history").set(len(self._history))
