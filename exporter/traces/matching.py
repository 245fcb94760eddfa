"""A row of the span-family table made executable: does a span match, and what are its
label values. Each source is resolved once, at start, into a small function."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from urllib.parse import urlsplit

from exporter.traces.settings import (
    ANY_VALUE,
    ATTRIBUTE_PREFIX,
    PEER_SERVICE_SOURCE,
    RESOURCE_PREFIX,
    SpanFamily,
)
from exporter.traces.spans import SpanView, text

LabelSource = Callable[[SpanView], str]


def _attribute(key: str) -> LabelSource:
    def read(span: SpanView) -> str:
        value = span.attributes.get(key)
        return text(value if value is not None else span.resource.get(key))

    return read


def _resource(key: str) -> LabelSource:
    return lambda span: text(span.resource.get(key))


def _first_word(span: SpanView) -> str:
    return span.name.split(" ", 1)[0]


def peer_service(peer_services: Mapping[str, str]) -> LabelSource:
    """``peer.service``, else the span's target host through ``peer_services`` (host:port
    first, then host), else the host itself; "" when the span names no target."""

    def read(span: SpanView) -> str:
        named = text(span.attributes.get("peer.service"))
        if named:
            return named
        url = text(span.attributes.get("http.url"))
        try:
            parts = urlsplit(url)
            host, port = parts.hostname or "", parts.port
        except ValueError:  # a malformed URL or port: no target to name
            host, port = "", None
        if not host:
            host = text(span.attributes.get("net.peer.name"))
            port_text = text(span.attributes.get("net.peer.port"))
            port = int(port_text) if port_text.isdigit() else None
        if port is not None and f"{host}:{port}" in peer_services:
            return peer_services[f"{host}:{port}"]
        return peer_services.get(host, host)

    return read


SPAN_SOURCES: dict[str, LabelSource] = {
    "span.name": lambda span: span.name,
    "span.name.first_word": _first_word,
    "span.kind": lambda span: span.kind,
    "span.status_code": lambda span: span.status_code,
}


def label_source(source: str, peer_services: Mapping[str, str]) -> LabelSource:
    if source in SPAN_SOURCES:
        return SPAN_SOURCES[source]
    if source == PEER_SERVICE_SOURCE:
        return peer_service(peer_services)
    if source.startswith(ATTRIBUTE_PREFIX):
        return _attribute(source.removeprefix(ATTRIBUTE_PREFIX))
    return _resource(source.removeprefix(RESOURCE_PREFIX))


class FamilyRule:
    """One configured family: its match conditions and its label sources, in order."""

    def __init__(self, family: SpanFamily, peer_services: Mapping[str, str]) -> None:
        self.family = family
        self.label_names = tuple(family.labels)
        self._sources = tuple(label_source(s, peer_services) for s in family.labels.values())
        self._kind = family.match.kind
        self._name = family.match.name
        self._attributes = tuple(family.match.attributes.items())

    def matches(self, span: SpanView) -> bool:
        if self._kind is not None and span.kind != self._kind:
            return False
        if self._name is not None and span.name != self._name:
            return False
        for key, wanted in self._attributes:
            value = span.attributes.get(key)
            if value is None or (wanted != ANY_VALUE and text(value) != wanted):
                return False
        return True

    def label_values(self, span: SpanView) -> tuple[str, ...]:
        return tuple(source(span) for source in self._sources)
