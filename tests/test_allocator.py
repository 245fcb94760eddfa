"""glibc's malloc thresholds (exporter/allocator.py): the buffers of a request come from
the heap instead of pages mapped afresh for each; an environment that tunes malloc itself
is left alone."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from exporter.allocator import ENVIRONMENT_SETTINGS, tune_malloc
from tests.support.processes import Exporter

CONNECTIONS = 4
WARM_UP_BATCHES = 20
MEASURED_BATCHES = 80


BATCH_BODY = json.dumps(
    [
        {
            "type": "workflow_started",
            "workflow_id": f"allocator-{index:04d}",
            "complexity": "allocator",
            "event_id": f"allocator-{index:04d}-started",
        }
        for index in range(1000)
    ]
).encode()
"""1,000 events, about 150 KB: each read of it fills asyncio's socket buffers. Sent again
and again, its events are repeats after the first time, so the exporter's memories do not
grow (which would fault in pages too): what faults is the request's own buffers."""


def minor_faults(pid: int) -> int:
    """Page faults served without I/O so far (``/proc/PID/stat``'s tenth field)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(") ", 1)[1].split()
    return int(fields[7])


def post_batches(exporter: Exporter, count: int) -> None:
    """``count`` batches, CONNECTIONS at a time, as the load of docs/performance.md."""
    with ThreadPoolExecutor(CONNECTIONS) as pool, requests.Session() as session:
        adapter = requests.adapters.HTTPAdapter(pool_connections=1, pool_maxsize=CONNECTIONS)
        session.mount("http://", adapter)
        url = exporter.url + "/api/v1/events"
        headers = {"Content-Type": "application/json"}
        for reply in pool.map(
            lambda _: session.post(url, data=BATCH_BODY, headers=headers, timeout=30),
            range(count),
        ):
            assert reply.status_code == 202, reply.text


def faults_per_batch(exporter: Exporter) -> float:
    """Minor page faults per 1,000-event batch, once the server is warm."""
    post_batches(exporter, WARM_UP_BATCHES)
    before = minor_faults(exporter.process.pid)
    post_batches(exporter, MEASURED_BATCHES)
    return (minor_faults(exporter.process.pid) - before) / MEASURED_BATCHES


def test_request_buffers_come_from_the_heap_not_fresh_pages(start_exporter):
    tuned = start_exporter()
    # glibc's initial threshold, held (it moves up only after some frees, which this
    # load does not always bring about)
    mapped = "GLIBC_TUNABLES=glibc.malloc.mmap_threshold=131072"
    untuned = start_exporter(wrapper=("env", mapped))
    assert "malloc: blocks up to 1 MiB from the heap" in tuned.log_text()
    assert "malloc as the environment sets it (GLIBC_TUNABLES)" in untuned.log_text()
    tuned_faults, untuned_faults = faults_per_batch(tuned), faults_per_batch(untuned)
    # every socket buffer mapped afresh: tens of faults a batch
    assert untuned_faults > 10 * max(tuned_faults, 1.0), (tuned_faults, untuned_faults)
    assert tuned_faults < 5, tuned_faults


@pytest.mark.parametrize("setting", ENVIRONMENT_SETTINGS)
def test_malloc_tuned_through_the_environment_is_left_alone(setting):
    assert tune_malloc({setting: "1"}) == f"malloc as the environment sets it ({setting})"


def test_glibc_takes_the_thresholds():
    assert tune_malloc({}).startswith("malloc: blocks up to 1 MiB from the heap")
