"""The spans a demo workflow would make in AutoBot, shaped as AutoBot's tracing module
emits them (FastAPI server spans, ``llm.inference``, redis commands, aiohttp client calls,
``ssh.distribute_certificates``), queued and sent as one OTLP/HTTP protobuf request per
flush, so that the span dashboards move with the workflow ones."""

from __future__ import annotations

import random
import time
from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

TRACES_PATH = "/v1/traces"
SERVICE = {"service.name": "autobot-backend", "service.version": "demo"}
MODELS = {
    "classifier": ("ollama", "llama3.2:1b"),
    "research": ("openai", "gpt-4o-mini"),
    "librarian": ("ollama", "llama3.2"),
    "system_commands": ("vllm", "qwen2.5-coder"),
    "orchestrator": ("ollama", "llama3.2"),
}
ERROR, UNSET = Status.StatusCode.STATUS_CODE_ERROR, Status.StatusCode.STATUS_CODE_UNSET
KINDS = {
    "server": Span.SpanKind.SPAN_KIND_SERVER,
    "client": Span.SpanKind.SPAN_KIND_CLIENT,
    "internal": Span.SpanKind.SPAN_KIND_INTERNAL,
}


def any_value(value: Any) -> AnyValue:
    """A Python scalar as an OTLP attribute value."""
    if isinstance(value, bool):
        return AnyValue(bool_value=value)
    if isinstance(value, int):
        return AnyValue(int_value=value)
    if isinstance(value, float):
        return AnyValue(double_value=value)
    return AnyValue(string_value=str(value))


def key_values(values: dict[str, Any]) -> list[KeyValue]:
    return [KeyValue(key=key, value=any_value(value)) for key, value in values.items()]


class SpanQueue:
    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._spans: list[Span] = []

    def __len__(self) -> int:
        return len(self._spans)

    def new_trace(self) -> str:
        """A fresh trace id, as hex (what the workflow's events carry)."""
        return f"{self._rng.getrandbits(128) | 1:032x}"

    def add(
        self,
        trace_id: str,
        name: str,
        kind: str,
        started: float,
        *,
        error: bool = False,
        **attributes: Any,
    ) -> None:
        """A span from ``started`` (time.time()) to now; attribute keys with ``__`` for dots."""
        end = time.time()
        self._spans.append(
            Span(
                trace_id=bytes.fromhex(trace_id),
                span_id=(self._rng.getrandbits(64) | 1).to_bytes(8, "big"),
                name=name,
                kind=KINDS[kind],
                start_time_unix_nano=round(started * 1e9),
                end_time_unix_nano=round(max(started, end) * 1e9),
                status=Status(code=ERROR if error else UNSET),
                attributes=key_values({k.replace("__", "."): v for k, v in attributes.items()}),
            )
        )

    def take_request(self) -> bytes | None:
        """The queued spans as one serialised ExportTraceServiceRequest, or None."""
        if not self._spans:
            return None
        spans, self._spans = self._spans, []
        request = ExportTraceServiceRequest()
        resource_spans = request.resource_spans.add()
        resource_spans.resource.attributes.extend(key_values(SERVICE))
        resource_spans.scope_spans.add().spans.extend(spans)
        return request.SerializeToString()

    def step(self, trace_id: str, agent: str, started: float, success: bool) -> None:
        """An agent step: its LLM inference, a redis write, a call to the AI stack."""
        provider, model = MODELS.get(agent, ("ollama", "llama3.2"))
        self.add(
            trace_id,
            "llm.inference",
            "client",
            started,
            error=not success,
            llm__provider=provider,
            llm__model=model,
            llm__error=not success,
        )
        now = time.time()
        self.add(trace_id, "SET", "client", now, db__system="redis", db__statement="SET ? ?")
        self.add(
            trace_id,
            "GET",
            "client",
            now,
            http__method="GET",
            http__url="http://172.16.168.24:8080/api/models",
            http__status_code=200,
        )
        if agent == "system_commands":
            self.add(
                trace_id,
                "ssh.distribute_certificates",
                "client",
                now,
                ssh__target_vm=self._rng.choice(("frontend", "npu-worker", "redis")),
                pki__operation="distribute",
            )

    def request(self, trace_id: str, started: float, failed: bool) -> None:
        """The HTTP request that ran the workflow."""
        status = 500 if failed and self._rng.random() < 0.5 else 200
        self.add(
            trace_id,
            "POST /api/chat",
            "server",
            started,
            error=status >= 500,
            http__method="POST",
            http__route="/api/chat",
            http__status_code=status,
        )
