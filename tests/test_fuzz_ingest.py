"""Mutated and hostile bodies never get a 5xx, never stop the exporter, and leave /metrics
valid for promtool."""

from __future__ import annotations

import json
import random

from tests.support.promtool import check_metrics_problems
from tests.support.workload import build_workload

HOSTILE_VALUES = [
    None,
    True,
    -1,
    0,
    1e308,
    -1e308,
    "",
    "x" * 5000,
    "\x00",
    "line\nbreak",
    'quo"te',
    "\ud7ff\u2028",
    [],
    {},
    [[[[[]]]]],
    {"nested": {"deep": [1, 2, {"x": None}]}},
    3.5,
    "NaN",
]


def mutate(event: dict, rng: random.Random) -> dict:
    event = dict(event)
    for _ in range(rng.randint(1, 3)):
        key = rng.choice([*event, "type", "workflow_id", "ts", "extra", "data", "success"])
        if rng.random() < 0.2:
            event.pop(key, None)
        else:
            event[key] = rng.choice(HOSTILE_VALUES)
    return event


def test_hostile_bodies_never_get_a_server_error(start_app):
    exporter = start_app("max_label_values: 8\n")
    rng = random.Random(99)
    events = build_workload(60, seed=5).events
    statuses = set()
    for _ in range(400):
        batch = [mutate(rng.choice(events), rng) for _ in range(rng.randint(1, 5))]
        body = json.dumps(batch, allow_nan=False)
        if rng.random() < 0.2:
            cut = rng.randrange(len(body))
            body = body[:cut] + rng.choice(["", "\x00", "}", "[", "\\u", "\ud800"]) + body[cut:]
        response = exporter.post_events(body.encode("utf-8", "surrogatepass"))
        statuses.add(response.status_code)
        assert response.status_code < 500, (body, response.text)
        assert response.headers["Content-Type"].startswith("application/json")
    assert statuses >= {202, 422, 400}
    assert exporter.get("/-/healthy").status_code == 200
    assert check_metrics_problems(exporter.metrics_text()) == (0, "")


def test_hostile_ndjson_and_queries_never_get_a_server_error(start_app):
    exporter = start_app()
    rng = random.Random(7)
    events = build_workload(30, seed=6).events
    for _ in range(150):
        lines = [json.dumps(mutate(rng.choice(events), rng)) for _ in range(rng.randint(1, 4))]
        if rng.random() < 0.3:
            lines.insert(rng.randrange(len(lines) + 1), rng.choice(["{", "[]", "null", "  ", "1"]))
        response = exporter.post_events("\n".join(lines), content_type="application/x-ndjson")
        assert response.status_code < 500, response.text
    odd = ["", "0", "-1", "1e9", "abc", "%00", "9" * 40, "1.5", "../../etc", "\u00e9"]
    for _ in range(150):
        value = rng.choice(odd)
        path = rng.choice(
            [
                f"/api/metrics/workflow/{value or 'x'}",
                f"/api/metrics/performance/summary?time_window_hours={value}",
                f"/api/metrics/system/summary?minutes={value}",
                f"/api/metrics/export/workflow?format={value}",
                f"/api/metrics/export/system?format={value}",
            ]
        )
        response = exporter.get(path)
        assert response.status_code < 500, (path, response.text)
        assert response.headers["Content-Type"].startswith("application/json"), path
