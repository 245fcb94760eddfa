"""Every workflow and self-metric family: names, help texts, label names and buckets live here."""

from __future__ import annotations

import platform
from typing import Generic, TypeVar

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
)
from prometheus_client.gc_collector import GCCollector
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector

from exporter import __version__
from exporter.config import BucketsConfig

# The _created series double every counter's series count and no dashboard or rule uses them.
disable_created_metrics()

EXEMPLAR_LABEL = "workflow_id"

MetricT = TypeVar("MetricT", Counter, Gauge, Histogram)


class Children(Generic[MetricT]):
    """A labelled metric whose children are memoised by label values.

    prometheus_client's ``labels()`` validates and sorts its arguments on every call; that
    was the largest cost of ingest. Label values reaching here are already bounded (enums
    or LabelValueLimiter), so the memo is bounded too. Values are positional, in the
    order of the metric's label names.
    """

    def __init__(self, metric: MetricT) -> None:
        self.metric: MetricT = metric
        self._children: dict[tuple[str, ...], MetricT] = {}

    def __call__(self, *values: str) -> MetricT:
        child = self._children.get(values)
        if child is None:
            child = self._children[values] = self.metric.labels(*values)
        return child


class WorkflowMetrics:
    """The metric objects the tracker updates, registered in one registry."""

    def __init__(self, registry: CollectorRegistry, buckets: BucketsConfig) -> None:
        self.workflows_started = Children(
            Counter(
                "autobot_workflows_started",
                "Workflows started, by complexity.",
                ["complexity"],
                registry=registry,
            )
        )
        self.workflows_finished = Children(
            Counter(
                "autobot_workflows_finished",
                "Workflows finished, by complexity and final status "
                "(completed, failed, cancelled, timeout, abandoned).",
                ["complexity", "status"],
                registry=registry,
            )
        )
        self.workflow_duration = Children(
            Histogram(
                "autobot_workflow_duration_seconds",
                "Wall time from workflow start to finish; exemplars carry the workflow_id.",
                ["complexity", "status"],
                buckets=buckets.workflow_duration_seconds,
                registry=registry,
            )
        )
        self.workflows_active = Children(
            Gauge(
                "autobot_workflows_active",
                "Workflows started and not yet finished or expired.",
                ["complexity"],
                registry=registry,
            )
        )
        self.step_duration = Children(
            Histogram(
                "autobot_step_duration_seconds",
                "Duration of one agent step; exemplars carry the workflow_id.",
                ["agent", "status"],
                buckets=buckets.step_duration_seconds,
                registry=registry,
            )
        )
        self.step_errors = Children(
            Counter(
                "autobot_step_errors",
                "Failed agent steps, by agent and error type.",
                ["agent", "error_type"],
                registry=registry,
            )
        )
        self.approval_wait = Children(
            Histogram(
                "autobot_approval_wait_seconds",
                "Time an approval waited for a person, by outcome (approved, denied, timeout).",
                ["outcome"],
                buckets=buckets.approval_wait_seconds,
                registry=registry,
            )
        )
        self.approvals_pending = Gauge(
            "autobot_approvals_pending",
            "Approvals requested and not yet resolved.",
            registry=registry,
        )


class SelfMetrics:
    """How the exporter itself is doing: ingest, limits, build."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.events = Children(
            Counter(
                "autobot_exporter_events",
                "Events accepted and applied, by type.",
                ["type"],
                registry=registry,
            )
        )
        self.events_rejected = Children(
            Counter(
                "autobot_exporter_events_rejected",
                "Events not applied, by reason (invalid: failed schema validation; malformed, "
                "too_large, unsupported_media_type, unauthorized: whole request refused, "
                "counted once per request).",
                ["reason"],
                registry=registry,
            )
        )
        self.events_duplicate = Counter(
            "autobot_exporter_events_duplicate",
            "Events ignored because their event_id was already seen.",
            registry=registry,
        )
        self.events_out_of_order = Children(
            Counter(
                "autobot_exporter_events_out_of_order",
                "Events that could not be fully applied: a repeated workflow start or finish, a "
                "repeat of a step or approval half still waiting for its partner, or a half whose "
                "partner never came within workflow_ttl (a step end is then counted without its "
                "duration).",
                ["type"],
                registry=registry,
            )
        )
        self.label_overflow = Children(
            Counter(
                "autobot_exporter_label_overflow",
                "Label values exported as 'other' because the label reached max_label_values.",
                ["label"],
                registry=registry,
            )
        )
        self.workflows_expired = Children(
            Counter(
                "autobot_exporter_workflows_expired",
                "Workflows finished as 'abandoned' by the exporter, by reason "
                "(ttl: no finish within workflow_ttl; capacity: max_active_workflows reached).",
                ["reason"],
                registry=registry,
            )
        )
        self.history_evicted = Counter(
            "autobot_exporter_history_evicted",
            "Finished workflows dropped from the JSON history because max_history was reached.",
            registry=registry,
        )
        self.workflows_tracked = Children(
            Gauge(
                "autobot_exporter_workflows_tracked",
                "Workflows held in memory, by state (active: running or waiting for its start; "
                "history: finished, kept for the JSON API).",
                ["state"],
                registry=registry,
            )
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
