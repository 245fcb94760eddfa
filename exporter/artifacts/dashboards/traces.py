"""The Traces dashboard: rate, errors and duration (RED) per service and span name from the
span metrics, with exemplars that open the trace, and the OTLP intake's own health."""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard

from exporter.artifacts.dashboards.common import (
    graph,
    new_dashboard,
    query_variable,
    rate,
    s,
    target,
)
from exporter.config import Config

CALLS = "traces_span_metrics_calls_total"
DURATION = "traces_span_metrics_duration_milliseconds"
SERVICE = 'service_name=~"$service"'
ERROR = 'status_code="STATUS_CODE_ERROR"'


def _error_ratio(by: str) -> str:
    return (
        f"sum by ({by}) ({rate(CALLS, f'{SERVICE}, {ERROR}')})"
        f" / sum by ({by}) ({rate(CALLS, SERVICE)})"
    )


def _p95(by: str) -> str:
    return f"histogram_quantile(0.95, sum by (le, {by}) ({rate(DURATION + '_bucket', SERVICE)}))"


def build(config: Config) -> dashboard.Dashboard:
    del config  # no thresholds on this dashboard; the signature is shared
    return (
        new_dashboard(
            "AutoBot exporter / Traces",
            "autobot-exporter-traces",
            "Span metrics from the traces AutoBot sends to the exporter's /v1/traces: rate, "
            "errors and duration per service and span, exemplars to the trace.",
        )
        .with_variable(
            query_variable("service", "Service", f"label_values({s(CALLS)}, service_name)")
        )
        .with_row(dashboard.Row("Services"))
        .with_panel(
            graph(
                "Spans per second by service",
                "Spans per second (counted 1/otlp.sampling_ratio times each), by service.",
                "ops",
                target(f"sum by (service_name) ({rate(CALLS, SERVICE)})", "{{service_name}}"),
                width=8,
            )
        )
        .with_panel(
            graph(
                "Error ratio by service",
                "Share of spans with status ERROR, by service.",
                "percentunit",
                target(_error_ratio("service_name"), "{{service_name}}"),
                width=8,
            )
            .min(0)
            .max(1)
        )
        .with_panel(
            graph(
                "Span duration p95 by service",
                "95th percentile span duration, by service; exemplars open the trace.",
                "ms",
                target(_p95("service_name"), "{{service_name}}", exemplar=True),
                width=8,
            )
        )
        .with_row(dashboard.Row("Spans"))
        .with_panel(
            graph(
                "Busiest spans",
                "The ten span names with the most spans per second.",
                "ops",
                target(
                    f"topk(10, sum by (service_name, span_name) ({rate(CALLS, SERVICE)}))",
                    "{{service_name}} {{span_name}}",
                ),
            )
        )
        .with_panel(
            graph(
                "Span duration p95 by span",
                "95th percentile duration of each span name; exemplars open the trace.",
                "ms",
                target(_p95("service_name, span_name"), "{{span_name}}", exemplar=True),
            )
        )
        .with_panel(
            graph(
                "Error ratio by span",
                "Share of each span name's spans with status ERROR.",
                "percentunit",
                target(_error_ratio("service_name, span_name"), "{{span_name}}"),
            )
            .min(0)
            .max(1)
        )
        .with_panel(
            graph(
                "Spans per second by kind",
                "Spans per second by kind (server, client, internal) and status.",
                "ops",
                target(
                    f"sum by (span_kind, status_code) ({rate(CALLS, SERVICE)})",
                    "{{span_kind}} {{status_code}}",
                ),
            )
        )
        .with_row(dashboard.Row("Intake"))
        .with_panel(
            graph(
                "Spans received and set aside",
                "Spans per second in decoded OTLP requests, and those set aside as invalid.",
                "ops",
                target(f"sum({rate('autobot_exporter_otlp_spans_received_total')})", "received"),
                target(
                    f"sum by (reason) ({rate('autobot_exporter_otlp_spans_rejected_total')})",
                    "set aside: {{reason}}",
                ),
                width=8,
            )
        )
        .with_panel(
            graph(
                "Requests refused",
                "OTLP requests refused whole per second, by reason.",
                "reqps",
                target(
                    f"sum by (reason) ({rate('autobot_exporter_otlp_requests_rejected_total')})",
                    "{{reason}}",
                ),
                width=8,
            )
        )
        .with_panel(
            graph(
                "Series per span family",
                "Series each span-metric family holds; at otlp.max_series_per_family new label "
                'sets go to the family\'s otel_metric_overflow="true" series.',
                "short",
                target(f"max by (family) ({s('autobot_exporter_otlp_series')})", "{{family}}"),
                width=8,
            )
        )
    )
