"""POST /api/v1/events on the app served in-process: formats, batch semantics, every refusal."""

from __future__ import annotations

import gzip
import io
import json
import select
import socket
import uuid

import pytest
import requests

from exporter.config import Config
from tests.support.processes import wait_until


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def started(workflow_id: str, complexity: str = "http-test") -> dict:
    return {"type": "workflow_started", "workflow_id": workflow_id, "complexity": complexity}


def started_count(exporter, complexity: str = "http-test") -> float:
    value = exporter.sample_getter()("autobot_workflows_started_total", complexity=complexity)
    return value or 0.0


def test_one_object_an_array_and_ndjson_are_accepted(shared_app):
    before = started_count(shared_app)
    single = shared_app.post_events(started(unique("one")))
    array = shared_app.post_events([started(unique("arr")), started(unique("arr"))])
    lines = "\n".join(json.dumps(started(unique("nd"))) for _ in range(3)) + "\n"
    ndjson = shared_app.post_events(lines, content_type="application/x-ndjson")
    assert (single.status_code, single.json()) == (202, {"accepted": 1, "duplicates": 0})
    assert array.json() == {"accepted": 2, "duplicates": 0}
    assert ndjson.status_code == 202 and ndjson.json()["accepted"] == 3
    assert started_count(shared_app) == before + 6


def test_resent_event_id_is_counted_once(shared_app):
    before = started_count(shared_app)
    event = started(unique("dup")) | {"event_id": unique("evt")}
    first = shared_app.post_events([event])
    second = shared_app.post_events([event, event])
    assert first.json() == {"accepted": 1, "duplicates": 0}
    assert second.json() == {"accepted": 0, "duplicates": 2}
    assert started_count(shared_app) == before + 1


def test_invalid_events_are_named_and_the_valid_ones_applied(shared_app):
    before = started_count(shared_app)
    batch = [
        started(unique("ok")),
        {
            "type": "step_finished",
            "workflow_id": "w",
            "step_id": "s",
            "success": True,
            "duration_seconds": -1,
        },
        {"type": "no_such_type", "workflow_id": "w"},
        {"workflow_id": "w"},
        {"type": "workflow_finished", "workflow_id": "w", "status": "exploded"},
        started(unique("ok")),
    ]
    response = shared_app.post_events(batch)
    body = response.json()
    assert response.status_code == 422
    assert body["accepted"] == 2
    assert [(e["index"], e["path"]) for e in body["errors"]] == [
        (1, "$[1].duration_seconds"),
        (2, "$[2].type"),
        (3, "$[3]"),
        (4, "$[4].status"),
    ]
    assert "type" in body["errors"][2]["message"]
    assert started_count(shared_app) == before + 2
    assert (
        shared_app.sample_getter()("autobot_exporter_events_rejected_total", reason="invalid") >= 4
    )


def test_a_flood_of_invalid_events_reports_the_first_hundred_and_the_count(shared_app):
    response = shared_app.post_events([{"type": "nope"}] * 5000)
    body = response.json()
    assert response.status_code == 422
    assert (len(body["errors"]), body["error_count"], body["accepted"]) == (100, 5000, 0)


def test_single_invalid_object_has_a_root_path(shared_app):
    response = shared_app.post_events({"type": "workflow_started"})
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"index": 0, "path": "$", "message": "Object missing required field `workflow_id`"}
    ]


@pytest.mark.parametrize(
    "body",
    [b"{not json", b"", b'[{"type": "workflow_started", "workflow_id": "x"}'],
)
def test_malformed_json_is_400_and_applies_nothing(shared_app, body):
    before = started_count(shared_app, "unknown")
    response = shared_app.post_events(body)
    assert response.status_code == 400
    assert "not valid JSON" in response.json()["message"]
    assert started_count(shared_app, "unknown") == before


def test_malformed_ndjson_line_is_named(shared_app):
    body = json.dumps(started(unique("nd"))) + "\n{oops\n"
    response = shared_app.post_events(body, content_type="application/x-ndjson")
    assert response.status_code == 400
    assert "line 2" in response.json()["message"]


def test_wrong_content_type_is_415(shared_app):
    response = shared_app.post_events("a=b", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 415
    assert "application/json" in response.json()["message"]


def test_gzip_body_is_accepted(shared_app):
    body = gzip.compress(json.dumps([started(unique("gz"))]).encode())
    response = shared_app.post_events(body, **{"Content-Encoding": "gzip"})
    assert response.status_code == 202, response.text


def test_body_over_the_limit_is_413_with_or_without_length(start_app):
    exporter = start_app("max_body_bytes: 2048\n")
    big = [started(f"big-{n}") for n in range(100)]
    response = exporter.post_events(big)
    assert response.status_code == 413
    assert "max_body_bytes" in response.json()["message"]
    chunks = (json.dumps(big)[i : i + 500].encode() for i in range(0, len(json.dumps(big)), 500))
    chunked = requests.post(
        exporter.url + "/api/v1/events",
        data=chunks,
        headers={"Content-Type": "application/json"},
        timeout=10,
    )
    assert chunked.status_code == 413
    assert exporter.post_events(big[:5]).status_code == 202
    assert (
        exporter.sample_getter()("autobot_exporter_events_rejected_total", reason="too_large") == 2
    )
    log = exporter.log_text()
    assert log.count("refused an ingest request (413 too_large)") == 1, "logged once, not twice"
    assert "max_body_bytes (2048 bytes)" in log


def test_bearer_token_is_required_when_configured(start_app, tmp_path):
    token_file = tmp_path / "token"
    token_file.write_text("s3cret\n")
    exporter = start_app(f"ingest_token_file: {token_file}\n")
    event = [started("tok-1")]
    missing = exporter.post_events(event)
    wrong = exporter.post_events(event, Authorization="Bearer nope")
    right = exporter.post_events(event, Authorization="Bearer s3cret")
    assert (missing.status_code, wrong.status_code, right.status_code) == (401, 401, 202)
    assert missing.headers["WWW-Authenticate"].startswith("Bearer")
    assert exporter.get("/metrics").status_code == 200
    get = exporter.sample_getter()
    assert get("autobot_exporter_events_rejected_total", reason="unauthorized") == 2
    assert exporter.log_text().count("refused an ingest request (401 unauthorized)") == 1
    assert "s3cret" not in exporter.log_text()


def test_out_of_order_events_never_fail(shared_app):
    workflow = unique("ooo")
    events = [
        {"type": "workflow_finished", "workflow_id": workflow, "status": "completed"},
        {"type": "step_finished", "workflow_id": workflow, "step_id": "s", "success": False},
        {"type": "approval_resolved", "workflow_id": workflow, "outcome": "denied"},
        {"type": "workflow_finished", "workflow_id": workflow, "status": "failed"},
        {"type": "resource_sample", "workflow_id": workflow, "data": {"cpu_percent": 3}},
        started(workflow),
        {"type": "step_started", "workflow_id": workflow, "step_id": "s", "agent": "a"},
        {"type": "workflow_started", "workflow_id": workflow},
    ]
    for event in events:
        assert shared_app.post_events(event).status_code == 202
    answer = shared_app.get(f"/api/metrics/workflow/{workflow}").json()
    assert answer["metrics"]["status"] == "completed"
    assert answer["metrics"]["failed_steps"] == 1


def test_a_gzip_bomb_is_413_on_its_decompressed_size(shared_app):
    """64 MiB of zeros gzipped is about 65 KB, far under max_body_bytes on the wire: the
    limit counts the decompressed bytes as they are read, so it stops there."""
    compressed = io.BytesIO()
    with gzip.GzipFile(fileobj=compressed, mode="wb", compresslevel=9) as bomb:
        zeros = bytes(1 << 20)
        for _ in range(64):
            bomb.write(zeros)
    assert len(compressed.getvalue()) < Config().max_body_bytes
    response = shared_app.post_events(compressed.getvalue(), **{"Content-Encoding": "gzip"})
    assert response.status_code == 413
    assert "max_body_bytes" in response.json()["message"]


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ("[" * 400_000 + "]" * 400_000, "application/json"),
        (
            '{"type": "workflow_started", "x": ' + '{"a": ' * 100_000 + "1" + "}" * 100_001,
            "application/json",
        ),
        ("[" * 100_000 + "]" * 100_000 + "\n", "application/x-ndjson"),
    ],
    ids=["array", "object", "ndjson"],
)
def test_deeply_nested_json_is_400_not_500(shared_app, body, content_type):
    response = shared_app.post_events(body, content_type=content_type)
    assert response.status_code == 400
    assert "nested too deeply" in response.json()["message"]


def half_sent(exporter, body: bytes) -> socket.socket:
    """A connection that sent an ingest request's headers and the first 5 bytes of its
    body, and holds the rest (the caller sends ``body[5:]``, or not); 10 s socket timeout."""
    connection = socket.create_connection(("127.0.0.1", exporter.port), timeout=10)
    connection.sendall(
        b"POST /api/v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        + f"Content-Length: {len(body)}\r\n\r\n".encode()
        + body[:5]
    )
    return connection


def read_reply(connection: socket.socket) -> bytes:
    """One whole HTTP reply, headers and body, however the server split it into segments."""
    reply = b""
    while b"\r\n\r\n" not in reply:
        reply += connection.recv(4096)
    head, _, body = reply.partition(b"\r\n\r\n")
    length = int(
        next(
            line.split(b":", 1)[1]
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        )
    )
    while len(body) < length:
        body += connection.recv(4096)
    return head + b"\r\n\r\n" + body


def refused_while_held(exporter, held: socket.socket) -> requests.Response | None:
    """A second ingest's 503 while ``held`` waits for the rest of its body; None when the
    held request was refused itself (a probe's request reached the event loop first)."""

    def probe() -> list:
        if select.select([held], [], [], 0)[0]:  # the held one got its answer: a 503
            return [None]
        # a list, because a requests.Response with a 5xx status is falsy
        return [r for r in [exporter.post_events(started(unique("other")))] if r.status_code == 503]

    [refused] = wait_until(probe, 15, "a second ingest to be refused while the first is held")
    return refused


def test_ingest_past_max_concurrent_ingest_is_503_until_a_slot_frees(start_app):
    exporter = start_app("max_concurrent_ingest: 1\n")
    held_body = json.dumps(started("held")).encode()
    for _ in range(3):  # again when a probe reached the loop first and the held one got 503
        held = half_sent(exporter, held_body)
        refused = refused_while_held(exporter, held)
        if refused is not None:
            break
        held.close()
    with held:
        assert refused is not None, "the held request kept its slot in one of three tries"
        assert "max_concurrent_ingest" in refused.json()["message"]
        assert refused.headers["Retry-After"] == "1"
        held.sendall(held_body[5:])
        assert read_reply(held).startswith(b"HTTP/1.1 202")
    assert exporter.post_events(started(unique("after"))).status_code == 202
    get = exporter.sample_getter()
    assert get("autobot_exporter_events_rejected_total", reason="too_many_requests") >= 1


def test_a_stalled_body_is_408_after_ingest_read_timeout(start_app):
    exporter = start_app("ingest_read_timeout: 500ms\n")
    with half_sent(exporter, json.dumps(started("stalled")).encode()) as stalled:
        reply = read_reply(stalled)  # the socket's 10 s timeout is the test's deadline
    assert reply.startswith(b"HTTP/1.1 408")
    assert b"ingest_read_timeout (0.5s)" in reply
    get = exporter.sample_getter()
    assert get("autobot_exporter_events_rejected_total", reason="read_timeout") == 1
    assert get("autobot_workflows_started_total", complexity="unknown") is None
