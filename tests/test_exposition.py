"""The lean encoders write exactly what client_python's write, on a registry populated by a
mixed workload, system families, and label values that need escaping; anything they do
not handle goes to client_python's own encoder."""

from __future__ import annotations

import msgspec
import pytest
from prometheus_client import CollectorRegistry, Gauge
from prometheus_client.exposition import generate_latest as client_python_text
from prometheus_client.openmetrics.exposition import (
    generate_latest as client_python_openmetrics,
)

from exporter.app import create_app
from exporter.config import Config
from exporter.web.exposition import choose
from exporter.web.keys import REGISTRY, SAMPLER, TRACKER
from exporter.workflows.events import AnyEvent
from tests.support.workload import build_workload

PROMETHEUS_ACCEPT = (
    "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;"
    "q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"
)
AWKWARD = 'quote " backslash \\ newline \n end'
VOLATILE = ("process_", "python_gc_")
"""Families whose values move between two renders (the exporter's own process)."""


def steady(exposition: bytes) -> list[str]:
    return [
        line
        for line in exposition.decode().splitlines()
        if not line.removeprefix("# HELP ").removeprefix("# TYPE ").startswith(VOLATILE)
    ]


@pytest.fixture(scope="module")
def populated() -> CollectorRegistry:
    app = create_app(Config())
    sampler = app[SAMPLER]
    sampler.record(sampler.measure())
    events = [
        *build_workload(300, seed=11).events,
        {"type": "workflow_started", "workflow_id": "odd", "complexity": AWKWARD},
        {"type": "workflow_finished", "workflow_id": "odd", "status": "failed"},
    ]
    app[TRACKER].apply([msgspec.convert(event, AnyEvent) for event in events])
    return app[REGISTRY]


def test_text_is_byte_for_byte_client_pythons(populated):
    encoder, content_type = choose("")
    assert content_type.startswith("text/plain; version=0.0.4")
    lean = encoder(populated)
    assert steady(lean) == steady(client_python_text(populated))
    assert '\\"' in lean.decode() and "\\\\" in lean.decode() and "\\n" in lean.decode()


def test_openmetrics_is_byte_for_byte_client_pythons(populated):
    encoder, content_type = choose(PROMETHEUS_ACCEPT)
    assert content_type.startswith("application/openmetrics-text; version=1.0.0")
    lean = encoder(populated)
    assert steady(lean) == steady(client_python_openmetrics(populated))
    assert ' # {workflow_id="' in lean.decode(), "exemplars are written"
    assert lean.endswith(b"# EOF\n")


def test_a_name_outside_the_legacy_set_goes_to_client_python():
    registry = CollectorRegistry()
    Gauge("autobot.dotted", "A UTF-8 name.", registry=registry).set(1)
    for accept, standard in (
        ("", client_python_text),
        (PROMETHEUS_ACCEPT, client_python_openmetrics),
    ):
        encoder, _ = choose(accept)
        assert encoder(registry) == standard(registry)


def test_other_escaping_schemes_use_client_pythons_encoder():
    encoder, content_type = choose("application/openmetrics-text;version=1.0.0;escaping=dots")
    assert "escaping=dots" in content_type
    assert encoder.func is client_python_openmetrics
