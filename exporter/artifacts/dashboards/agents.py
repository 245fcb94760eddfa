"""The Agents dashboard: step latency per agent, errors and their types, throughput."""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard
from grafana_foundation_sdk.models.prometheus import PromQueryFormat

from exporter.artifacts.dashboards.common import (
    graph,
    heat,
    listing,
    new_dashboard,
    quantile,
    rate,
    s,
    target,
)
from exporter.config import Config

STEP = "autobot_step_duration_seconds"
FAILED_STEP = 'status="failure"'


def build(config: Config) -> dashboard.Dashboard:
    del config  # no thresholds on this dashboard; the signature is shared
    error_ratio = (
        f"sum by (agent) ({rate(STEP + '_count', FAILED_STEP)})"
        f" / sum by (agent) ({rate(STEP + '_count')})"
    )
    return (
        new_dashboard(
            "AutoBot exporter / Agents",
            "autobot-exporter-agents",
            "AutoBot agents: step latency, errors and error types, throughput, slowest agents.",
        )
        .with_row(dashboard.Row("Latency"))
        .with_panel(
            heat(
                "Step latency distribution",
                "Duration of agent steps, all agents, per bucket of the histogram.",
                "s",
                target(
                    f"sum by (le) ({rate(STEP + '_bucket', '', 'increase')})",
                    "{{le}}",
                    format_as=PromQueryFormat.HEATMAP,
                ),
            )
        )
        .with_panel(
            listing(
                "Slowest agents",
                "Agents by 95th percentile step duration over the last 5 minutes (recording rule).",
                "s",
                target(
                    f"sort_desc({s('autobot:step_duration_seconds:p95_rate5m')})",
                    "{{agent}}",
                    instant=True,
                    format_as=PromQueryFormat.TABLE,
                ),
            )
        )
        .with_panel(
            graph(
                "Step latency p50 by agent",
                "Median step duration, by agent.",
                "s",
                target(quantile(0.5, STEP, "agent"), "{{agent}}"),
                width=8,
            )
        )
        .with_panel(
            graph(
                "Step latency p95 by agent",
                "95th percentile step duration, by agent; exemplars link to the workflow.",
                "s",
                target(quantile(0.95, STEP, "agent"), "{{agent}}", exemplar=True),
                width=8,
            )
        )
        .with_panel(
            graph(
                "Step latency p99 by agent",
                "99th percentile step duration, by agent.",
                "s",
                target(quantile(0.99, STEP, "agent"), "{{agent}}"),
                width=8,
            )
        )
        .with_row(dashboard.Row("Errors"))
        .with_panel(
            graph(
                "Error ratio by agent",
                "Failed share of each agent's steps.",
                "percentunit",
                target(error_ratio, "{{agent}}"),
            )
            .min(0)
            .max(1)
        )
        .with_panel(
            graph(
                "Errors by agent and type",
                "Failed steps per second, by agent and error type.",
                "ops",
                target(
                    f"sum by (agent, error_type) ({rate('autobot_step_errors_total')})",
                    "{{agent}}: {{error_type}}",
                ),
            )
        )
        .with_row(dashboard.Row("Throughput"))
        .with_panel(
            graph(
                "Step throughput by agent",
                "Steps finished per second, by agent and outcome.",
                "ops",
                target(f"sum by (agent, status) ({rate(STEP + '_count')})", "{{agent}} {{status}}"),
                width=24,
            )
        )
    )
