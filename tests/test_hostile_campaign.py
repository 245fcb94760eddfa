"""A seeded hostile-input campaign against the real process, interleaved with valid
traffic, while a real Prometheus scrapes OpenMetrics every second. Bounded in count and
time, loopback only. It reports requests by kind, 5xx (must be 0), log lines written,
RSS before and after, and checks the valid traffic is counted exactly and ``up`` never
drops to 0.

    ./run-tests.sh tests/test_hostile_campaign.py -s    # prints the report
"""

from __future__ import annotations

import gzip
import json
import random
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import psutil
import requests

from tests.support.processes import Exporter, wait_until

SEED = 14
PER_KIND = 40
TOKEN = "campaign-token"
CONFIG = "max_body_bytes: 65536\ningest_read_timeout: 1s\nmax_label_values: 16\n"
VALID_WORKFLOWS = 400

Attack = Callable[[Exporter, random.Random], int]
"""Sends one hostile request; returns the HTTP status (0: connection closed, no answer)."""


def _post(exporter: Exporter, body: bytes, **headers: str) -> int:
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}", **headers}
    return requests.post(
        exporter.url + "/api/v1/events", data=body, headers=headers, timeout=10
    ).status_code


def _raw(exporter: Exporter, payload: bytes, linger: float = 0.0) -> int:
    with socket.create_connection(("127.0.0.1", exporter.port), timeout=10) as connection:
        connection.sendall(payload)
        if linger:
            time.sleep(linger)
            return 0  # the client goes away mid-body
        reply = connection.recv(64)
    return int(reply.split()[1]) if reply.startswith(b"HTTP/") else 0


def _event(rng: random.Random) -> dict:
    return {"type": "workflow_started", "workflow_id": f"h-{rng.getrandbits(40):x}"}


ATTACKS: dict[str, Attack] = {
    "not JSON": lambda e, r: _post(e, b"{" + r.randbytes(200)),
    "wrong content type": lambda e, r: _post(e, b"a=b", **{"Content-Type": "text/plain"}),
    "no token": lambda e, r: _post(e, json.dumps(_event(r)).encode(), Authorization="Bearer x"),
    "not gzip": lambda e, r: _post(e, r.randbytes(300), **{"Content-Encoding": "gzip"}),
    "truncated gzip": lambda e, r: _post(
        e, gzip.compress(json.dumps(_event(r)).encode())[:-9], **{"Content-Encoding": "gzip"}
    ),
    "unknown encoding": lambda e, r: _post(
        e, r.randbytes(50), **{"Content-Encoding": r.choice(["br", "zstd", "compress"])}
    ),
    "too large": lambda e, r: _post(e, b"[" + b'{"type": "x"},' * 6000 + b"{}]"),
    "gzip bomb": lambda e, r: _post(
        e, gzip.compress(b"[" + b" " * 5_000_000 + b"]"), **{"Content-Encoding": "gzip"}
    ),
    "deep nesting": lambda e, r: _post(e, b"[" * 30_000 + b"]" * 30_000),
    "schema violations": lambda e, r: _post(
        e, json.dumps([{"type": "step_finished", "workflow_id": "", "success": "no"}] * 50).encode()
    ),
    "control characters": lambda e, r: _post(
        e, json.dumps({"type": "workflow_started", "workflow_id": "a\u0000b"}).encode()
    ),
    "label flood": lambda e, r: _post(
        e,
        json.dumps(
            [{**_event(r), "complexity": f"c{r.getrandbits(32)}"} for _ in range(20)]
        ).encode(),
    ),
    "bad request line": lambda e, r: _raw(e, r.randbytes(40) + b"\r\n\r\n"),
    "too many headers": lambda e, r: _raw(
        e, b"GET /metrics HTTP/1.1\r\n" + b"X-A: b\r\n" * 100 + b"\r\n"
    ),
    "gone mid-body": lambda e, r: _raw(
        e,
        b"POST /api/v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        + f"Authorization: Bearer {TOKEN}\r\nContent-Length: 500\r\n\r\n[".encode(),
        linger=0.01,
    ),
    "stalled body": lambda e, r: _raw(
        e,
        b"POST /api/v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        + f"Authorization: Bearer {TOKEN}\r\nContent-Length: 500\r\n\r\n[".encode(),
    ),
    "bad query": lambda e, r: (
        requests.get(
            e.url + "/api/metrics/performance/summary",
            params={"time_window_hours": r.choice(["-1", "x", "1e9", "169"])},
            timeout=10,
        ).status_code
    ),
    "unknown route": lambda e, r: (
        requests.get(e.url + f"/api/{r.getrandbits(32):x}", timeout=10).status_code
    ),
}


def _valid_traffic(exporter: Exporter, done: threading.Event) -> int:
    """Whole workflows, posted while the campaign runs; returns how many were posted."""
    session = requests.Session()
    session.headers.update({"Authorization": f"Bearer {TOKEN}"})
    for number in range(VALID_WORKFLOWS):
        workflow_id = f"valid-{number}"
        events = [
            {"type": "workflow_started", "workflow_id": workflow_id, "complexity": "valid"},
            {
                "type": "step_finished",
                "workflow_id": workflow_id,
                "step_id": "s",
                "agent": "a",
                "success": True,
                "duration_seconds": 1.5,
            },
            {"type": "workflow_finished", "workflow_id": workflow_id, "status": "completed"},
        ]
        reply = session.post(exporter.url + "/api/v1/events", json=events, timeout=10)
        assert reply.status_code == 202, reply.text
    done.set()
    return VALID_WORKFLOWS


def test_hostile_campaign(tmp_path, start_exporter, start_prometheus):
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN)
    exporter = start_exporter(CONFIG + f"ingest_token_file: {token_file}\n")
    prometheus = start_prometheus([exporter.address])
    prometheus.wait_for_scalar("up", 1)
    rss_before = psutil.Process(exporter.process.pid).memory_info().rss
    rng = random.Random(SEED)
    plan = [kind for kind in ATTACKS for _ in range(PER_KIND)]
    rng.shuffle(plan)
    statuses: dict[str, Counter[int]] = {kind: Counter() for kind in ATTACKS}
    began = time.monotonic()
    done = threading.Event()
    with ThreadPoolExecutor(max_workers=8) as pool:
        valid = pool.submit(_valid_traffic, exporter, done)
        seeds = [rng.getrandbits(32) for _ in plan]
        for kind, status in zip(
            plan,
            pool.map(
                lambda job: (job[0], ATTACKS[job[0]](exporter, random.Random(job[1]))),
                zip(plan, seeds, strict=True),
            ),
            strict=True,
        ):
            statuses[kind][status[1]] += 1
        posted = valid.result()
    elapsed = time.monotonic() - began
    wait_until(lambda: prometheus.query("autobot_workflows_finished_total"), 10, "a scrape")
    prometheus.wait_for_scalar(
        'sum(autobot_workflows_finished_total{complexity="valid", status="completed"})', posted
    )
    prometheus.wait_for_scalar(f"min_over_time(up[{int(elapsed) + 5}s])", 1)
    rss_after = psutil.Process(exporter.process.pid).memory_info().rss
    log_lines = len(exporter.log_text().splitlines())
    server_errors = sum(
        n
        for counts in statuses.values()
        for status, n in counts.items()
        if status >= 500 and status != 503
    )
    print(
        f"\nhostile campaign: {len(plan)} requests in {len(ATTACKS)} kinds and "
        f"{posted} valid workflows in {elapsed:.1f} s (seed {SEED})"
    )
    for kind, counts in statuses.items():
        print(f"  {kind:20} {dict(sorted(counts.items()))}")
    print(
        f"  5xx: {server_errors}; log lines: {log_lines}; RSS {rss_before / 2**20:.1f} -> "
        f"{rss_after / 2**20:.1f} MiB; up never 0; valid workflows counted: {posted}"
    )
    assert server_errors == 0
    assert all(
        0 < status < 500
        for kind in ATTACKS
        if kind not in ("gone mid-body",)
        for status in statuses[kind]
    ), statuses
    assert log_lines < 40, exporter.log_text()
    assert rss_after - rss_before < 64 * 2**20
