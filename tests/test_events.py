"""Body decoding: formats, per-event errors with paths, and the limits in the schema."""

from __future__ import annotations

import json

import pytest

from exporter.workflows.events import (
    ApprovalRequested,
    MalformedBody,
    StepFinished,
    WorkflowStarted,
    decode_events,
)


def body(value) -> bytes:
    """JSON bytes; a float overflow is written as the number 1e999, as a client might."""
    return json.dumps(value).replace("Infinity", "1e999").encode()


def test_one_object_decodes_to_a_typed_event():
    batch = decode_events(body({"type": "workflow_started", "workflow_id": "w"}))
    assert batch.errors == []
    [event] = batch.events
    assert event == WorkflowStarted(workflow_id="w")
    assert event.complexity == "unknown"


def test_ndjson_skips_blank_lines_and_keeps_indices():
    lines = b'{"type":"approval_requested","workflow_id":"a"}\n\n{"type":"bad"}\n'
    batch = decode_events(lines, ndjson=True)
    assert [type(e) for e in batch.events] == [ApprovalRequested]
    assert [(e.index, e.path) for e in batch.errors] == [(1, "$[1].type")]


@pytest.mark.parametrize(
    ("event", "path", "message"),
    [
        ({"duration_seconds": -0.5}, "$[0].duration_seconds", "Expected `float` >= 0.0"),
        ({"duration_seconds": 1e999}, "$[0].duration_seconds", "Number out of range"),
        (
            {"duration_seconds": "fast"},
            "$[0].duration_seconds",
            "Expected `float | null`, got `str`",
        ),
        ({"success": "yes"}, "$[0].success", "Expected `bool`, got `str`"),
        ({"ts": -1}, "$[0].ts", "Expected `float` > 0.0"),
        ({"workflow_id": "x" * 101}, "$[0].workflow_id", "Expected `str` of length <= 100"),
        ({"agent": ""}, "$[0].agent", "Expected `str` of length >= 1"),
    ],
)
def test_schema_errors_name_the_field(event, path, message):
    base = {"type": "step_finished", "workflow_id": "w", "step_id": "s", "success": True}
    batch = decode_events(body([base | event]))
    assert batch.events == []
    [error] = batch.errors
    assert (error.path, error.message) == (path, message)


def test_unknown_fields_are_ignored_for_forward_compatibility():
    event = {
        "type": "step_finished",
        "workflow_id": "w",
        "step_id": "s",
        "success": True,
        "new_field_from_a_newer_client": 1,
    }
    [decoded] = decode_events(body(event)).events
    assert isinstance(decoded, StepFinished)


@pytest.mark.parametrize("raw", [b"", b"{", b"[1,", b"nul", b"\xff"])
def test_malformed_json_raises(raw):
    with pytest.raises(MalformedBody):
        decode_events(raw)


def test_a_scalar_body_is_a_schema_error_not_a_crash():
    batch = decode_events(b"42")
    assert [(e.index, e.path) for e in batch.errors] == [(0, "$")]


def test_invalid_utf8_inside_a_string_is_an_event_error():
    body = (
        b'[{"type": "workflow_started", "workflow_id": "ok"}, '
        b'{"type": "workflow_started", "workflow_id": "bad\xed\xa0\x80"}]'
    )
    batch = decode_events(body)
    assert [e.workflow_id for e in batch.events] == ["ok"]
    assert [(e.index, e.path, e.message) for e in batch.errors] == [
        (1, "$[1]", "a string is not valid UTF-8")
    ]
