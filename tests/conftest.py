"""Fixtures that start real processes (or the app in-process) and always stop them.

Tests that use a process fixture are marked ``e2e`` here, so ``pytest -m "not e2e"`` runs
the unit tests alone; modules that start processes themselves mark themselves."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support.in_process import InProcessExporter
from tests.support.podman import IMAGE, TOP, Podman
from tests.support.processes import (
    Alertmanager,
    Exporter,
    ManagedProcess,
    Prometheus,
    run_demo,
    run_exporter,
    wait_until,
)

PROCESS_FIXTURES = frozenset(
    {
        "podman",
        "process_reaper",
        "start_exporter",
        "start_prometheus",
        "start_alertmanager",
        "shared_exporter",
        "demo_stack",
    }
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if PROCESS_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture
def start_app() -> Iterator[Callable[..., InProcessExporter]]:
    """start_app(config_text="", auth=None) -> the app served in-process
    (support/in_process.py)."""
    started: list[InProcessExporter] = []

    def start(config_text: str = "", auth: tuple[str, str] | None = None) -> InProcessExporter:
        exporter = InProcessExporter(config_text, auth)
        started.append(exporter)
        return exporter

    yield start
    for exporter in reversed(started):
        exporter.stop()


@pytest.fixture(scope="module")
def shared_app() -> Iterator[InProcessExporter]:
    """One in-process exporter for a module's read-mostly tests (own workflow ids each)."""
    exporter = InProcessExporter()
    yield exporter
    exporter.stop()


@pytest.fixture(scope="session")
def podman(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Podman]:
    """Podman with private storage, the local Debian base image and the exporter's image
    (``IMAGE``) built from deploy/docker/Dockerfile; everything removed at the end."""
    engine = Podman(tmp_path_factory.mktemp("podman"))
    try:
        engine.make_base_image()
        engine.build(TOP, TOP / "deploy" / "docker" / "Dockerfile", IMAGE)
        yield engine
    finally:
        engine.reset()


@pytest.fixture
def process_reaper() -> Iterator[list[ManagedProcess]]:
    started: list[ManagedProcess] = []
    yield started
    for process in reversed(started):
        process.stop()


def _reaped(factory: Callable[..., ManagedProcess], reaper: list[ManagedProcess]) -> Callable:
    def start(*args: object, **kwargs: object) -> ManagedProcess:
        process = factory(*args, **kwargs)
        reaper.append(process)
        return process

    return start


@pytest.fixture
def start_exporter(tmp_path: Path, process_reaper: list[ManagedProcess]) -> Callable[..., Exporter]:
    """start_exporter(config_text="", extra_args=(), port=None) -> a running exporter."""
    return _reaped(functools.partial(Exporter, tmp_path), process_reaper)


@pytest.fixture
def start_prometheus(
    tmp_path: Path, process_reaper: list[ManagedProcess]
) -> Callable[..., Prometheus]:
    """start_prometheus(targets, rule_files=(), alertmanagers=()) -> a real Prometheus."""
    return _reaped(functools.partial(Prometheus, tmp_path), process_reaper)


@pytest.fixture
def start_alertmanager(
    tmp_path: Path, process_reaper: list[ManagedProcess]
) -> Callable[..., Alertmanager]:
    """start_alertmanager(config: dict) -> a real Alertmanager."""
    return _reaped(functools.partial(Alertmanager, tmp_path), process_reaper)


@pytest.fixture(scope="module")
def shared_exporter(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Exporter]:
    """One exporter for a module's read-mostly tests (each test uses its own workflow ids)."""
    exporter = Exporter(tmp_path_factory.mktemp("shared-exporter"))
    yield exporter
    exporter.stop()


# Thresholds lowered and for: shortened so an alert fires on any host; a short workflow_ttl
# so the demo's never-finishing workflows become abandoned while the test runs.
DEMO_STACK_CONFIG = """
collection_interval: 500ms
workflow_ttl: 3s
thresholds:
  disk: {critical: 0.01}
rules:
  alert_for: {AutoBotDiskUsageCritical: 1s, AutoBotDiskUsageWarning: 1s}
"""


@pytest.fixture(scope="session")
def demo_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Exporter, Prometheus]]:
    """The exporter, a Prometheus with the rules rendered from the exporter's config, a demo
    workload pushed through the client, one invalid event and an alert firing."""
    directory = tmp_path_factory.mktemp("demo-stack")
    exporter = Exporter(directory, DEMO_STACK_CONFIG)
    prometheus = None
    try:
        rules = directory / "rules.yml"
        rendered = run_exporter("rules", "--config.file", str(exporter.config_path))
        assert rendered.returncode == 0, rendered.stderr
        rules.write_text(rendered.stdout)
        prometheus = Prometheus(directory, [exporter.address], rule_files=(rules,))
        prometheus.wait_for_scalar("up", 1)
        demo = run_demo(exporter.url, duration=4, rate=25, speed=30, seed=11)
        assert demo.returncode == 0, demo.stderr
        assert exporter.post_events({"type": "no_such_event"}).status_code == 422
        left_open = {"type": "workflow_started", "workflow_id": "left-open", "complexity": "c"}
        assert exporter.post_events(left_open).status_code == 202
        # rates need two samples of a series, so wait for the rates, not the series
        for expr in (
            'ALERTS{alertstate="firing"}',
            'increase(autobot_workflows_finished_total{status="abandoned"}[1m])',
            "rate(autobot_exporter_events_rejected_total[1m])",
        ):
            wait_until(lambda expr=expr: prometheus.query(expr), 60, f"{expr} in Prometheus")
        yield exporter, prometheus
    finally:
        if prometheus is not None:
            prometheus.stop()
        exporter.stop()
