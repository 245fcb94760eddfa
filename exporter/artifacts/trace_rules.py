"""The recording and alert rules of the span metrics: error ratio and p95 latency of the
requests each service serves (its SERVER spans), and the intake's own trouble."""

from __future__ import annotations

from exporter.artifacts.promql import BY_INSTANCE, HOST, RATE_WINDOW, Alert, Recording, Selectors
from exporter.config import Config
from exporter.units import percent_text

BY_SERVICE = f"{BY_INSTANCE}, service_name"
CALLS = "traces_span_metrics_calls_total"
DURATION_BUCKETS = "traces_span_metrics_duration_milliseconds_bucket"
SERVER = 'span_kind="SPAN_KIND_SERVER"'
ERROR_RATIO = "autobot:service_errors:ratio_rate5m"
LATENCY_P95 = "autobot:service_duration_milliseconds:p95_rate5m"


def trace_recording_rules(config: Config) -> list[Recording]:
    s = Selectors(config.rules.selector)
    served = f"sum by ({BY_SERVICE}) (rate({s(CALLS, SERVER)}[{RATE_WINDOW}]))"
    failed = s(CALLS, f'{SERVER}, status_code="STATUS_CODE_ERROR"')
    buckets = f"sum by ({BY_SERVICE}, le) (rate({s(DURATION_BUCKETS, SERVER)}[{RATE_WINDOW}]))"
    return [
        Recording(ERROR_RATIO, f"sum by ({BY_SERVICE}) (rate({failed}[{RATE_WINDOW}])) / {served}"),
        Recording(LATENCY_P95, f"histogram_quantile(0.95, {buckets})"),
    ]


def trace_alerts(config: Config) -> list[Alert]:
    rules = config.rules
    s = Selectors(rules.selector)
    latency_ms = rules.service_latency_p95 * 1000
    overflow = s(CALLS, 'otel_metric_overflow="true"')
    return [
        Alert(
            "AutoBotServiceErrorRatioHigh",
            f"{ERROR_RATIO}{{{rules.selector}}} > {rules.service_error_ratio:g}",
            600,
            "Two rate windows: a burst of 5xx during a deploy is not an incident.",
            "warning",
            "AutoBot service {{ $labels.service_name }} failing requests",
            "{{ $value | humanizePercentage }} of the requests {{ $labels.service_name }} "
            "serves end in error (server spans with status ERROR, seen by the exporter on "
            f"{HOST}; threshold {percent_text(rules.service_error_ratio)}%).",
        ),
        Alert(
            "AutoBotServiceLatencyHigh",
            f"{LATENCY_P95}{{{rules.selector}}} > {latency_ms:g}",
            600,
            "Two rate windows; one slow LLM answer does not move a p95 for ten minutes.",
            "warning",
            "AutoBot service {{ $labels.service_name }} slow",
            "95 % of the requests {{ $labels.service_name }} serves take up to "
            f"{{{{ $value | humanize }}}} ms (seen by the exporter on {HOST}; "
            f"threshold {latency_ms:g} ms).",
        ),
        Alert(
            "AutoBotSpanSeriesOverflowing",
            f"sum by ({BY_INSTANCE}) (increase({overflow}[30m])) > 0",
            300,
            "The overflow already happened; this only avoids flapping at the edge.",
            "warning",
            "AutoBot span metrics at otlp.max_series_per_family",
            f"The exporter on {HOST} counts new span label sets in the "
            'otel_metric_overflow="true" series: span names or attributes carry ids, or '
            "the cap is too low for this fleet.",
        ),
        Alert(
            "AutoBotTracesRejected",
            f"sum by ({BY_INSTANCE}, reason) "
            f"(rate({s('autobot_exporter_otlp_requests_rejected_total')}[{RATE_WINDOW}])) > 0",
            600,
            "A misconfigured exporter in AutoBot shows at once; a single bad request not.",
            "warning",
            "AutoBot exporter refusing traces",
            f"The exporter on {HOST} refuses OTLP trace requests "
            "({{ $labels.reason }}, {{ $value | humanize }}/s): span metrics are incomplete.",
        ),
    ]
