"""``autobot-exporter demo``: a simulated AutoBot workload pushed through the asyncio
client, so every dashboard panel moves within a minute.

Workflows of each complexity run concurrently; agents have their own latency and failure
profiles; some workflows wait for an approval; now and then one never finishes (it shows
up as abandoned after workflow_ttl). ``--speed`` divides every simulated wait.
"""

from __future__ import annotations

import asyncio
import random
import sys
import time
from dataclasses import dataclass

from autobot_exporter_client import AsyncMetricsClient


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


async def run_workflow(
    client: AsyncMetricsClient, rng: random.Random, number: int, speed: float, progress: Progress
) -> None:
    complexity = rng.choice(tuple(COMPLEXITIES))
    profile = COMPLEXITIES[complexity]
    agents = [rng.choice(profile.agents) for _ in range(rng.randint(*profile.steps))]
    workflow_id = f"demo-{int(time.time())}-{number}"
    client.start_workflow_tracking(
        workflow_id,
        {
            "complexity": complexity,
            "user_message": f"demo request {number}",
            "total_steps": len(agents),
            "agents_involved": sorted(set(agents)),
        },
    )
    progress.started += 1
    failed = False
    for step_number, agent in enumerate(agents):
        timing = AGENTS[agent]
        step_id = f"step-{step_number}"
        client.start_step_timing(workflow_id, step_id, agent)
        await asyncio.sleep(rng.uniform(timing.fastest_seconds, timing.slowest_seconds) / speed)
        success = rng.random() >= timing.failure_ratio
        client.end_step_timing(
            workflow_id,
            step_id,
            success=success,
            error=None if success else rng.choice(ERROR_TYPES),
        )
        failed = failed or not success
        if step_number == 0 and rng.random() < profile.approval_ratio:
            client.request_approval(workflow_id)
            await asyncio.sleep(rng.uniform(2.0, 40.0) / speed)
            outcome = rng.choices(("approved", "denied", "timeout"), (0.8, 0.15, 0.05))[0]
            client.resolve_approval(workflow_id, outcome)
            if outcome != "approved":
                client.end_workflow_tracking(workflow_id, "cancelled")
                progress.finished += 1
                return
    if rng.random() < NEVER_FINISH_RATIO:
        progress.abandoned += 1
        return
    status = "failed" if failed else "cancelled" if rng.random() < CANCEL_RATIO else "completed"
    client.end_workflow_tracking(workflow_id, status)
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


def _report(progress: Progress, client: AsyncMetricsClient, elapsed: float, final: bool) -> None:
    stats = client.stats
    line = (
        f"{elapsed:5.0f}s  workflows started {progress.started}  finished {progress.finished}"
        f"  running {progress.running}  never finishing {progress.abandoned}"
        f"  events sent {stats.delivered}  pending {client.pending}  dropped {stats.dropped}"
    )
    if sys.stderr.isatty():
        print(f"\r{line}  ", end="\n" if final else "", file=sys.stderr, flush=True)
    else:
        print(line, file=sys.stderr, flush=True)


async def _report_every_second(progress: Progress, client: AsyncMetricsClient) -> None:
    began = time.monotonic()
    while True:
        await asyncio.sleep(1.0)
        _report(progress, client, time.monotonic() - began, final=False)


async def run_demo(options: DemoOptions) -> Progress:
    """Start workflows for the duration, then let the running ones finish and flush."""
    rng = random.Random(options.seed)
    progress = Progress()
    tasks: set[asyncio.Task] = set()
    async with AsyncMetricsClient(options.url, token=options.token) as client:
        began = time.monotonic()
        reporter = asyncio.create_task(_report_every_second(progress, client))
        number = 0
        while options.duration <= 0 or time.monotonic() - began < options.duration:
            task = asyncio.create_task(run_workflow(client, rng, number, options.speed, progress))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            number += 1
            await asyncio.sleep(rng.expovariate(options.rate))
        if tasks:
            await asyncio.wait(tasks)
        await client.flush(timeout=30)
        reporter.cancel()
        _report(progress, client, time.monotonic() - began, final=True)
    return progress
