"""Every workflow and self-metric family: names, help texts, label names and buckets live here."""

from __future__ import annotations

import platform
from collections.abc import Iterable
from typing import Generic, Literal, TypeVar, get_args

from prometheus_client import CollectorRegistry, Gauge, disable_created_metrics
from prometheus_client.gc_collector import GCCollector
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector

from exporter import __version__
from exporter.config import BucketsConfig
from exporter.workflows.events import EVENT_TYPES, WorkflowStatus
from exporter.workflows.families import (
    CounterFamily,
    CounterValue,
    Family,
    GaugeFamily,
    GaugeValue,
    HistogramFamily,
    HistogramValue,
)

# The _created series double every counter's series count and no dashboard or rule uses them.
disable_created_metrics()

EXEMPLAR_LABEL = "workflow_id"
TRACE_ID_LABEL = "trace_id"
EXEMPLAR_BUDGET = 128
"""OpenMetrics: an exemplar's label names and values together, in characters."""


def exemplar(workflow_id: str, trace_id: str | None) -> dict[str, str]:
    """The workflow id, and the trace id when the event carried one; a workflow id too
    long to fit beside the trace id within the budget gives way to it (the trace leads
    to the workflow, the other way round it would not)."""
    if trace_id is None:
        return {EXEMPLAR_LABEL: workflow_id}
    both = {TRACE_ID_LABEL: trace_id, EXEMPLAR_LABEL: workflow_id}
    if sum(len(name) + len(value) for name, value in both.items()) > EXEMPLAR_BUDGET:
        return {TRACE_ID_LABEL: trace_id}
    return both


ValueT = TypeVar("ValueT", CounterValue, GaugeValue, HistogramValue)

ABANDONED = "abandoned"
FINISH_STATUSES = (*get_args(WorkflowStatus), ABANDONED)
StepStatus = Literal["success", "failure"]
RejectReason = Literal[
    "invalid",
    "malformed",
    "too_large",
    "unsupported_media_type",
    "unauthorized",
    "too_many_requests",
    "read_timeout",
    "client_disconnected",
]
ExpiryReason = Literal["ttl", "capacity"]
DetailKind = Literal["step", "approval", "resource_key", "agent"]
DroppedConnection = Literal["unproven", "new"]
"""Which connection web.max_connections closed: the oldest that had not sent a request, or
the new one."""


class Children(Generic[ValueT]):
    """A labelled family whose series of values known in advance exist at 0.

    client_python's advice for labelled metrics, because ``rate()`` cannot see the
    increment of a series that first appears at 1: ``known`` lists the values of a
    one-label family, created now; ``per_row`` lists the values of the last label, created
    with the first child of each new combination of the other labels (a new complexity
    gets every status at once). Label values reaching here are already bounded (enums or
    LabelValueLimiter), so the children are too. Values are positional, in the order of
    the family's label names.
    """

    def __init__(
        self, metric: Family[ValueT], *, known: Iterable[str] = (), per_row: Iterable[str] = ()
    ) -> None:
        self.metric: Family[ValueT] = metric
        self._children: dict[tuple[str, ...], ValueT] = metric.children
        self._per_row = tuple(per_row)
        self._rows: set[tuple[str, ...]] = set()
        for value in known:
            self(value)

    def __call__(self, *values: str) -> ValueT:
        child = self._children.get(values)
        if child is None:
            self.open_row(*values[:-1])
            child = self.metric.labels(*values)
        return child

    def open_row(self, *row: str) -> None:
        """Create the ``per_row`` children of this combination of the other labels; called
        when a workflow or step starts, so they exist at 0 before the first increment."""
        if self._per_row and row not in self._rows:
            self._rows.add(row)
            for value in self._per_row:
                self.metric.labels(*row, value)


class WorkflowMetrics:
    """The metric objects the tracker updates, registered in one registry."""

    def __init__(self, registry: CollectorRegistry, buckets: BucketsConfig) -> None:
        self.workflows_started = Children(
            CounterFamily(
                "autobot_workflows_started",
                "Workflows started, by complexity.",
                ["complexity"],
                registry=registry,
            )
        )
        self.workflows_finished = Children(
            CounterFamily(
                "autobot_workflows_finished",
                "Workflows finished, by complexity and final status "
                "(completed, failed, cancelled, timeout, abandoned).",
                ["complexity", "status"],
                registry=registry,
            ),
            per_row=FINISH_STATUSES,
        )
        self.workflow_duration = Children(
            HistogramFamily(
                "autobot_workflow_duration_seconds",
                "Wall time from workflow start to finish; exemplars carry the workflow_id.",
                ["complexity", "status"],
                buckets=buckets.workflow_duration_seconds,
                registry=registry,
            )
        )
        self.workflows_active = Children(
            GaugeFamily(
                "autobot_workflows_active",
                "Workflows started and not yet finished or expired.",
                ["complexity"],
                registry=registry,
            )
        )
        self.step_duration = Children(
            HistogramFamily(
                "autobot_step_duration_seconds",
                "Duration of one agent step; exemplars carry the workflow_id.",
                ["agent", "status"],
                buckets=buckets.step_duration_seconds,
                registry=registry,
            ),
            per_row=get_args(StepStatus),
        )
        self.step_errors = Children(
            CounterFamily(
                "autobot_step_errors",
                "Failed agent steps, by agent and error type.",
                ["agent", "error_type"],
                registry=registry,
            )
        )
        self.approval_wait = Children(
            HistogramFamily(
                "autobot_approval_wait_seconds",
                "Time an approval waited for a person, by outcome (approved, denied, timeout).",
                ["outcome"],
                buckets=buckets.approval_wait_seconds,
                registry=registry,
            )
        )
        self.approvals_pending = GaugeFamily(
            "autobot_approvals_pending",
            "Approvals requested and not yet resolved.",
            registry=registry,
        ).labels()


def _counter_by(
    registry: CollectorRegistry,
    name: str,
    documentation: str,
    label: str,
    known: Iterable[str] = (),
) -> Children[CounterValue]:
    """A counter with one label, its ``known`` values created at 0."""
    return Children(CounterFamily(name, documentation, [label], registry=registry), known=known)


class SelfMetrics:
    """How the exporter itself is doing: ingest, limits, build."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.events = _counter_by(
            registry,
            "autobot_exporter_events",
            "Events accepted and applied, by type.",
            "type",
            known=EVENT_TYPES,
        )
        self.events_rejected = _counter_by(
            registry,
            "autobot_exporter_events_rejected",
            "Events not applied, by reason (invalid: failed schema validation; malformed, "
            "too_large, unsupported_media_type, unauthorized, too_many_requests, read_timeout, "
            "client_disconnected: whole request refused, counted once per request).",
            "reason",
            known=get_args(RejectReason),
        )
        self.events_duplicate = CounterFamily(
            "autobot_exporter_events_duplicate",
            "Events ignored because their event_id was already seen.",
            registry=registry,
        ).labels()
        self.events_out_of_order = _counter_by(
            registry,
            "autobot_exporter_events_out_of_order",
            "Events that could not be fully applied: a repeated workflow start or finish, a "
            "repeat of a step or approval half still waiting for its partner, or a half whose "
            "partner never came within workflow_ttl (a step end is then counted without its "
            "duration).",
            "type",
            known=EVENT_TYPES,
        )
        self.label_overflow = _counter_by(
            registry,
            "autobot_exporter_label_overflow",
            "Label values exported as 'other' because the label reached max_label_values.",
            "label",
        )
        self.workflows_expired = _counter_by(
            registry,
            "autobot_exporter_workflows_expired",
            "Workflows finished as 'abandoned' by the exporter, by reason "
            "(ttl: no finish within workflow_ttl; capacity: max_active_workflows reached).",
            "reason",
            known=get_args(ExpiryReason),
        )
        self.history_evicted = CounterFamily(
            "autobot_exporter_history_evicted",
            "Finished workflows dropped from the JSON history because max_history was reached.",
            registry=registry,
        ).labels()
        self.workflows_tracked = Gauge(
            "autobot_exporter_workflows_tracked",
            "Workflows held in memory, by state (active: running or waiting for its start; "
            "history: finished, kept for the JSON API).",
            ["state"],
            registry=registry,
        )
        self.details_kept = Gauge(
            "autobot_exporter_details_kept",
            "Steps, approvals, resource keys and agent names kept for the JSON API, across "
            "every workflow held; bounded by max_kept_details.",
            registry=registry,
        )
        self.details_dropped = _counter_by(
            registry,
            "autobot_exporter_details_dropped",
            "Details not kept for the JSON API (max_kept_details or max_steps_per_workflow "
            "reached); they still count in the metrics.",
            "kind",
            known=get_args(DetailKind),
        )
        self.scrapes_refused = CounterFamily(
            "autobot_exporter_scrapes_refused",
            "GET /metrics answered 503 because web.max_requests renders were in progress.",
            registry=registry,
        ).labels()
        self.open_connections = Gauge(
            "autobot_exporter_open_connections",
            "HTTP connections open; bounded by web.max_connections.",
            registry=registry,
        )
        self.connections_dropped = _counter_by(
            registry,
            "autobot_exporter_connections_dropped",
            "Connections closed because web.max_connections were open, by which (unproven: "
            "the oldest one that had not sent a request yet; new: the new one, every open "
            "one having sent a request).",
            "connection",
            known=get_args(DroppedConnection),
        )
        self.unmatched_events = Gauge(
            "autobot_exporter_unmatched_events",
            "Step and approval events waiting for their partner (start or end); bounded by "
            "max_pending_pairs and workflow_ttl.",
            registry=registry,
        )
        build_info = Gauge(
            "autobot_exporter_build_info",
            "Build information; the value is always 1.",
            ["version", "python_version"],
            registry=registry,
        )
        build_info.labels(version=__version__, python_version=platform.python_version()).set(1)


def new_registry() -> CollectorRegistry:
    """A registry with the exporter's own process, platform and GC metrics, as client_python
    registers them by default."""
    registry = CollectorRegistry(auto_describe=True)
    ProcessCollector(registry=registry)
    PlatformCollector(registry=registry)
    GCCollector(registry=registry)
    return registry
