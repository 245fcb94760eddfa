"""Span metrics: one bounded set of series per configured family, built at scrape time.

As the spanmetrics connector does, a family holds at most ``otlp.max_series_per_family``
label sets; a span of a new label set past that counts in the family's one overflow
series, labelled only ``otel_metric_overflow="true"``. A series no span has touched for
``otlp.series_expiry`` is dropped. Label values are cut to ``otlp.max_label_value_length``
characters, control characters in them replaced. Together these keep memory flat whatever
names a flood of spans carries.

Every span counts ``1 / otlp.sampling_ratio`` times, so that counts estimate the traffic
AutoBot's sampler saw. Histogram buckets keep the newest span of each bucket as an
exemplar (``trace_id``, ``span_id``), exposed on an OpenMetrics scrape.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily, Metric

from exporter.log_once import LogOnce
from exporter.traces.matching import FamilyRule
from exporter.traces.settings import OtlpConfig, SpanFamily
from exporter.traces.spans import SpanView
from exporter.workflows.families import CounterValue, HistogramValue, le_labels

log = logging.getLogger(__name__)

OVERFLOW_LABEL = "otel_metric_overflow"
CONTROL_CHARACTERS = dict.fromkeys([*range(0x20), *range(0x7F, 0xA0)], "\ufffd")
"""Replaced in label values by U+FFFD: Prometheus' OpenMetrics parser refuses a whole scrape
over one NUL, and span names and attributes are whatever the sender put there."""


class SpanSeries:
    __slots__ = ("calls", "duration", "last_seen")

    def __init__(self, counts: bool, bounds: tuple[float, ...] | None) -> None:
        self.calls = CounterValue() if counts else None
        self.duration = HistogramValue(bounds) if bounds is not None else None
        self.last_seen = 0.0


class SpanFamilyStore:
    """The series of one row of the table."""

    def __init__(self, rule: FamilyRule, config: OtlpConfig, log_once: LogOnce) -> None:
        self.rule = rule
        self._bounds = (
            tuple(float(b) for b in config.duration_buckets_ms) if rule.family.duration else None
        )
        self._le = le_labels(self._bounds or ())
        self._cap = config.max_series_per_family
        self._expiry = config.series_expiry
        self._max_length = config.max_label_value_length
        self._log_once = log_once
        self.series: dict[tuple[str, ...], SpanSeries] = {}
        self.overflow: SpanSeries | None = None

    @property
    def name(self) -> str:
        return self.rule.family.names()[0]

    def record(self, span: SpanView, weight: float, now: float) -> None:
        key = tuple(
            value[: self._max_length].translate(CONTROL_CHARACTERS)
            for value in self.rule.label_values(span)
        )
        series = self.series.get(key)
        if series is None:
            series = self._new_series(key)
        series.last_seen = now
        if series.calls is not None:
            series.calls.inc(weight)
        if series.duration is not None:
            exemplar = {"trace_id": span.trace_id, "span_id": span.span_id}
            series.duration.observe(span.duration_ms, exemplar, span.end_seconds, weight)

    def _new_series(self, key: tuple[str, ...]) -> SpanSeries:
        """The new label set's series, or the overflow series past the cap."""
        if len(self.series) < self._cap:
            series = self.series[key] = SpanSeries(self.rule.family.calls is not None, self._bounds)
            return series
        if self.overflow is None:
            self._log_once.first(
                self.name,
                "span family %s reached otlp.max_series_per_family (%d): spans of further "
                'label sets count in its otel_metric_overflow="true" series',
                self.name,
                self._cap,
            )
            self.overflow = SpanSeries(self.rule.family.calls is not None, self._bounds)
        return self.overflow

    def expire(self, now: float) -> None:
        """Drop the series idle past ``otlp.series_expiry``."""
        for key in [key for key, s in self.series.items() if now - s.last_seen > self._expiry]:
            del self.series[key]
        if self.overflow is not None and now - self.overflow.last_seen > self._expiry:
            self.overflow = None

    def _rows(self) -> list[tuple[list[str], bool, SpanSeries]]:
        """(label values, is the overflow series, series) of every series held."""
        rows = [(list(key), False, series) for key, series in list(self.series.items())]
        if self.overflow is not None:
            rows.append((["true"], True, self.overflow))
        return rows

    def collect(self) -> Iterator[Metric]:
        family = self.rule.family
        names = list(self.rule.label_names)
        rows = self._rows()
        if family.calls is not None:
            name = family.calls.removesuffix("_total")
            calls = CounterMetricFamily(name, _help("Spans", family), labels=names)
            calls_overflow = CounterMetricFamily(name, "", labels=[OVERFLOW_LABEL])
            for values, overflowed, series in rows:
                assert series.calls is not None
                (calls_overflow if overflowed else calls).add_metric(values, series.calls.value)
            calls.samples.extend(calls_overflow.samples)
            yield calls
        if family.duration is not None:
            documentation = _help("Span durations in milliseconds", family)
            durations = HistogramMetricFamily(family.duration, documentation, labels=names)
            overflow = HistogramMetricFamily(family.duration, "", labels=[OVERFLOW_LABEL])
            for values, overflowed, series in rows:
                assert series.duration is not None
                histogram = series.duration
                target = overflow if overflowed else durations
                target.add_metric(values, histogram.buckets(self._le), histogram.sum)
            durations.samples.extend(overflow.samples)
            yield durations


def _help(what: str, family: SpanFamily) -> str:
    match = family.match
    conditions = [
        f"kind {match.kind}" if match.kind else "",
        f"name {match.name}" if match.name else "",
        *(f"{key}={value}" for key, value in match.attributes.items()),
    ]
    described = ", ".join(c for c in conditions if c) or "every span"
    return f"{what} received over OTLP ({described}), each counted 1/otlp.sampling_ratio times."
