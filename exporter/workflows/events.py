"""The ingest event schema (typed msgspec structs) and body decoding with per-event errors.

A body is first decoded whole, in one call (the common case: every event valid, no
escaped character that could be a control character). When that fails, decoding is
two-stage: the body is split into raw JSON values (a syntax error there is a 400 for the
whole request), then each value is decoded on its own, so one bad event is reported by
index and field path while the others still decode.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Annotated, Literal, get_args

import msgspec

MAX_SECONDS = 10 * 365 * 86400.0
"""Longest duration or wait accepted (ten years); rejects overflowed or absurd values."""

Id = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
"""Workflow, step, approval and event ids. 100 characters keep ``workflow_id`` and its
value within OpenMetrics' 128-character exemplar budget."""

Name = Annotated[str, msgspec.Meta(min_length=1, max_length=128)]
"""Values that may become label values (complexity, agent, error type)."""

CONTROL_CHARACTER = re.compile("[\x00-\x1f\x7f-\x9f]")
"""Not allowed in what reaches the exposition (the workflow id as an exemplar, names as
label values): Prometheus' OpenMetrics parser rejects a whole scrape over one NUL there.
JSON can carry them only escaped, so a body without a backslash holds none."""

TraceId = Annotated[str, msgspec.Meta(pattern="^[0-9a-f]{32}$")]
"""The W3C trace id of the span current when AutoBot recorded the event (the client sets
it when OpenTelemetry runs in AutoBot's process): an exemplar label beside workflow_id."""

Seconds = Annotated[float, msgspec.Meta(ge=0, le=MAX_SECONDS)]
Timestamp = Annotated[float, msgspec.Meta(gt=0, le=1e11)]


class Event(msgspec.Struct, tag_field="type", frozen=True, kw_only=True, gc=False):
    """Fields every event has; ``type`` selects the subclass. ``gc=False``: an event holds
    only strings, numbers and flat containers of them, never a cycle, so the cyclic garbage
    collector need not track (nor be triggered by) the thousands decoded per batch."""

    workflow_id: Id
    event_id: Id | None = None
    ts: Timestamp | None = None


class WorkflowStarted(Event, tag="workflow_started", frozen=True, gc=False):
    complexity: Name = "unknown"
    user_message: Annotated[str, msgspec.Meta(max_length=65_536)] | None = None
    total_steps: Annotated[int, msgspec.Meta(ge=0, le=1_000_000)] = 0
    agents_involved: Annotated[tuple[Name, ...], msgspec.Meta(max_length=1_000)] = ()


class StepStarted(Event, tag="step_started", frozen=True, gc=False):
    step_id: Id
    agent: Name


class StepFinished(Event, tag="step_finished", frozen=True, gc=False):
    step_id: Id
    success: bool
    agent: Name | None = None
    error_type: Name | None = None
    duration_seconds: Seconds | None = None
    trace_id: TraceId | None = None


class ApprovalRequested(Event, tag="approval_requested", frozen=True, gc=False):
    approval_id: Id = "default"


class ApprovalResolved(Event, tag="approval_resolved", frozen=True, gc=False):
    outcome: Literal["approved", "denied", "timeout"]
    approval_id: Id = "default"
    wait_seconds: Seconds | None = None


class ResourceSample(Event, tag="resource_sample", frozen=True, gc=False):
    data: Annotated[dict[Name, float], msgspec.Meta(max_length=256)]


WorkflowStatus = Literal["completed", "failed", "cancelled", "timeout"]


class WorkflowFinished(Event, tag="workflow_finished", frozen=True, gc=False):
    status: WorkflowStatus
    trace_id: TraceId | None = None


AnyEvent = (
    WorkflowStarted
    | StepStarted
    | StepFinished
    | ApprovalRequested
    | ApprovalResolved
    | ResourceSample
    | WorkflowFinished
)


def event_type_name(kind: type[Event]) -> str:
    """The ``type`` an event struct is decoded from (its tag)."""
    return str(kind.__struct_config__.tag)


EVENT_TYPES = tuple(event_type_name(kind) for kind in get_args(AnyEvent))


class MalformedBody(ValueError):
    """The body is not JSON (or a line of NDJSON is not); nothing in it can be applied."""


@dataclass(frozen=True, slots=True)
class EventError:
    index: int
    path: str
    message: str


MAX_REPORTED_ERRORS = 100
"""Errors kept per body: the first ones, and a count of all (``DecodedBatch``)."""


@dataclass(slots=True)
class DecodedBatch:
    events: list[AnyEvent] = field(default_factory=list)
    """The valid events, in the body's order."""
    errors: list[EventError] = field(default_factory=list)
    """The first ``MAX_REPORTED_ERRORS`` invalid ones, by position in the body: a 1 MiB body
    can hold half a million invalid items, and an error object kept for each took 150 MiB."""
    error_count: int = 0
    """All the invalid ones."""

    def add_error(self, error: EventError) -> None:
        if len(self.errors) < MAX_REPORTED_ERRORS:
            self.errors.append(error)
        self.error_count += 1


_event_decoder = msgspec.json.Decoder(AnyEvent)
_event_list_decoder = msgspec.json.Decoder(list[AnyEvent])
_raw_list_decoder = msgspec.json.Decoder(list[msgspec.Raw])
_raw_decoder = msgspec.json.Decoder(msgspec.Raw)
_NDJSON_LINE = re.compile(rb"[^\r\n]+")


def _event_error(index: int, prefix: str, error: msgspec.ValidationError) -> EventError:
    message, _, where = str(error).partition(" - at `$")
    return EventError(index=index, path=prefix + where.rstrip("`"), message=message)


def _values(body: bytes, ndjson: bool) -> tuple[Iterable[msgspec.Raw], bool]:
    """The raw JSON values of the body, and whether they came as a sequence (array or
    NDJSON). NDJSON lines are split as they are read, one at a time; an array is split
    whole (a raw value costs about 48 bytes, so at most ~28 bytes per byte of a body of
    one-character items, freed once the body is decoded)."""
    if ndjson:
        return _ndjson_values(body), True
    try:
        if body.lstrip()[:1] == b"[":
            return _raw_list_decoder.decode(body), True
        return [_raw_decoder.decode(body)], False
    except (msgspec.DecodeError, RecursionError) as error:
        raise MalformedBody(_reason(error)) from None


def _ndjson_values(body: bytes) -> Iterator[msgspec.Raw]:
    for match in _NDJSON_LINE.finditer(body):
        line = match.group()
        if line.strip():
            try:
                yield _raw_decoder.decode(line)
            except (msgspec.DecodeError, RecursionError) as error:
                number = body.count(b"\n", 0, match.start()) + 1
                raise MalformedBody(f"line {number}: {_reason(error)}") from None


def _reason(error: Exception) -> str:
    """msgspec's message, or for a body nested deeper than the decoder goes, that."""
    if isinstance(error, RecursionError):
        return "nested too deeply to decode (events are flat objects)"
    return str(error)


def decode_events(body: bytes, ndjson: bool = False) -> DecodedBatch:
    """Decode a request body: one object, an array of objects, or NDJSON lines.

    Raises MalformedBody when the body is not JSON (nothing in it can be applied); schema
    errors are returned per event, the first ``MAX_REPORTED_ERRORS`` of them kept.
    """
    escaped = b"\\" in body
    if not (ndjson or escaped):
        try:
            if body.lstrip()[:1] == b"[":
                return DecodedBatch(events=_event_list_decoder.decode(body))
            return DecodedBatch(events=[_event_decoder.decode(body)])
        except (msgspec.DecodeError, RecursionError, UnicodeDecodeError):
            pass  # decoded again below, event by event, to say which failed and why
    values, sequence = _values(body, ndjson)
    batch = DecodedBatch()
    for index, raw in enumerate(values):
        try:
            event = _event_decoder.decode(raw)
        except msgspec.ValidationError as error:
            batch.add_error(_event_error(index, _path(index, sequence), error))
            continue
        except (UnicodeDecodeError, msgspec.DecodeError):
            # The raw split does not look inside strings, so what fails here after it is a
            # string's encoding (msgspec < 0.23 raises UnicodeDecodeError, later DecodeError).
            batch.add_error(
                EventError(index, _path(index, sequence), "a string is not valid UTF-8")
            )
            continue
        field_name = escaped and _field_with_control_character(event)
        if field_name:
            batch.add_error(
                EventError(index, f"{_path(index, sequence)}.{field_name}", CONTROL_MESSAGE)
            )
        else:
            batch.events.append(event)
    return batch


def _path(index: int, sequence: bool) -> str:
    return f"$[{index}]" if sequence else "$"


INVALID_UTF8 = "a string is not valid UTF-8"
CONTROL_MESSAGE = "contains a control character (U+0000-U+001F, U+007F-U+009F)"


_EXPOSED_FIELDS: dict[type, tuple[str, ...]] = {
    WorkflowStarted: ("workflow_id", "complexity"),
    StepStarted: ("workflow_id", "agent"),
    StepFinished: ("workflow_id", "agent", "error_type"),
}
"""Per event type, the fields that reach the exposition (others: only workflow_id)."""


def _field_with_control_character(event: AnyEvent) -> str | None:
    for name in _EXPOSED_FIELDS.get(type(event), ("workflow_id",)):
        value = getattr(event, name)
        if value is not None and CONTROL_CHARACTER.search(value):
            return name
    return None
