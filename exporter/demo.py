"""``autobot-exporter demo``: a simulated AutoBot workload pushed to an exporter, so every
dashboard panel moves within a minute.

Workflows of each complexity run concurrently; agents have their own latency and failure
profiles; some workflows wait for an approval; now and then one never finishes (it shows
up as abandoned after workflow_ttl). ``--speed`` divides every simulated wait. When the
duration is over, the workflows still running finish their remaining steps at once, so a
run takes about its duration.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import random
import sys
import time
from dataclasses import dataclass

from exporter.demo_spans import SpanQueue
from exporter.event_sender import EventSender


@dataclass(frozen=True)
class AgentProfile:
    fastest_seconds: float
    slowest_seconds: float
    failure_ratio: float


@dataclass(frozen=True)
class ComplexityProfile:
    steps: tuple[int, int]
    approval_ratio: float
    agents: tuple[str, ...]


AGENTS = {
    "classifier": AgentProfile(0.05, 0.4, 0.01),
    "research": AgentProfile(1.0, 12.0, 0.08),
    "librarian": AgentProfile(0.3, 3.0, 0.04),
    "system_commands": AgentProfile(0.5, 8.0, 0.12),
    "orchestrator": AgentProfile(0.1, 1.0, 0.02),
}
COMPLEXITIES = {
    "simple": ComplexityProfile((1, 2), 0.0, ("classifier", "orchestrator")),
    "research": ComplexityProfile((2, 4), 0.1, ("classifier", "research", "librarian")),
    "install": ComplexityProfile((3, 5), 0.6, ("classifier", "system_commands", "orchestrator")),
    "complex": ComplexityProfile((4, 7), 0.3, tuple(AGENTS)),
}
ERROR_TYPES = ("Timeout", "LLMError", "ToolError", "RateLimited")
NEVER_FINISH_RATIO = 0.02
CANCEL_RATIO = 0.03


@dataclass
class Progress:
    started: int = 0
    finished: int = 0
    abandoned: int = 0

    @property
    def running(self) -> int:
        return self.started - self.finished - self.abandoned


class Clock:
    """Simulated waits, cut short once the demo's duration is over."""

    def __init__(self, speed: float) -> None:
        self._speed = speed
        self.over = asyncio.Event()

    async def wait(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.over.wait(), seconds / self._speed)


async def run_workflow(
    sender: EventSender,
    spans: SpanQueue,
    rng: random.Random,
    *,
    number: int,
    clock: Clock,
    progress: Progress,
) -> None:
    began = time.time()
    trace_id = spans.new_trace()
    complexity = rng.choice(tuple(COMPLEXITIES))
    profile = COMPLEXITIES[complexity]
    agents = [rng.choice(profile.agents) for _ in range(rng.randint(*profile.steps))]
    workflow_id = f"demo-{int(time.time())}-{number}"
    sender.record(
        "workflow_started",
        workflow_id,
        complexity=complexity,
        user_message=f"demo request {number}",
        total_steps=len(agents),
        agents_involved=sorted(set(agents)),
    )
    progress.started += 1
    failed = False
    for step_number, agent in enumerate(agents):
        timing = AGENTS[agent]
        step_id = f"step-{step_number}"
        sender.record("step_started", workflow_id, step_id=step_id, agent=agent)
        step_began = time.time()
        await clock.wait(rng.uniform(timing.fastest_seconds, timing.slowest_seconds))
        success = rng.random() >= timing.failure_ratio
        spans.step(trace_id, agent, step_began, success)
        error = {} if success else {"error_type": rng.choice(ERROR_TYPES)}
        sender.record(
            "step_finished",
            workflow_id,
            step_id=step_id,
            agent=agent,
            success=success,
            trace_id=trace_id,
            **error,
        )
        failed = failed or not success
        if step_number == 0 and rng.random() < profile.approval_ratio:
            sender.record("approval_requested", workflow_id)
            await clock.wait(rng.uniform(2.0, 40.0))
            outcome = rng.choices(("approved", "denied", "timeout"), (0.8, 0.15, 0.05))[0]
            sender.record("approval_resolved", workflow_id, outcome=outcome)
            if outcome != "approved":
                spans.request(trace_id, began, failed=False)
                sender.record(
                    "workflow_finished", workflow_id, status="cancelled", trace_id=trace_id
                )
                progress.finished += 1
                return
    if rng.random() < NEVER_FINISH_RATIO:
        progress.abandoned += 1
        return
    status = "failed" if failed else "cancelled" if rng.random() < CANCEL_RATIO else "completed"
    spans.request(trace_id, began, failed)
    sender.record("workflow_finished", workflow_id, status=status, trace_id=trace_id)
    progress.finished += 1


@dataclass(frozen=True)
class DemoOptions:
    url: str
    rate: float
    """Workflows started per second."""
    duration: float
    """Seconds to keep starting workflows; 0 for ever."""
    speed: float = 1.0
    seed: int | None = None
    token: str | None = None


def _report(progress: Progress, sender: EventSender, elapsed: float, final: bool) -> None:
    stats = sender.stats
    line = (
        f"{elapsed:5.0f}s  workflows started {progress.started}  finished {progress.finished}"
        f"  running {progress.running}  never finishing {progress.abandoned}"
        f"  events sent {stats.delivered}  pending {sender.pending}  dropped {stats.dropped}"
    )
    if sys.stderr.isatty():
        print(f"\r{line}  ", end="\n" if final else "", file=sys.stderr, flush=True)
    else:
        print(line, file=sys.stderr, flush=True)


async def _report_every_second(progress: Progress, sender: EventSender) -> None:
    began = time.monotonic()
    while True:
        await asyncio.sleep(1.0)
        _report(progress, sender, time.monotonic() - began, final=False)


async def run_demo(options: DemoOptions) -> Progress:
    """Start workflows for the duration, then finish the running ones at once and flush."""
    rng = random.Random(options.seed)
    progress = Progress()
    clock = Clock(options.speed)
    tasks: set[asyncio.Task] = set()
    began = time.monotonic()
    spans = SpanQueue(rng)
    async with EventSender(options.url, token=options.token, spans=spans) as sender:
        reporter = asyncio.create_task(_report_every_second(progress, sender))
        deadline = began + options.duration if options.duration > 0 else math.inf
        number = 0
        while (now := time.monotonic()) < deadline:
            task = asyncio.create_task(
                run_workflow(sender, spans, rng, number=number, clock=clock, progress=progress)
            )
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            number += 1
            await asyncio.sleep(min(rng.expovariate(options.rate), deadline - now))
        clock.over.set()
        if tasks:
            await asyncio.wait(tasks)
        reporter.cancel()
    _report(progress, sender, time.monotonic() - began, final=True)
    return progress
