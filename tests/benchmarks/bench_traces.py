"""OTLP trace intake: the exporter's CPU per span over HTTP against the in-process floor of
decoding and recording the same bodies, and its RSS while a million spans of distinct
traces (and distinct span names, past the series cap) arrive.

    python tests/benchmarks/bench_traces.py [--spans 1000000]

Workload: protobuf ExportTraceServiceRequests of 100 spans shaped as AutoBot's (a server
span, LLM inferences, redis commands, AI-stack calls, certificate distributions), every
span in a trace of its own. For the memory run, one span in ten carries a span name never
seen before, so the traces_span_metrics_* families reach otlp.max_series_per_family and
then count in their overflow series.

Floor: the same bodies through decode_request, request_spans and SpanStore.record in this
process (CPU time). Over HTTP: the exporter process's CPU time for the same bodies posted
one after another on a keep-alive connection. Both per span; the ratio is what HTTP, the
route and aiohttp add, on the same machine in the same run.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import requests
from prometheus_client import CollectorRegistry

sys.path.append(str(Path(__file__).resolve().parents[2]))

from exporter.config import Config
from exporter.traces.otlp_body import PROTOBUF, decode_request
from exporter.traces.span_store import SpanStore
from exporter.traces.spans import request_spans
from tests.support.processes import Exporter, cpu_seconds
from tests.support.spans import request, span

SPANS_PER_REQUEST = 100
FLOOR_REQUESTS = 200
MIB = 1 << 20


def autobot_spans(first: int, count: int, new_names: bool) -> list:
    """``count`` AutoBot-shaped spans, each in a trace of its own (numbered from first)."""
    shapes = []
    for number in range(first, first + count):
        trace_id = (number + 1).to_bytes(16, "big")
        kind = number % 5
        if new_names and number % 10 == 0:
            shapes.append(span(f"POST /api/chat/{number}", "SERVER", 40, trace_id=trace_id))
        elif kind == 0:
            shapes.append(
                span(
                    "POST /api/chat",
                    "SERVER",
                    180,
                    trace_id=trace_id,
                    http__method="POST",
                    http__route="/api/chat",
                    http__status_code=200,
                )
            )
        elif kind == 1:
            shapes.append(
                span(
                    "llm.inference",
                    "CLIENT",
                    900,
                    trace_id=trace_id,
                    llm__provider="ollama",
                    llm__model="llama3.2",
                )
            )
        elif kind == 2:
            shapes.append(span("SET", "CLIENT", 0.4, trace_id=trace_id, db__system="redis"))
        elif kind == 3:
            shapes.append(
                span(
                    "GET",
                    "CLIENT",
                    35,
                    trace_id=trace_id,
                    http__method="GET",
                    http__url="http://172.16.168.24:8080/api/models",
                )
            )
        else:
            shapes.append(
                span(
                    "ssh.distribute_certificates",
                    "CLIENT",
                    300,
                    trace_id=trace_id,
                    ssh__target_vm="redis",
                    pki__operation="distribute",
                )
            )
    return shapes


def bodies(total: int, new_names: bool) -> Iterator[bytes]:
    for first in range(0, total, SPANS_PER_REQUEST):
        yield request(*autobot_spans(first, SPANS_PER_REQUEST, new_names))


def floor_microseconds_per_span(prepared: list[bytes]) -> float:
    store = SpanStore(Config().otlp, CollectorRegistry())
    began = time.process_time()
    for body in prepared:
        store.record(request_spans(decode_request(body, PROTOBUF)).spans)
    return (time.process_time() - began) / (len(prepared) * SPANS_PER_REQUEST) * 1e6


def http_microseconds_per_span(exporter: Exporter, prepared: list[bytes]) -> float:
    process = psutil.Process(exporter.process.pid)
    session = requests.Session()
    before = cpu_seconds(process)
    for body in prepared:
        response = session.post(
            f"{exporter.url}/v1/traces",
            data=body,
            headers={"Content-Type": PROTOBUF},
            timeout=30,
        )
        response.raise_for_status()
    spent = cpu_seconds(process) - before
    return spent / (len(prepared) * SPANS_PER_REQUEST) * 1e6


def memory_run(exporter: Exporter, total: int) -> list[tuple[int, float]]:
    """(spans sent, exporter RSS in MiB) every tenth of the run."""
    process = psutil.Process(exporter.process.pid)
    session = requests.Session()
    readings = [(0, process.memory_info().rss / MIB)]
    step = max(SPANS_PER_REQUEST, total // 10)
    for number, body in enumerate(bodies(total, new_names=True), start=1):
        session.post(
            f"{exporter.url}/v1/traces", data=body, headers={"Content-Type": PROTOBUF}, timeout=30
        ).raise_for_status()
        sent = number * SPANS_PER_REQUEST
        if sent % step == 0:
            exporter.get("/metrics")  # a scrape, as Prometheus would
            readings.append((sent, process.memory_info().rss / MIB))
    return readings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spans", type=int, default=1_000_000)
    arguments = parser.parse_args()
    prepared = list(bodies(FLOOR_REQUESTS * SPANS_PER_REQUEST, new_names=False))
    with tempfile.TemporaryDirectory() as directory:
        exporter = Exporter(Path(directory))
        try:
            http_microseconds_per_span(exporter, prepared[:20])  # warm up
            floor = floor_microseconds_per_span(prepared)
            over_http = http_microseconds_per_span(exporter, prepared)
            print(f"in-process floor (decode + record): {floor:.1f} us of CPU per span")
            print(f"over HTTP (exporter process):       {over_http:.1f} us of CPU per span")
            print(f"HTTP / floor:                        {over_http / floor:.2f}x")
            print(f"one core handles about {1e6 / over_http:,.0f} spans/s over HTTP")
        finally:
            exporter.stop()
        (Path(directory) / "memory").mkdir()
        exporter = Exporter(Path(directory) / "memory")
        try:
            readings = memory_run(exporter, arguments.spans)
        finally:
            exporter.stop()
    print("spans sent -> exporter RSS (MiB), every span a trace of its own:")
    for sent, rss in readings:
        print(f"  {sent:>9,}  {rss:6.1f}")
    middle = readings[len(readings) // 2][1]
    print(f"RSS at the end / at half way: {readings[-1][1] / middle:.2f}x")


if __name__ == "__main__":
    main()
