"""Every configured span family and the OTLP self-metrics, as one collector.

Spans are recorded and idle series dropped by the event loop alone; a scrape, in a worker
thread, reads a copy of each family's series, as the workflow families are read
(workflows/families.py).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator
from typing import get_args

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector, CollectorRegistry

from exporter.log_once import LogOnce
from exporter.traces.matching import FamilyRule
from exporter.traces.settings import OtlpConfig
from exporter.traces.span_metrics import SpanFamilyStore
from exporter.traces.spans import SpanView
from exporter.workflows.families import CounterFamily
from exporter.workflows.metrics import RejectReason

log = logging.getLogger(__name__)

REQUEST_REJECT_REASONS = tuple(r for r in get_args(RejectReason) if r != "invalid")
"""The events API's reasons a request is refused whole (``invalid`` is per event)."""


class SpanStore(Collector):
    def __init__(
        self,
        config: OtlpConfig,
        registry: CollectorRegistry,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._clock = clock
        self._weight = 1.0 / config.sampling_ratio
        log_once = LogOnce(log)
        self.families = [
            SpanFamilyStore(FamilyRule(family, config.peer_services), config, log_once)
            for family in config.all_families()
        ]
        self.spans_received = CounterFamily(
            "autobot_exporter_otlp_spans_received",
            "Spans in the OTLP requests decoded, accepted or not.",
            registry=registry,
        ).labels()
        self.spans_rejected = CounterFamily(
            "autobot_exporter_otlp_spans_rejected",
            "Spans set aside (reported as OTLP partial success), by reason: invalid (ids of "
            "the wrong size, an end before the start).",
            ["reason"],
            registry=registry,
        )
        self.spans_rejected.labels("invalid")
        self.requests_rejected = CounterFamily(
            "autobot_exporter_otlp_requests_rejected",
            "OTLP requests refused whole, by reason (as autobot_exporter_events_rejected_total).",
            ["reason"],
            registry=registry,
        )
        for reason in REQUEST_REJECT_REASONS:
            self.requests_rejected.labels(reason)
        registry.register(self)

    def record(self, spans: Iterable[SpanView]) -> None:
        now = self._clock()
        weight = self._weight
        for span in spans:
            for store in self.families:
                if store.rule.matches(span):
                    store.record(span, weight, now)

    def expire(self) -> None:
        """Drop the series idle past otlp.series_expiry (on the event loop)."""
        now = self._clock()
        for store in self.families:
            store.expire(now)

    def describe(self) -> list[Metric]:
        return []

    def collect(self) -> Iterator[Metric]:
        held = GaugeMetricFamily(
            "autobot_exporter_otlp_series",
            "Series each span-metric family holds (otlp.max_series_per_family at most, "
            "besides its overflow series).",
            labels=["family"],
        )
        for store in self.families:
            held.add_metric([store.name], len(store.series))
            yield from store.collect()
        yield held
