"""Connections against the real process: web.max_connections closes silent connections
first, so clients that have sent a request keep theirs; a request that cannot be parsed
gets a JSON 400; the cap fits the open-files limit."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from tests.support.processes import Exporter
from tests.support.sockets import closed_by_peer

pytestmark = pytest.mark.e2e

CAP = 20


def http_get(connection: socket.socket, path: str) -> bytes:
    """One keep-alive GET on an open connection; the whole response (Content-Length body)."""
    connection.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    data = b""
    while b"\r\n\r\n" not in data:
        data += connection.recv(65536)
    head, body = data.split(b"\r\n\r\n", 1)
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    while len(body) < length:
        body += connection.recv(65536)
    return head + b"\r\n\r\n" + body


@contextmanager
def connections(port: int, count: int) -> Iterator[list[socket.socket]]:
    opened = [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(count)]
    try:
        yield opened
    finally:
        for connection in opened:
            connection.close()


def metric(connection: socket.socket, line_start: str) -> float:
    text = http_get(connection, "/metrics").decode()
    return float(
        next(line for line in text.splitlines() if line.startswith(line_start)).split()[-1]
    )


def test_at_the_cap_silent_connections_go_first_and_clients_keep_theirs(start_exporter):
    exporter: Exporter = start_exporter(f"web: {{max_connections: {CAP}, idle_timeout: 60s}}\n")
    with connections(exporter.port, 1) as [prometheus]:
        already_open = int(metric(prometheus, "autobot_exporter_open_connections"))
        with (
            connections(exporter.port, CAP - already_open) as silent,  # the cap is now reached
            connections(exporter.port, 5),  # each one past the cap
        ):
            # each newcomer closed the oldest silent connection, not the client's
            assert all(closed_by_peer(c) for c in silent[:5])
            assert not any(closed_by_peer(c, within=0.2) for c in silent[5:])
            dropped = 'autobot_exporter_connections_dropped_total{connection="unproven"}'
            assert metric(prometheus, dropped) == 5
            assert metric(prometheus, "autobot_exporter_open_connections") == CAP
            # a new scrape connection takes the place of a silent one and is answered
            with connections(exporter.port, 1) as [scrape]:
                assert http_get(scrape, "/metrics").startswith(b"HTTP/1.1 200")
            assert closed_by_peer(silent[5])
    log = exporter.log_text()
    assert "web.max_connections (20) reached: closed the oldest one that had not sent" in log
    assert sum("web.max_connections" in line for line in log.splitlines()) == 1, "bounded log"


def test_when_every_connection_has_sent_a_request_the_new_one_is_closed(start_exporter):
    exporter = start_exporter(f"web: {{max_connections: {CAP}, idle_timeout: 60s}}\n")
    with connections(exporter.port, 1) as [first]:
        already_open = int(metric(first, "autobot_exporter_open_connections"))
        with connections(exporter.port, CAP - already_open) as others:
            for client in others:
                assert http_get(client, "/-/healthy").startswith(b"HTTP/1.1 200")
            with connections(exporter.port, 1) as [newcomer]:
                assert closed_by_peer(newcomer)
            dropped = 'autobot_exporter_connections_dropped_total{connection="new"}'
            assert metric(first, dropped) == 1
            for client in (first, *others):
                assert http_get(client, "/-/healthy").startswith(b"HTTP/1.1 200")


def test_a_request_that_cannot_be_parsed_gets_a_json_400_naming_the_cause(start_exporter):
    exporter = start_exporter()
    many_headers = b"GET / HTTP/1.1\r\nHost: x\r\n" + b"X-Filler: y\r\n" * 40 + b"\r\n"
    with connections(exporter.port, 1) as [connection]:
        connection.sendall(many_headers)
        response = read_until_closed(connection)
    head, body = response.split(b"\r\n\r\n", 1)
    assert head.split(b" ", 2)[1] == b"400", head
    assert b"Content-Type: application/json" in head
    reply = json.loads(body)
    assert reply["success"] is False
    assert reply["message"].startswith("bad HTTP request: "), reply
    assert "header" in reply["message"].lower(), reply


def read_until_closed(connection: socket.socket) -> bytes:
    """Everything the peer sends before it closes (it closes after an error reply)."""
    connection.settimeout(10)
    received = b""
    while chunk := connection.recv(65536):
        received += chunk
    return received


def test_the_cap_is_lowered_to_fit_the_open_files_limit(start_exporter):
    exporter = start_exporter(wrapper=("prlimit", "--nofile=200:200"))
    assert "web.max_connections lowered from 1024 to 136: the open files limit is 200" in (
        exporter.log_text()
    )
