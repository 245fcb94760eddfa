"""The trace id of the span current in AutoBot's process, when OpenTelemetry runs there.

OpenTelemetry is not a dependency of the client: without its API, with no current span,
or with a span its sampler dropped (AutoBot keeps 10 % of traces by default), events carry
no trace id, so an exemplar never points at a trace that was not exported."""

from __future__ import annotations

try:
    from opentelemetry import trace
except ImportError:  # OpenTelemetry is optional in AutoBot's process
    trace = None  # type: ignore[assignment]


def current_trace_id() -> str | None:
    """The current span's trace id as 32 hex digits, when it is valid and sampled."""
    if trace is None:
        return None
    context = trace.get_current_span().get_span_context()
    if not context.is_valid or not context.trace_flags.sampled:
        return None
    return format(context.trace_id, "032x")
