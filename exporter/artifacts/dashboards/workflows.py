"""The Workflows dashboard: throughput, success, durations with exemplars, approvals."""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard
from grafana_foundation_sdk.models.prometheus import PromQueryFormat

from exporter.artifacts.dashboards.common import (
    graph,
    heat,
    new_dashboard,
    quantile,
    rate,
    s,
    single_stat,
    target,
)
from exporter.config import Config

FINISHED = "autobot_workflows_finished_total"
DURATION = "autobot_workflow_duration_seconds"
COMPLETED = 'status="completed"'
NOT_COMPLETED = 'status!="completed"'
ABANDONED = 'status="abandoned"'


def build(config: Config) -> dashboard.Dashboard:
    del config  # no thresholds on this dashboard; the signature is shared
    success = f"sum({rate(FINISHED, COMPLETED)}) / sum({rate(FINISHED)})"
    return (
        new_dashboard(
            "AutoBot exporter / Workflows",
            "autobot-exporter-workflows",
            "AutoBot workflows: throughput, success, duration by complexity, approvals.",
        )
        .with_row(dashboard.Row("Overview"))
        .with_panel(
            single_stat(
                "Workflows started / s",
                "Workflows started per second, all complexities.",
                "ops",
                target(f"sum({rate('autobot_workflows_started_total')})"),
            )
        )
        .with_panel(
            single_stat(
                "Success ratio",
                "Completed share of the workflows that finished.",
                "percentunit",
                target(success),
            )
        )
        .with_panel(
            single_stat(
                "Active workflows",
                "Workflows started and not yet finished.",
                "short",
                target(f"sum({s('autobot_workflows_active')})"),
            )
        )
        .with_panel(
            single_stat(
                "Pending approvals",
                "Approvals requested and not yet resolved.",
                "short",
                target(f"sum({s('autobot_approvals_pending')})"),
            )
        )
        .with_row(dashboard.Row("Throughput and outcome"))
        .with_panel(
            graph(
                "Throughput by complexity",
                "Workflows started per second, by complexity.",
                "ops",
                target(
                    f"sum by (complexity) ({rate('autobot_workflows_started_total')})",
                    "{{complexity}}",
                ),
            )
        )
        .with_panel(
            graph(
                "Success ratio by complexity",
                "Completed share of finished workflows, by complexity (recording rule, 5m window).",
                "percentunit",
                target(f"{s('autobot:workflow_success:ratio_rate5m')}", "{{complexity}}"),
            )
            .min(0)
            .max(1)
        )
        .with_panel(
            graph(
                "Failures by status",
                "Workflows finishing other than completed, per second, by status.",
                "ops",
                target(f"sum by (status) ({rate(FINISHED, NOT_COMPLETED)})", "{{status}}"),
            )
        )
        .with_panel(
            graph(
                "Active and abandoned workflows",
                "Running workflows by complexity, and workflows the exporter finished as abandoned "
                "after workflow_ttl.",
                "short",
                target(
                    f"sum by (complexity) ({s('autobot_workflows_active')})",
                    "active {{complexity}}",
                ),
                target(
                    f"sum by (complexity) ({rate(FINISHED, ABANDONED, 'increase')})",
                    "abandoned {{complexity}}",
                ),
            )
        )
        .with_row(dashboard.Row("Duration"))
        .with_panel(
            graph(
                "Duration by complexity (p50 / p95 / p99)",
                "Workflow duration quantiles by complexity. The dots are exemplars: each links to "
                "the exporter's /api/metrics/workflow/{id} for that workflow.",
                "s",
                target(quantile(0.5, DURATION, "complexity"), "p50 {{complexity}}"),
                target(quantile(0.95, DURATION, "complexity"), "p95 {{complexity}}", exemplar=True),
                target(quantile(0.99, DURATION, "complexity"), "p99 {{complexity}}"),
                width=24,
            )
        )
        .with_row(dashboard.Row("Approvals"))
        .with_panel(
            heat(
                "Approval wait distribution",
                "How long approvals waited for a person, per bucket of the histogram.",
                "s",
                target(
                    f"sum by (le) ({rate('autobot_approval_wait_seconds_bucket', '', 'increase')})",
                    "{{le}}",
                    format_as=PromQueryFormat.HEATMAP,
                ),
            )
        )
        .with_panel(
            graph(
                "Approval wait p95 by outcome",
                "95th percentile of approval waits, by outcome (approved, denied, timeout).",
                "s",
                target(quantile(0.95, "autobot_approval_wait_seconds", "outcome"), "{{outcome}}"),
            )
        )
    )
