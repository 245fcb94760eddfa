"""Fixtures that start real processes and always stop them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support.processes import Alertmanager, Exporter, ManagedProcess, Prometheus


@pytest.fixture
def process_reaper() -> Iterator[list[ManagedProcess]]:
    started: list[ManagedProcess] = []
    yield started
    for process in reversed(started):
        process.stop()


@pytest.fixture
def start_exporter(tmp_path: Path, process_reaper: list[ManagedProcess]) -> Callable[..., Exporter]:
    """start_exporter(config_text="", extra_args=(), port=None) -> a running exporter."""

    def start(
        config_text: str = "", extra_args: tuple[str, ...] = (), port: int | None = None
    ) -> Exporter:
        exporter = Exporter(tmp_path, config_text, extra_args, port)
        process_reaper.append(exporter)
        return exporter

    return start


@pytest.fixture
def start_prometheus(
    tmp_path: Path, process_reaper: list[ManagedProcess]
) -> Callable[..., Prometheus]:
    """start_prometheus(targets, rule_files=(), alertmanagers=()) -> a real Prometheus."""

    def start(
        targets: list[str], rule_files: tuple[Path, ...] = (), alertmanagers: tuple[str, ...] = ()
    ) -> Prometheus:
        prometheus = Prometheus(tmp_path, targets, rule_files, alertmanagers)
        process_reaper.append(prometheus)
        return prometheus

    return start


@pytest.fixture
def start_alertmanager(
    tmp_path: Path, process_reaper: list[ManagedProcess]
) -> Callable[..., Alertmanager]:
    """start_alertmanager(config: dict) -> a real Alertmanager."""

    def start(config: dict) -> Alertmanager:
        alertmanager = Alertmanager(tmp_path, config)
        process_reaper.append(alertmanager)
        return alertmanager

    return start


@pytest.fixture(scope="module")
def shared_exporter(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Exporter]:
    """One exporter for a module's read-mostly tests (each test uses its own workflow ids)."""
    exporter = Exporter(tmp_path_factory.mktemp("shared-exporter"))
    yield exporter
    exporter.stop()
