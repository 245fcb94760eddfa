"""A reproducible mixed AutoBot workload and the exact metric values it must produce.

Several complexities and agents, failing steps, approvals, steps timed by their start and
finish or by an explicit duration, workflows that never finish, events resent with the
same event_id, and a share of workflows whose events arrive in a shuffled order.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

COMPLEXITIES = ("simple", "research", "install", "complex")
AGENTS = {
    "classifier": (0.05, 0.4),
    "research": (1.0, 25.0),
    "librarian": (0.2, 4.0),
    "system_commands": (0.5, 12.0),
    "orchestrator": (0.1, 1.5),
}
ERROR_TYPES = ("Timeout", "LLMError", "ToolError", "ValidationError")
OUTCOMES = ("approved", "denied", "timeout")

Event = dict[str, Any]


@dataclass
class Expected:
    started: Counter = field(default_factory=Counter)
    finished: Counter = field(default_factory=Counter)
    active: Counter = field(default_factory=Counter)
    step_durations: Counter = field(default_factory=Counter)
    step_errors: Counter = field(default_factory=Counter)
    approvals: Counter = field(default_factory=Counter)
    approvals_pending: int = 0
    events: Counter = field(default_factory=Counter)
    duplicates: int = 0
    finished_workflows: dict[str, dict[str, Any]] = field(default_factory=dict)
    unfinished_workflows: list[str] = field(default_factory=list)


@dataclass
class Workload:
    events: list[Event]
    expected: Expected


def _workflow_events(
    rng: random.Random, workflow_id: str, start: float, expected: Expected
) -> list[Event]:
    complexity = rng.choice(COMPLEXITIES)
    agents = rng.sample(sorted(AGENTS), k=rng.randint(1, 4))
    steps = [rng.choice(agents) for _ in range(rng.randint(1, 6))]
    events: list[Event] = [
        {
            "type": "workflow_started",
            "workflow_id": workflow_id,
            "ts": start,
            "complexity": complexity,
            "user_message": f"please handle task {workflow_id}",
            "total_steps": len(steps),
            "agents_involved": agents,
        }
    ]
    expected.started[complexity] += 1
    now = start
    failed = completed = 0
    for number, agent in enumerate(steps):
        step_id = f"step-{number}"
        low, high = AGENTS[agent]
        duration = round(rng.uniform(low, high), 3)
        success = rng.random() > 0.12
        finish: Event = {
            "type": "step_finished",
            "workflow_id": workflow_id,
            "step_id": step_id,
            "success": success,
            "ts": now + duration,
        }
        if rng.random() < 0.3:
            finish |= {"agent": agent, "duration_seconds": duration}
        else:
            events.append(
                {
                    "type": "step_started",
                    "workflow_id": workflow_id,
                    "step_id": step_id,
                    "agent": agent,
                    "ts": now,
                }
            )
        if not success:
            finish["error_type"] = rng.choice(ERROR_TYPES)
            expected.step_errors[(agent, finish["error_type"])] += 1
        events.append(finish)
        expected.step_durations[(agent, "success" if success else "failure")] += 1
        failed += not success
        completed += success
        now += duration
    finishes = rng.random() > 0.04
    if rng.random() < 0.3:
        wait = round(rng.uniform(2, 900), 3)
        events.append({"type": "approval_requested", "workflow_id": workflow_id, "ts": now})
        if finishes:
            outcome = rng.choice(OUTCOMES)
            resolved: Event = {
                "type": "approval_resolved",
                "workflow_id": workflow_id,
                "outcome": outcome,
                "ts": now + wait,
            }
            if rng.random() < 0.25:
                resolved["wait_seconds"] = wait
            events.append(resolved)
            expected.approvals[outcome] += 1
            now += wait
        else:
            expected.approvals_pending += 1
    if rng.random() < 0.1:
        events.append(
            {
                "type": "resource_sample",
                "workflow_id": workflow_id,
                "ts": now,
                "data": {"cpu_percent": rng.uniform(1, 90), "memory_mb": 512},
            }
        )
    if not finishes:
        expected.active[complexity] += 1
        expected.unfinished_workflows.append(workflow_id)
        return events
    status = "failed" if failed and rng.random() < 0.7 else "completed"
    if rng.random() < 0.05:
        status = rng.choice(("cancelled", "timeout"))
    events.append(
        {
            "type": "workflow_finished",
            "workflow_id": workflow_id,
            "status": status,
            "ts": now + 0.01,
        }
    )
    expected.finished[(complexity, status)] += 1
    expected.finished_workflows[workflow_id] = {
        "status": status,
        "complexity": complexity,
        "completed_steps": completed,
        "failed_steps": failed,
        "total_duration_ms": round((now + 0.01 - start) * 1000, 3),
    }
    return events


def build_workload(
    workflows: int, seed: int = 7, shuffled_share: float = 0.15, duplicate_share: float = 0.05
) -> Workload:
    """Events of ``workflows`` workflows, interleaved, with ids unique to ``seed``."""
    rng = random.Random(seed)
    expected = Expected()
    base = time.time() - 3600
    per_workflow: list[list[Event]] = []
    for number in range(workflows):
        workflow_id = f"wf-{seed}-{number}"
        events = _workflow_events(rng, workflow_id, base + number * 0.5, expected)
        for position, event in enumerate(events):
            event["event_id"] = f"{workflow_id}-e{position}"
        if rng.random() < shuffled_share:
            rng.shuffle(events)
        per_workflow.append(events)
    stream: list[Event] = []
    while per_workflow:
        index = rng.randrange(len(per_workflow))
        stream.append(per_workflow[index].pop(0))
        if not per_workflow[index]:
            per_workflow[index] = per_workflow[-1]
            per_workflow.pop()
    for event in stream:
        expected.events[event["type"]] += 1
    resend_after: dict[int, list[Event]] = {}
    resent = rng.sample(range(len(stream)), k=int(len(stream) * duplicate_share))
    for original in resent:
        resend_after.setdefault(rng.randrange(original, len(stream)), []).append(
            dict(stream[original])
        )
    with_duplicates: list[Event] = []
    for position, event in enumerate(stream):
        with_duplicates.append(event)
        with_duplicates.extend(resend_after.get(position, ()))
    expected.duplicates = len(resent)
    return Workload(events=with_duplicates, expected=expected)


def batches(events: list[Event], rng: random.Random, largest: int = 400) -> list[list[Event]]:
    """Split the stream into batches of varied size, keeping the order."""
    result, position = [], 0
    while position < len(events):
        size = rng.choice((1, 1, 5, 50, largest))
        result.append(events[position : position + size])
        position += size
    return result
