"""The text and OpenMetrics encoders of client_python, without their per-sample name work.

client_python validates and escapes every metric and label name of every sample, for
UTF-8 names; at the label caps that is more than half of a render. Every name this
exporter registers is a legacy Prometheus name, so this module checks each distinct name
once and then writes exactly the bytes client_python writes (tests compare the two on a
populated registry). A render meeting anything else (a non-legacy name, a native
histogram, the OpenMetrics-only ``_created``/``_gsum``/``_gcount`` samples in the text
format) is handed whole to client_python's encoder.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from functools import partial

from prometheus_client.core import Metric
from prometheus_client.exposition import choose_encoder
from prometheus_client.exposition import generate_latest as client_python_text
from prometheus_client.openmetrics.exposition import UNDERSCORES
from prometheus_client.openmetrics.exposition import (
    generate_latest as client_python_openmetrics,
)
from prometheus_client.registry import Collector
from prometheus_client.samples import Sample
from prometheus_client.utils import floatToGoString

Encoder = Callable[[Collector], bytes]

_LEGACY_METRIC_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
_LEGACY_LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
_TEXT_TYPES = {
    "counter": "counter",
    "gauge": "gauge",
    "histogram": "histogram",
    "summary": "summary",
    "info": "gauge",
    "stateset": "gauge",
    "gaugehistogram": "histogram",
    "unknown": "untyped",
}
_TEXT_NAME_SUFFIX = {"counter": "_total", "info": "_info"}
_OPENMETRICS_ONLY_SUFFIXES = ("_created", "_gsum", "_gcount")


class _Unsupported(Exception):
    """Something only client_python's encoder writes right."""


class _Names:
    """Each distinct metric and label name is checked once for the legacy character set."""

    def __init__(self) -> None:
        self._checked: set[str] = set()

    def metric(self, name: str) -> str:
        return self._check(name, _LEGACY_METRIC_NAME)

    def labels(self, names: Iterable[str]) -> None:
        for name in names:
            self._check(name, _LEGACY_LABEL_NAME)

    def _check(self, name: str, legacy: re.Pattern[str]) -> str:
        if name not in self._checked:
            if not legacy.fullmatch(name):
                raise _Unsupported(name)
            self._checked.add(name)
        return name


def _escape_value(value: str) -> str:
    return value.replace("\\", r"\\").replace("\n", r"\n").replace('"', r"\"")


def _label_string(labels: dict[str, str], names: _Names) -> str:
    if not labels:
        return ""
    names.labels(labels)
    pairs = [f'{k}="{_escape_value(v)}"' for k, v in sorted(labels.items())]
    return "{" + ",".join(pairs) + "}"


def _text_sample(sample: Sample, names: _Names) -> str:
    if sample.native_histogram is not None:
        raise _Unsupported(sample.name)
    timestamp = ""
    if sample.timestamp is not None:
        timestamp = f" {int(float(sample.timestamp) * 1000):d}"
    labels = _label_string(sample.labels, names)
    return f"{names.metric(sample.name)}{labels} {floatToGoString(sample.value)}{timestamp}\n"


def _text(registry: Collector) -> bytes:
    names = _Names()
    output: list[str] = []
    for metric in registry.collect():
        name = names.metric(metric.name + _TEXT_NAME_SUFFIX.get(metric.type, ""))
        help_text = metric.documentation.replace("\\", r"\\").replace("\n", r"\n")
        text_type = _TEXT_TYPES.get(metric.type)
        if text_type is None:
            raise _Unsupported(metric.type)
        output.append(f"# HELP {name} {help_text}\n# TYPE {name} {text_type}\n")
        openmetrics_only = {metric.name + suffix for suffix in _OPENMETRICS_ONLY_SUFFIXES}
        for sample in metric.samples:
            if sample.name in openmetrics_only:
                raise _Unsupported(sample.name)
            output.append(_text_sample(sample, names))
    return "".join(output).encode("utf-8")


def _exemplar(metric: Metric, sample: Sample) -> str:
    exemplar = sample.exemplar
    if exemplar is None:
        return ""
    if not (
        (metric.type == "counter" and sample.name.endswith("_total"))
        or (metric.type in ("histogram", "gaugehistogram") and sample.name.endswith("_bucket"))
        or (metric.type == "histogram" and sample.name == metric.name)
    ):
        raise _Unsupported(sample.name)  # client_python refuses it with its own error
    labels = ",".join(f'{k}="{_escape_value(v)}"' for k, v in sorted(exemplar.labels.items()))
    timestamp = "" if exemplar.timestamp is None else f" {exemplar.timestamp}"
    return f" # {{{labels}}} {floatToGoString(exemplar.value)}{timestamp}"


def _openmetrics_sample(metric: Metric, sample: Sample, names: _Names) -> str:
    if sample.native_histogram is not None:
        raise _Unsupported(sample.name)
    labels = _label_string(sample.labels, names)
    timestamp = "" if sample.timestamp is None else f" {sample.timestamp}"
    value = floatToGoString(sample.value)
    exemplar = _exemplar(metric, sample)
    return f"{names.metric(sample.name)}{labels} {value}{timestamp}{exemplar}\n"


def _openmetrics(registry: Collector) -> bytes:
    names = _Names()
    output: list[str] = []
    for metric in registry.collect():
        name = names.metric(metric.name)
        help_text = _escape_value(metric.documentation)
        output.append(f"# HELP {name} {help_text}\n# TYPE {name} {metric.type}\n")
        if metric.unit:
            output.append(f"# UNIT {name} {metric.unit}\n")
        output.extend(_openmetrics_sample(metric, sample, names) for sample in metric.samples)
    output.append("# EOF\n")
    return "".join(output).encode("utf-8")


def _with_fallback(lean: Encoder, standard: Encoder) -> Encoder:
    def encode(registry: Collector) -> bytes:
        try:
            return lean(registry)
        except _Unsupported:
            return standard(registry)

    return encode


def choose(accept: str) -> tuple[Encoder, str]:
    """client_python's content negotiation; its two default answers (the text format, and
    OpenMetrics with underscore escaping, which Prometheus asks for) get the lean encoders,
    any other (another escaping scheme) client_python's own."""
    standard, content_type = choose_encoder(accept)
    if standard is client_python_text:
        return _with_fallback(_text, standard), content_type
    if (
        isinstance(standard, partial)
        and standard.func is client_python_openmetrics
        and standard.keywords.get("escaping") == UNDERSCORES
    ):
        return _with_fallback(_openmetrics, standard), content_type
    return standard, content_type
