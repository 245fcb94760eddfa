"""WorkflowTracker: applies events to workflow state, the metric families and the history.

Ordering (README "Out-of-order events"): the events of one workflow may arrive in any
order and still give the metrics of the in-order sequence. A finish that overtakes its
start waits in the workflow's record; a step's or approval's two halves are matched in a
pair table that outlives the workflow's finish; once a pair is complete, a late partner
(the start of a step whose finish carried its duration) or a repeat changes nothing.
What can never be matched (a half whose partner does not come within workflow_ttl, a
repeated start or finish of a workflow, a repeat of a waiting half) is applied as far as
it can be and counted in ``autobot_exporter_events_out_of_order_total{type}``.

Why one module of ~400 lines: the ordering guarantees above span workflow, step and
approval events (a step may complete after its workflow finished, a finish may wait for
its start), so one class owns all of that state and every handler that changes it;
split, the handlers would reach into each other's tables.
"""

from __future__ import annotations

import logging
import time
from collections import Counter, OrderedDict
from collections.abc import Callable, Container, Iterator, Mapping, Sequence
from typing import Any, get_args

from exporter.config import Config
from exporter.log_once import LogOnce
from exporter.workflows.budget import DetailBudget
from exporter.workflows.dedup import IdWindow
from exporter.workflows.event_ids import event_id_digest
from exporter.workflows.events import (
    AnyEvent,
    ApprovalRequested,
    ApprovalResolved,
    ResourceSample,
    StepFinished,
    StepStarted,
    WorkflowFinished,
    WorkflowStarted,
    event_type_name,
)
from exporter.workflows.history import History, HistorySnapshot
from exporter.workflows.labels import LabelValueLimiter
from exporter.workflows.metrics import (
    ABANDONED,
    ExpiryReason,
    SelfMetrics,
    WorkflowMetrics,
    exemplar,
)
from exporter.workflows.pairing import Half, Key, PairTable
from exporter.workflows.points import MetricPoints
from exporter.workflows.records import (
    ActiveWorkflow,
    ApprovalWait,
    FinishedWorkflow,
    StepEnd,
    WorkflowProgress,
)

log = logging.getLogger(__name__)

UNKNOWN = "unknown"
NOTHING_KEPT: frozenset[str] = frozenset()


class WorkflowTracker:
    """Single-threaded by design: the aiohttp event loop is its only caller."""

    def __init__(
        self,
        config: Config,
        metrics: WorkflowMetrics,
        self_metrics: SelfMetrics,
        clock: Callable[[], float] = time.time,
        resource_usage: Callable[[float, float], Mapping[str, float] | None] | None = None,
    ) -> None:
        """``resource_usage(start, end)`` gives what the sampler saw during a workflow."""
        self._config = config
        self._resource_usage = resource_usage
        self._metrics = metrics
        self._self = self_metrics
        self._clock = clock
        # Ordered by arrival; OrderedDict finds the oldest in O(1) however many left before
        # (a plain dict's next(iter()) walks the slots its deletions left at the front).
        self._active: OrderedDict[str, ActiveWorkflow] = OrderedDict()
        self._seen_ids = IdWindow(config.dedup_window)
        self._steps: PairTable[str, StepEnd] = PairTable(config.max_pending_pairs)
        self._approvals: PairTable[None, str] = PairTable(config.max_pending_pairs)
        overflow = self_metrics.label_overflow
        self._complexity = LabelValueLimiter("complexity", config.max_label_values, overflow)
        self._agent = LabelValueLimiter("agent", config.max_label_values, overflow)
        self._error_type = LabelValueLimiter("error_type", config.max_label_values, overflow)
        self._budget = DetailBudget(config.max_kept_details, self_metrics)
        self._history = History(config.max_history, config.max_steps_per_workflow, self._budget)
        self._log_once = LogOnce(log)
        self.metric_points = MetricPoints(config.max_history)
        """The original collector's point count (read on the event loop: it changes there)."""
        self._event_counters = {
            kind: self_metrics.events(event_type_name(kind)) for kind in get_args(AnyEvent)
        }
        self._handlers: dict[type[AnyEvent], Callable[[Any, float, float], None]] = {
            WorkflowStarted: self._workflow_started,
            StepStarted: self._step_started,
            StepFinished: self._step_finished,
            ApprovalRequested: self._approval_requested,
            ApprovalResolved: self._approval_resolved,
            ResourceSample: self._resource_sample,
            WorkflowFinished: self._workflow_finished,
        }
        """One handler per event type (a test checks that none is missing)."""
        # read when scraped, not pushed after every batch
        tracked = self_metrics.workflows_tracked
        tracked.labels("active").set_function(lambda: len(self._active))
        tracked.labels("history").set_function(lambda: len(self._history))
        self_metrics.unmatched_events.set_function(
            lambda: self._steps.open_count + self._approvals.open_count
        )

    # ---- public API -------------------------------------------------------------------

    def apply(self, events: Sequence[AnyEvent]) -> tuple[int, int]:
        """Apply events in order; returns (accepted, duplicates). A batch arrives at one
        instant: ``now`` (the server clock) is read once for it, and the per-type event
        counters are incremented once per type, after the loop."""
        now = self._clock()
        digests = [None if e.event_id is None else event_id_digest(e.event_id) for e in events]
        if None not in digests and self._seen_ids.add_all(digests):
            fresh: Sequence[AnyEvent] = events  # the common case: every id new, checked at once
        else:
            first_sight = self._seen_ids.add
            fresh = [
                e
                for e, digest in zip(events, digests, strict=True)
                if digest is None or first_sight(digest)
            ]
        handlers = self._handlers
        for event in fresh:
            handlers[type(event)](event, event.ts if event.ts is not None else now, now)
        for kind, count in Counter(map(type, fresh)).items():
            self._event_counters[kind].inc(count)
        duplicates = len(events) - len(fresh)
        if duplicates:
            self._self.events_duplicate.inc(duplicates)
        self._drain_pairs(now - self._config.workflow_ttl)
        return len(fresh), duplicates

    def expire(self) -> None:
        """Give up on what waited longer than workflow_ttl: workflows finish as
        ``abandoned``, unmatched step and approval halves are applied as they are."""
        now = self._clock()
        deadline = now - self._config.workflow_ttl
        while self._active:
            oldest = next(iter(self._active.values()))
            if oldest.first_seen > deadline:
                break
            self._evict(oldest, now, reason="ttl")
        self._drain_pairs(deadline)

    def active(self) -> Iterator[ActiveWorkflow]:
        return iter(self._active.values())

    def history(self) -> HistorySnapshot:
        """Finished workflows, oldest finish first: taken now, decoded as iterated."""
        return self._history.snapshot()

    def get_active(self, workflow_id: str) -> ActiveWorkflow | None:
        return self._active.get(workflow_id)

    def get_finished(self, workflow_id: str) -> FinishedWorkflow | None:
        return self._history.get(workflow_id)

    @property
    def active_count(self) -> int:
        """Started and not finished (records waiting for their start do not count)."""
        return sum(1 for record in self._active.values() if record.started)

    @property
    def approvals_pending(self) -> int:
        """Approvals requested and not yet resolved (autobot_approvals_pending)."""
        return self._approvals.waiting_starts

    def now(self) -> float:
        return self._clock()

    # ---- helpers ------------------------------------------------------------------------

    def _log_limit_once(self, setting: str, message: str) -> None:
        self._log_once.first(
            setting, "%s=%s reached: %s", setting, getattr(self._config, setting), message
        )

    def _out_of_order(self, event_type: str, count: int = 1) -> None:
        if count:
            self._self.events_out_of_order(event_type).inc(count)

    def _record(self, workflow_id: str, now: float) -> ActiveWorkflow:
        """The running record, created on first sight (the caller checked the history)."""
        record = self._active.get(workflow_id)
        if record is not None:
            return record
        if len(self._active) >= self._config.max_active_workflows:
            self._log_limit_once(
                "max_active_workflows",
                "the oldest workflows are finished as abandoned "
                '(autobot_exporter_workflows_expired_total{reason="capacity"})',
            )
            self._evict(next(iter(self._active.values())), now, reason="capacity")
        record = ActiveWorkflow(
            workflow_id, now, WorkflowProgress(self._config.max_steps_per_workflow, self._budget)
        )
        self._active[workflow_id] = record
        return record

    def _progress(self, workflow_id: str, now: float) -> WorkflowProgress:
        """Where a step, approval or sample of this workflow is recorded, finished or not."""
        progress = self._known_progress(workflow_id)
        return progress if progress is not None else self._record(workflow_id, now).progress

    def _known_progress(self, workflow_id: str) -> WorkflowProgress | None:
        """The workflow's progress if it is in memory, without creating a record for it."""
        finished = self._history.entry(workflow_id)
        if finished is not None:
            return self._history.live(workflow_id, finished).progress
        record = self._active.get(workflow_id)
        return record.progress if record is not None else None

    # ---- workflow events ----------------------------------------------------------------

    def _workflow_started(self, event: WorkflowStarted, ts: float, now: float) -> None:
        if event.workflow_id in self._history:
            self._out_of_order("workflow_started")
            return
        record = self._record(event.workflow_id, now)
        if record.started:
            self._out_of_order("workflow_started")
            return
        record.started = True
        record.start_ts = ts
        record.complexity_label = self._complexity(event.complexity)
        record.complexity = self._complexity.kept(record.complexity_label, event.complexity)
        self._metrics.workflows_finished.open_row(record.complexity_label)
        record.user_message = self._user_message(event.user_message)
        record.total_steps = event.total_steps
        record.agents_involved = record.progress.keep_agents(event.agents_involved)
        self._metrics.workflows_started(record.complexity_label).inc()
        self._metrics.workflows_active(record.complexity_label).inc()
        self.metric_points.add(now)
        if record.early_finish is not None:
            self._finish(record, *record.early_finish)

    def _workflow_finished(self, event: WorkflowFinished, ts: float, now: float) -> None:
        if event.workflow_id in self._history:
            self._out_of_order("workflow_finished")
            return
        record = self._record(event.workflow_id, now)
        if record.early_finish is not None:
            self._out_of_order("workflow_finished")
        elif record.started:
            self._finish(record, ts, event.status, event.trace_id)
        else:
            record.early_finish = (ts, event.status, event.trace_id)

    def _user_message(self, message: str | None) -> str:
        settings = self._config.user_message
        if not settings.enabled or message is None:
            return ""
        return message[: settings.max_length]

    def _resource_sample(self, event: ResourceSample, ts: float, now: float) -> None:
        self._progress(event.workflow_id, now).add_resource_usage(event.data)
        self.metric_points.add_resource_fields(now, event.data)

    def _is_new_half(
        self, table: PairTable, key: Key, kept: Container[str], event_type: str, end: bool
    ) -> bool:
        """False for a half that changes nothing: its pair is complete already (a late
        partner or a repeat: kept in its workflow's details, or closed in ``table``), or the
        same half already waits (a repeat: out of order)."""
        if key[1] in kept or table.is_closed(key):
            return False
        if table.is_waiting(key, end=end):
            self._out_of_order(event_type)
            return False
        return True

    # ---- steps --------------------------------------------------------------------------

    def _step_started(self, event: StepStarted, ts: float, now: float) -> None:
        key = (event.workflow_id, event.step_id)
        progress = self._known_progress(event.workflow_id)
        kept = progress.kept_steps if progress is not None else NOTHING_KEPT
        if not self._is_new_half(self._steps, key, kept, "step_started", end=False):
            return
        end = self._steps.take_end(key)
        if end is None:
            self._steps.put_start(key, Half(ts, now, event.agent))
            self._metrics.step_duration.open_row(self._agent(event.agent))
            return
        ended = end.payload
        duration = ended.duration_seconds
        if duration is None:
            duration = max(0.0, end.ts - ts)
        agent = ended.agent or event.agent
        self._complete_step(
            key,
            agent,
            duration,
            ended.success,
            ended.error_type,
            now=now,
            progress=progress,
            trace_id=ended.trace_id,
        )

    def _step_finished(self, event: StepFinished, ts: float, now: float) -> None:
        key = (event.workflow_id, event.step_id)
        progress = self._known_progress(event.workflow_id)
        kept = progress.kept_steps if progress is not None else NOTHING_KEPT
        if not self._is_new_half(self._steps, key, kept, "step_finished", end=True):
            return
        start = self._steps.take_start(key)
        agent = event.agent or (start.payload if start else None)
        duration = event.duration_seconds
        if duration is None and start is not None:
            duration = max(0.0, ts - start.ts)
        if agent is None or duration is None:
            ended = StepEnd(agent, event.success, event.error_type, duration, event.trace_id)
            self._steps.put_end(key, Half(ts, now, ended))
            return
        self._complete_step(
            key,
            agent,
            duration,
            event.success,
            event.error_type,
            now=now,
            progress=progress,
            trace_id=event.trace_id,
        )

    def _complete_step(
        self,
        key: Key,
        agent: str,
        duration: float | None,
        success: bool,
        error_type: str | None,
        *,
        now: float,
        progress: WorkflowProgress | None = None,
        trace_id: str | None = None,
    ) -> None:
        """``duration`` None: the step's end arrived without one and its start never came.
        ``progress``: the workflow's, if the caller found it in memory already."""
        workflow_id = key[0]
        self.metric_points.add(now)
        agent_label = self._agent(agent)
        if duration is not None:
            self._metrics.step_duration(agent_label, "success" if success else "failure").observe(
                duration, exemplar(workflow_id, trace_id), now
            )
        if not success:
            error_label = self._error_type(error_type or UNKNOWN)
            self._metrics.step_errors(agent_label, error_label).inc()
            if error_type is not None:
                error_type = self._error_type.kept(error_label, error_type)
        agent = self._agent.kept(agent_label, agent)
        if progress is None:
            progress = self._progress(workflow_id, now)
        kept = progress.add_step(key[1], agent, duration, success, error_type)
        if kept != "kept":
            self._steps.close(key)
        if kept == "max_steps":
            self._log_limit_once(
                "max_steps_per_workflow",
                "further steps of a workflow count in the metrics but are not kept in its JSON",
            )

    # ---- approvals ----------------------------------------------------------------------

    def _approval_requested(self, event: ApprovalRequested, ts: float, now: float) -> None:
        key = (event.workflow_id, event.approval_id)
        progress = self._known_progress(event.workflow_id)
        kept = progress.kept_approvals if progress is not None else NOTHING_KEPT
        if not self._is_new_half(self._approvals, key, kept, "approval_requested", end=False):
            return
        resolution = self._approvals.take_end(key)
        if resolution is None:
            self._approvals.put_start(key, Half(ts, now, None))
            self._metrics.approvals_pending.inc()
            return
        wait = max(0.0, resolution.ts - ts)
        self._complete_approval(key, ApprovalWait(resolution.payload, wait), now, progress)

    def _approval_resolved(self, event: ApprovalResolved, ts: float, now: float) -> None:
        key = (event.workflow_id, event.approval_id)
        progress = self._known_progress(event.workflow_id)
        kept = progress.kept_approvals if progress is not None else NOTHING_KEPT
        if not self._is_new_half(self._approvals, key, kept, "approval_resolved", end=True):
            return
        request = self._approvals.take_start(key)
        if request is not None:
            self._metrics.approvals_pending.dec()
        wait = event.wait_seconds
        if wait is None and request is not None:
            wait = max(0.0, ts - request.ts)
        if wait is None:
            self._approvals.put_end(key, Half(ts, now, event.outcome))
            return
        self._complete_approval(key, ApprovalWait(event.outcome, wait), now, progress)

    def _complete_approval(
        self, key: Key, approval: ApprovalWait, now: float, progress: WorkflowProgress | None
    ) -> None:
        """``progress``: the workflow's, if the caller found it in memory already."""
        self._metrics.approval_wait(approval.outcome).observe(approval.wait_seconds)
        self.metric_points.add(now)
        if progress is None:
            progress = self._progress(key[0], now)
        kept = progress.add_approval(key[1], approval)
        if kept != "kept":
            self._approvals.close(key)
        if kept == "max_steps":
            self._log_limit_once(
                "max_steps_per_workflow",
                "further approvals of a workflow count in the metrics but are not kept in its JSON",
            )

    def _drain_pairs(self, deadline: float) -> None:
        """Apply the halves whose partner is not coming (expired, or over max_pending_pairs)."""
        if self._steps.open_count or self._approvals.open_count:
            self._drain_halves(deadline)

    def _drain_halves(self, deadline: float) -> None:
        starts, ends = self._steps.drain(deadline)
        self._out_of_order("step_started", len(starts))
        for key, end in ends:
            self._out_of_order("step_finished")
            ended = end.payload
            agent = ended.agent or UNKNOWN
            self._complete_step(
                key,
                agent,
                None,
                ended.success,
                ended.error_type,
                now=end.first_seen,
                trace_id=ended.trace_id,
            )
        requests, resolutions = self._approvals.drain(deadline)
        self._out_of_order("approval_requested", len(requests))
        if requests:
            self._metrics.approvals_pending.dec(len(requests))
        self._out_of_order("approval_resolved", len(resolutions))
        seen = _first_seen(starts, ends, requests, resolutions)
        if any(first_seen <= deadline for first_seen in seen):
            self._log_limit_once(
                "workflow_ttl",
                "step or approval events whose partner never came were applied without a "
                "duration (autobot_exporter_events_out_of_order_total)",
            )
        if any(first_seen > deadline for first_seen in seen):
            self._log_limit_once(
                "max_pending_pairs",
                "the oldest step or approval events waiting for their partner were applied "
                "without it (autobot_exporter_events_out_of_order_total)",
            )

    # ---- finishing ----------------------------------------------------------------------

    def _evict(self, record: ActiveWorkflow, now: float, reason: ExpiryReason) -> None:
        """Finish a record the exporter gives up on (workflow_ttl or capacity)."""
        if record.early_finish is not None:
            self._finish(record, *record.early_finish)
        elif record.started:
            self._self.workflows_expired(reason).inc()
            self._finish(record, now, ABANDONED)
        else:
            # Only step, approval or sample events came: it never counted as a workflow.
            del self._active[record.workflow_id]
            record.progress.release()

    def _finish(
        self, record: ActiveWorkflow, end_ts: float, status: str, trace_id: str | None = None
    ) -> None:
        del self._active[record.workflow_id]
        if record.started:
            self._metrics.workflows_active(record.complexity_label).dec()
        else:
            # Its finish came but its start never did: counted as started now, so that
            # started - finished - active stays zero.
            self._out_of_order("workflow_finished")
            self._metrics.workflows_started(record.complexity_label).inc()
        self._metrics.workflows_finished(record.complexity_label, status).inc()
        self.metric_points.add_many(self._clock(), 2)
        duration = None
        if record.start_ts is not None:
            duration = max(0.0, end_ts - record.start_ts)
            self._metrics.workflow_duration(record.complexity_label, status).observe(
                duration, exemplar(record.workflow_id, trace_id), self._clock()
            )
            if self._resource_usage is not None:
                record.progress.sampled_usage = self._resource_usage(record.start_ts, end_ts)
        self._remember(
            FinishedWorkflow(
                workflow_id=record.workflow_id,
                user_message=record.user_message,
                complexity=record.complexity,
                total_steps=record.total_steps,
                agents_involved=record.agents_involved,
                start_ts=record.start_ts,
                end_ts=end_ts,
                duration_seconds=duration,
                status=status,
                progress=record.progress,
            )
        )

    def _remember(self, finished: FinishedWorkflow) -> None:
        if self._history.add(finished):
            self._self.history_evicted.inc()
            self._log_limit_once(
                "max_history",
                "the oldest finished workflows leave the JSON API "
                "(autobot_exporter_history_evicted_total)",
            )


def _first_seen(*drained: list[tuple[Key, Half[Any]]]) -> list[float]:
    """When the exporter first heard of each drained half."""
    return [half.first_seen for halves in drained for _, half in halves]
