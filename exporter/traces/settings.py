"""The ``otlp`` section of the config: the span-metric families as a table, their bounds
and the sampling ratio. docs/traces.md explains each key; the defaults map the spans
AutoBot emits onto the names its "Distributed Tracing" dashboard queries."""

from __future__ import annotations

import re
from typing import Annotated, Literal

import msgspec

from exporter.config_types import BucketList, ConfigError, DurationSeconds, Ratio, Section

SpanKind = Literal[
    "SPAN_KIND_UNSPECIFIED",
    "SPAN_KIND_INTERNAL",
    "SPAN_KIND_SERVER",
    "SPAN_KIND_CLIENT",
    "SPAN_KIND_PRODUCER",
    "SPAN_KIND_CONSUMER",
]
ANY_VALUE = "*"
"""In ``match.attributes``: the attribute must be present, whatever its value."""
SPAN_SOURCES = ("span.name", "span.name.first_word", "span.kind", "span.status_code")
PEER_SERVICE_SOURCE = "derived.peer_service"
"""``peer.service``, else the host of ``http.url`` (or ``net.peer.name``) through
``otlp.peer_services``, else that host itself."""
ATTRIBUTE_PREFIX = "attribute."
RESOURCE_PREFIX = "resource."
METRIC_NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
RESERVED_LABELS = frozenset({"le", "otel_metric_overflow"})

SPANMETRICS_BUCKETS_MS = (
    2,
    4,
    6,
    8,
    10,
    50,
    100,
    200,
    400,
    800,
    1000,
    1400,
    2000,
    5000,
    10000,
    15000,
)
"""The OpenTelemetry Collector spanmetrics connector's default histogram buckets."""

AUTOBOT_PEER_SERVICES = {
    "172.16.168.20": "autobot-backend",
    "172.16.168.21": "autobot-frontend",
    "172.16.168.22": "autobot-npu-worker",
    "172.16.168.23": "autobot-redis",
    "172.16.168.24": "autobot-ai-stack",
    "172.16.168.25": "autobot-browser",
}
"""AutoBot's documented VM addresses, for its aiohttp client spans (which carry only
``http.url``)."""


class SpanMatch(Section, frozen=True):
    """Which spans a family counts; every condition given must hold (none: every span)."""

    kind: SpanKind | None = None
    name: str | None = None
    attributes: dict[str, str] = msgspec.field(default_factory=dict)
    """Attribute key -> the value it must have as text, or "*" for present."""


class SpanFamily(Section, frozen=True):
    """One row of the table: spans that match give a counter, a histogram in milliseconds,
    or both, labelled from the sources named in ``labels``."""

    match: SpanMatch = msgspec.field(default_factory=SpanMatch)
    calls: str | None = None
    """Counter name, ending in ``_total``."""
    duration: str | None = None
    """Histogram name (in milliseconds, with ``otlp.duration_buckets_ms``)."""
    labels: dict[str, str] = msgspec.field(default_factory=dict)
    """Label name -> source: ``attribute.<key>`` (the span's attribute, else the
    resource's), ``resource.<key>``, ``span.name``, ``span.name.first_word``,
    ``span.kind``, ``span.status_code`` or ``derived.peer_service``; "" when absent."""

    def names(self) -> list[str]:
        return [name for name in (self.calls, self.duration) if name]

    def check(self, where: str) -> None:
        if not self.names():
            raise ConfigError(f"{where}: needs calls, duration or both")
        if self.calls is not None and not self.calls.endswith("_total"):
            raise ConfigError(f"{where}.calls: a counter name ends in _total, got {self.calls!r}")
        for name in self.names():
            if not METRIC_NAME.match(name):
                raise ConfigError(f"{where}: {name!r} is not a metric name")
        for label, source in self.labels.items():
            if not LABEL_NAME.match(label) or label in RESERVED_LABELS or label.startswith("__"):
                raise ConfigError(f"{where}.labels: {label!r} is not a usable label name")
            if not _known_source(source):
                raise ConfigError(f"{where}.labels.{label}: unknown source {source!r}")


def _known_source(source: str) -> bool:
    if source in SPAN_SOURCES or source == PEER_SERVICE_SOURCE:
        return True
    prefix = next((p for p in (ATTRIBUTE_PREFIX, RESOURCE_PREFIX) if source.startswith(p)), None)
    return prefix is not None and len(source) > len(prefix)


SERVICE_NAME = "resource.service.name"
SPANMETRICS = SpanFamily(
    calls="traces_span_metrics_calls_total",
    duration="traces_span_metrics_duration_milliseconds",
    labels={
        "service_name": SERVICE_NAME,
        "span_name": "span.name",
        "span_kind": "span.kind",
        "status_code": "span.status_code",
    },
)
"""The spanmetrics connector's own families; ``otlp.dimensions`` adds labels to them."""

AUTOBOT_FAMILIES = (
    SpanFamily(
        match=SpanMatch(kind="SPAN_KIND_SERVER", attributes={"http.method": ANY_VALUE}),
        calls="http_server_request_count_total",
        duration="http_server_duration_milliseconds",
        labels={
            "service_name": SERVICE_NAME,
            "http_method": "attribute.http.method",
            "http_route": "attribute.http.route",
            "http_status_code": "attribute.http.status_code",
        },
    ),
    SpanFamily(
        match=SpanMatch(name="llm.inference"),
        calls="llm_inference_total",
        duration="llm_inference_duration_milliseconds",
        labels={"llm_provider": "attribute.llm.provider", "llm_model": "attribute.llm.model"},
    ),
    SpanFamily(
        match=SpanMatch(attributes={"db.system": "redis"}),
        calls="redis_command_total",
        duration="redis_command_duration_milliseconds",
        labels={"redis_command": "span.name.first_word"},
    ),
    SpanFamily(
        match=SpanMatch(kind="SPAN_KIND_CLIENT", attributes={"http.method": ANY_VALUE}),
        duration="http_client_duration_milliseconds",
        labels={"peer_service": PEER_SERVICE_SOURCE},
    ),
    SpanFamily(
        match=SpanMatch(name="ssh.distribute_certificates"),
        calls="ssh_operations_total",
        labels={
            "ssh_target_vm": "attribute.ssh.target_vm",
            "pki_operation": "attribute.pki.operation",
        },
    ),
    SpanFamily(calls="spans_created_total", labels={"service_name": SERVICE_NAME}),
)
"""AutoBot's span shapes onto the names its tracing dashboard queries."""


class OtlpConfig(Section, frozen=True):
    enabled: bool = True
    """Serve ``POST /v1/traces``; false: 404 and no span families."""
    max_series_per_family: Annotated[int, msgspec.Meta(ge=1, le=1_000_000)] = 10_000
    """Series each span-metric family holds; spans of further label sets go to its
    ``otel_metric_overflow="true"`` series."""
    max_label_value_length: Annotated[int, msgspec.Meta(ge=32, le=4096)] = 128
    """Characters kept of a span-metric label value (a span name, a route, ...)."""
    series_expiry: DurationSeconds = DurationSeconds(1800.0)
    """A series no span has updated for this long is dropped."""
    sampling_ratio: Ratio = 1.0
    """The share of traces AutoBot sends (its AUTOBOT_OTEL_SAMPLE_RATE): each span counts
    1 / sampling_ratio, so counts are estimates unless it is 1."""
    duration_buckets_ms: BucketList = msgspec.field(default=SPANMETRICS_BUCKETS_MS)
    dimensions: Annotated[tuple[str, ...], msgspec.Meta(max_length=16)] = ()
    """Span (else resource) attribute keys added as labels to the traces_span_metrics_*
    families (dots become underscores), as the connector's ``dimensions``."""
    peer_services: dict[str, str] = msgspec.field(
        default_factory=lambda: dict(AUTOBOT_PEER_SERVICES)
    )
    """Host (or host:port) -> service name, for client spans without ``peer.service``."""
    families: Annotated[tuple[SpanFamily, ...], msgspec.Meta(max_length=64)] = AUTOBOT_FAMILIES

    def __post_init__(self) -> None:
        seen: set[str] = set()
        for index, family in enumerate(self.all_families()):
            where = "dimensions" if index == 0 else f"families[{index - 1}]"
            family.check(where)
            for name in family.names():
                if name in seen:
                    raise ConfigError(f"{where}: {name!r} is already a family")
                seen.add(name)

    def all_families(self) -> tuple[SpanFamily, ...]:
        """The connector's families with the configured dimensions, then the table."""
        dimensions = {
            re.sub(r"[^a-zA-Z0-9_]", "_", key): f"{ATTRIBUTE_PREFIX}{key}"
            for key in self.dimensions
        }
        spanmetrics = msgspec.structs.replace(
            SPANMETRICS, labels={**SPANMETRICS.labels, **dimensions}
        )
        return (spanmetrics, *self.families)
