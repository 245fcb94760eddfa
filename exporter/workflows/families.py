"""Labelled counters, gauges and histograms for one writer: the event loop.

client_python's metric objects take a lock on every increment and validate every exemplar
(together about 40 % of applying an event). Here every value is written by the event loop
alone, so a child is a few plain attributes; the scrape, in a worker thread, reads them
through ``collect()`` like any client_python collector and gets standard families (so the
registry, the encoders and ``get_sample_value`` see no difference).

Reading while the loop writes: a counter or gauge is one float, read whole. A histogram
keeps per-bucket counts in a list copied in one step, and its ``_count`` is the sum of
that copy, so ``_count`` always equals the ``+Inf`` bucket; ``_sum`` may lag or lead by the
observation in progress, as Prometheus' own client libraries allow.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterator, Sequence
from typing import Any, Generic, TypeVar

from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import CollectorRegistry
from prometheus_client.samples import Exemplar
from prometheus_client.utils import floatToGoString

INF = float("inf")


class CounterValue:
    __slots__ = ("value",)

    def __init__(self) -> None:
        self.value = 0.0

    def inc(self, amount: float = 1.0) -> None:
        self.value += amount


class GaugeValue(CounterValue):
    __slots__ = ()

    def dec(self, amount: float = 1.0) -> None:
        self.value -= amount


class HistogramValue:
    __slots__ = ("bounds", "counts", "exemplars", "sum")

    def __init__(self, bounds: tuple[float, ...]) -> None:
        self.bounds = bounds
        """Upper bounds, ascending, without +Inf (its count is the last slot)."""
        self.counts: list[float] = [0] * (len(bounds) + 1)
        self.sum = 0.0
        self.exemplars: list[tuple[dict[str, str], float, float] | None] = [None] * (
            len(bounds) + 1
        )
        """Per bucket, the newest (labels, value, timestamp); an Exemplar only when scraped."""

    def observe(
        self,
        value: float,
        exemplar: dict[str, str] | None = None,
        timestamp: float = 0.0,
        weight: float = 1.0,
    ) -> None:
        """Count ``value`` ``weight`` times in the first bucket whose bound is >= it;
        ``exemplar`` (labels within OpenMetrics' 128-character budget, checked by whoever
        takes them in) becomes that bucket's newest exemplar."""
        index = bisect_left(self.bounds, value)
        self.counts[index] += weight
        self.sum += value * weight
        if exemplar is not None:
            self.exemplars[index] = (exemplar, value, timestamp)

    def buckets(self, le: Sequence[str]) -> list[tuple[Any, ...]]:
        """Cumulative ``(le, count[, exemplar])`` rows, as HistogramMetricFamily takes them."""
        counts = self.counts.copy()  # one step: the loop may be observing meanwhile
        exemplars = self.exemplars.copy()
        cumulative = 0.0
        rows: list[tuple[Any, ...]] = []
        for bound, count, exemplar in zip(le, counts, exemplars, strict=True):
            cumulative += count
            if exemplar is None:
                rows.append((bound, cumulative))
            else:
                rows.append((bound, cumulative, Exemplar(*exemplar)))
        return rows


def le_labels(bounds: Sequence[float]) -> list[str]:
    """The ``le`` values of these bounds and +Inf, as client_python writes them."""
    return [*(floatToGoString(b) for b in bounds), "+Inf"]


ValueT = TypeVar("ValueT", CounterValue, GaugeValue, HistogramValue)


class Family(Generic[ValueT]):
    """A metric family: children by label values, created at 0 on first ask."""

    def __init__(
        self,
        name: str,
        documentation: str,
        labelnames: Sequence[str] = (),
        registry: CollectorRegistry | None = None,
    ) -> None:
        self.name = name
        self.documentation = documentation
        self.labelnames = tuple(labelnames)
        self.children: dict[tuple[str, ...], ValueT] = {}
        """By label values; read it, create children with ``labels``."""
        if registry is not None:
            registry.register(self)

    def labels(self, *values: str) -> ValueT:
        child = self.children.get(values)
        if child is None:
            if len(values) != len(self.labelnames):
                raise ValueError(f"{self.name}: expected labels {self.labelnames}, got {values}")
            child = self.children[values] = self._new_child()
        return child

    def _new_child(self) -> ValueT:
        raise NotImplementedError

    def _family(self) -> Metric:
        raise NotImplementedError

    def _add(self, family: Metric, values: list[str], child: ValueT) -> None:
        raise NotImplementedError

    def describe(self) -> list[Metric]:
        return [self._family()]

    def collect(self) -> Iterator[Metric]:
        family = self._family()
        for values, child in list(self.children.items()):
            self._add(family, list(values), child)
        yield family


class CounterFamily(Family[CounterValue]):
    """The name is given without ``_total``, as client_python's Counter takes it."""

    def _new_child(self) -> CounterValue:
        return CounterValue()

    def _family(self) -> Metric:
        return CounterMetricFamily(self.name, self.documentation, labels=self.labelnames)

    def _add(self, family: Metric, values: list[str], child: CounterValue) -> None:
        assert isinstance(family, CounterMetricFamily)
        family.add_metric(values, child.value)


class GaugeFamily(Family[GaugeValue]):
    def _new_child(self) -> GaugeValue:
        return GaugeValue()

    def _family(self) -> Metric:
        return GaugeMetricFamily(self.name, self.documentation, labels=self.labelnames)

    def _add(self, family: Metric, values: list[str], child: GaugeValue) -> None:
        assert isinstance(family, GaugeMetricFamily)
        family.add_metric(values, child.value)


class HistogramFamily(Family[HistogramValue]):
    def __init__(
        self,
        name: str,
        documentation: str,
        labelnames: Sequence[str],
        *,
        buckets: Sequence[float],
        registry: CollectorRegistry | None = None,
    ) -> None:
        self._bounds = tuple(float(b) for b in buckets if b != INF)
        self._le = le_labels(self._bounds)
        super().__init__(name, documentation, labelnames, registry)

    def _new_child(self) -> HistogramValue:
        return HistogramValue(self._bounds)

    def _family(self) -> Metric:
        return HistogramMetricFamily(self.name, self.documentation, labels=self.labelnames)

    def _add(self, family: Metric, values: list[str], child: HistogramValue) -> None:
        assert isinstance(family, HistogramMetricFamily)
        family.add_metric(values, child.buckets(self._le), child.sum)
