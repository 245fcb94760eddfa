"""Installing as a user does: the README's run command on Debian's own Python in a clean
copy of the repository, and the client distribution alone in a fresh virtual environment.
Both install from the package index, as a new user's machine does."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import pytest
import requests

from tests.support.processes import free_port, parse_samples, sample_lookup, wait_until
from tests.support.repository import clean_copy

pytestmark = pytest.mark.e2e

TOP = Path(__file__).resolve().parents[1]
DEBIAN_PYTHON = Path("/usr/bin/python3")
INSTALL_TIMEOUT_SECONDS = 300.0
SERVER_ONLY_DISTRIBUTIONS = (
    "aiohttp",
    "bcrypt",
    "msgspec",
    "prometheus-client",
    "psutil",
    "PyYAML",
)


def readme_commands() -> tuple[str, str]:
    """The two commands at the top of README.md: the first fenced shell block's lines,
    comments stripped."""
    block = (TOP / "README.md").read_text().split("```sh\n", 1)[1].split("```", 1)[0]
    run, test = (line.split("#", 1)[0].strip() for line in block.strip().splitlines()[:2])
    return run, test


def test_the_readme_commands_are_the_scripts_ci_runs():
    run, test = readme_commands()
    assert run.startswith("./run-exporter.sh"), run
    assert test == "./run-tests.sh"
    assert "./run-tests.sh" in (TOP / ".ci" / "run").read_text()


def test_the_readme_run_command_serves_metrics_on_debians_own_python(tmp_path):
    stdlib = subprocess.run(
        [str(DEBIAN_PYTHON), "-c", "import sysconfig; print(sysconfig.get_path('stdlib'))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert (Path(stdlib) / "EXTERNALLY-MANAGED").exists(), "Debian's python3 refuses pip (PEP 668)"
    repository = clean_copy(tmp_path / "autobot-exporter")
    run, _ = readme_commands()
    port = free_port()
    # As pasted; only the port is chosen free, so the test never collides with a real one.
    command = f"{run} --web.listen-address=127.0.0.1:{port}"
    environment = {"PATH": f"{DEBIAN_PYTHON.parent}:/bin", "HOME": str(tmp_path)}
    with serving(command, repository, environment, port) as body:
        # editable: setup.py leaves it pure Python, so that an edit takes effect
        assert build_info(body)["compiled"] == "false", body
        venv = (repository / ".venv" / "pyvenv.cfg").read_text()
        assert f"home = {DEBIAN_PYTHON.parent}" in venv, "the venv is Debian's Python's"


def build_info(metrics_text: str) -> dict[str, str]:
    """The labels of autobot_exporter_build_info in a /metrics text."""
    (labels,) = (
        dict(labels)
        for name, labels in parse_samples(metrics_text)
        if name == "autobot_exporter_build_info"
    )
    return labels


@contextmanager
def serving(command: str, cwd: Path, environment: dict[str, str], port: int) -> Iterator[str]:
    """Runs a shell command that starts the exporter on ``port``; yields its /metrics text
    once it serves, and stops it (its whole process group) afterwards."""
    log_path = cwd / "serving.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            ["bash", "-c", command],
            cwd=cwd,
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:

            def answers() -> bool:
                assert process.poll() is None, log_path.read_text()
                return requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5).ok

            wait_until(answers, INSTALL_TIMEOUT_SECONDS, f"{command!r} to serve /metrics")
            yield requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
        finally:
            with suppress(ProcessLookupError):  # it may have stopped already
                os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=15)


def pipx_commands() -> list[str]:
    """The pipx block of docs/deployment/pip.md, as written there."""
    text = (TOP / "docs" / "deployment" / "pip.md").read_text()
    blocks = (b.split("```", 1)[0] for b in text.split("```sh\n")[1:])
    return next(b for b in blocks if "pipx install" in b).strip().splitlines()


def test_the_documented_pipx_install_serves_metrics(tmp_path):
    assert shutil.which("pipx"), "pipx missing: the README's test command installs it"
    repository = clean_copy(tmp_path / "autobot-exporter")
    bin_dir = tmp_path / "pipx-bin"
    environment = {
        "PATH": f"{bin_dir}:{DEBIAN_PYTHON.parent}:/bin",
        "HOME": str(tmp_path),
        "PIPX_HOME": str(tmp_path / "pipx"),
        "PIPX_BIN_DIR": str(bin_dir),
    }
    installed = subprocess.run(
        ["bash", "-e", "-c", "\n".join(pipx_commands())],
        cwd=repository,
        env=environment,
        capture_output=True,
        text=True,
        timeout=INSTALL_TIMEOUT_SECONDS,
        check=False,
    )
    assert installed.returncode == 0, installed.stdout + installed.stderr
    assert installed.stdout.strip().endswith("autobot-exporter 0.1.0"), installed.stdout
    port = free_port()
    command = f"autobot-exporter --web.listen-address=127.0.0.1:{port}"
    with serving(command, tmp_path, environment, port) as body:
        # a wheel built where gcc and Debian's Python headers are (./run-tests.sh installs
        # them): the ingest path compiled with mypyc
        assert build_info(body)["compiled"] == "true", body
        assert_ingests_out_of_order_and_repeated_events(f"http://127.0.0.1:{port}")


def assert_ingests_out_of_order_and_repeated_events(url: str) -> None:
    """The compiled tracker as a real process: a step's end before its start, a repeat."""
    workflow = {"workflow_id": "compiled-1"}
    step = {**workflow, "step_id": "s1", "agent": "research"}
    events = [
        {"type": "step_finished", **step, "success": True, "ts": 102.5, "event_id": "e3"},
        {"type": "workflow_started", **workflow, "complexity": "c", "ts": 100.0, "event_id": "e1"},
        {"type": "step_started", **step, "ts": 100.0, "event_id": "e2"},
        {"type": "workflow_finished", **workflow, "status": "completed", "ts": 104.0},
        {"type": "workflow_started", **workflow, "complexity": "c", "ts": 100.0, "event_id": "e1"},
    ]
    reply = requests.post(url + "/api/v1/events", json=events, timeout=5)
    assert reply.json() == {"accepted": 4, "duplicates": 1}
    sample = sample_lookup(requests.get(url + "/metrics", timeout=5).text)
    assert sample("autobot_step_duration_seconds_sum", agent="research", status="success") == 2.5
    assert sample("autobot_workflow_duration_seconds_sum", complexity="c", status="completed") == 4
    assert sample("autobot_workflows_finished_total", complexity="c", status="completed") == 1
    assert sample("autobot_exporter_events_duplicate_total") == 1


CLIENT_SCRIPT = textwrap.dedent(
    """
    import sys
    from autobot_exporter_client import MetricsClient

    workflow_metrics = MetricsClient(sys.argv[1])
    workflow_metrics.start_workflow_tracking("alone-1", {"complexity": "client-alone"})
    workflow_metrics.start_step_timing("alone-1", "s1", "research")
    workflow_metrics.end_step_timing("alone-1", "s1", success=True)
    workflow_metrics.end_workflow_tracking("alone-1", "completed")
    assert workflow_metrics.flush(30), workflow_metrics.stats
    try:
        from autobot_exporter_client import AsyncMetricsClient  # noqa: F401
    except ImportError as error:
        print("aio:", error)
    """
)


def test_the_client_installs_alone_and_delivers_events(tmp_path, start_exporter):
    exporter = start_exporter()
    subprocess.run([sys.executable, "-m", "venv", str(tmp_path / "venv")], check=True)
    python = tmp_path / "venv" / "bin" / "python"
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", str(TOP / "client")],
        check=True,
        timeout=INSTALL_TIMEOUT_SECONDS,
    )
    listed = subprocess.run(
        [str(python), "-m", "pip", "list", "--format=freeze"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    installed = {re.split("==", line)[0].lower() for line in listed.splitlines()}
    assert "autobot-exporter-client" in installed
    assert not installed & {name.lower() for name in SERVER_ONLY_DISTRIBUTIONS}, installed
    assert "autobot-exporter" not in installed
    script = tmp_path / "autobot_side.py"
    script.write_text(CLIENT_SCRIPT)
    result = subprocess.run(
        [str(python), str(script), exporter.url],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "aio: AsyncMetricsClient needs aiohttp" in result.stdout
    get = exporter.sample_getter()
    assert (
        get("autobot_workflows_finished_total", complexity="client-alone", status="completed") == 1
    )
    assert get("autobot_step_duration_seconds_count", agent="research", status="success") == 1
