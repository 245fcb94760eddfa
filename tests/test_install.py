"""Installing as a user does, on clean copies of the repository: the README's run command
on Debian's own Python; ``pip install .``, pipx and a repository URL in fresh environments;
the client distribution alone. All install from the package index, as a new user's
machine does."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import textwrap
import time
import tomllib
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import pytest
import requests

from tests.support.processes import free_port, sample_lookup, wait_until
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
    with serving(command, repository, environment, port) as log_path:
        venv = (repository / ".venv" / "pyvenv.cfg").read_text()
        assert f"home = {DEBIAN_PYTHON.parent}" in venv, "the venv is Debian's Python's"
        # the first run installs for a while: it says so before pip's own progress
        assert "installing autobot-exporter into" in log_path.read_text()


@contextmanager
def serving(command: str, cwd: Path, environment: dict[str, str], port: int) -> Iterator[Path]:
    """Runs a shell command that starts the exporter on ``port``; yields the path of its
    output once it serves /metrics, and stops it (its whole process group) afterwards."""
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
            yield log_path
        finally:
            with suppress(ProcessLookupError):  # it may have stopped already
                os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=15)


def fresh_venv(path: Path) -> Path:
    """A new virtual environment of Debian's Python; returns its bin folder."""
    subprocess.run([str(DEBIAN_PYTHON), "-m", "venv", str(path)], check=True)
    return path / "bin"


def pip_install(bin_dir: Path, *what: str) -> None:
    subprocess.run(
        [str(bin_dir / "pip"), "install", "--quiet", "--disable-pip-version-check", *what],
        check=True,
        timeout=INSTALL_TIMEOUT_SECONDS,
    )


def installed_distributions(bin_dir: Path) -> set[str]:
    listed = subprocess.run(
        [str(bin_dir / "pip"), "list", "--format=freeze", "--disable-pip-version-check"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return {re.split("==", line)[0].lower() for line in listed.splitlines()}


def readme_exporter_commands() -> list[str]:
    """Every ``.venv/bin/autobot-exporter`` line of the README's shell blocks."""
    text = (TOP / "README.md").read_text()
    blocks = (block.split("```", 1)[0] for block in text.split("```sh\n")[1:])
    lines = (line.split("  #", 1)[0].strip() for block in blocks for line in block.splitlines())
    return [line for line in lines if line.startswith(".venv/bin/autobot-exporter ")]


def readme_config(token_file: Path) -> str:
    """The README's example config, with its token file where the test made one."""
    text = (TOP / "README.md").read_text()
    (block,) = (b.split("```", 1)[0] for b in text.split("```yaml\n")[1:] if "ingest_token" in b)
    return re.sub(r"(ingest_token_file:) \S+", rf"\1 {token_file}", block)


def test_pip_install_then_every_readme_command_works(tmp_path):
    """``pip install .`` in a fresh environment, nothing else named: the server alone (not
    the client), then each exporter command the README shows, run as written (the demo
    against this exporter, for a few seconds)."""
    repository = clean_copy(tmp_path / "autobot-exporter")
    bin_dir = fresh_venv(tmp_path / "venv")
    pip_install(bin_dir, str(repository))
    installed = installed_distributions(bin_dir)
    assert "autobot-exporter" in installed and "autobot-exporter-client" not in installed
    workdir = tmp_path / "work"
    (workdir / ".venv").mkdir(parents=True)
    (workdir / ".venv" / "bin").symlink_to(bin_dir)
    (workdir / "token").write_text("secret\n")
    (workdir / "exporter.yml").write_text(readme_config(workdir / "token"))
    port = free_port()
    environment = {"PATH": f"{bin_dir}:/usr/bin:/bin", "HOME": str(tmp_path)}
    command = f".venv/bin/autobot-exporter --web.listen-address=127.0.0.1:{port}"
    commands = readme_exporter_commands()
    assert {line.split()[1] for line in commands} >= {
        "demo",
        "check-config",
        "rules",
        "dashboards",
        "kubernetes",
    }, commands
    with serving(command, workdir, environment, port):
        for as_written in commands:
            line = as_written
            if line.split()[1] == "demo":  # shorter, and against the exporter started here
                line = re.sub(r"--duration \d+", "--duration 3", line)
                line += f" --url http://127.0.0.1:{port}"
            began = time.monotonic()
            result = subprocess.run(
                ["bash", "-e", "-c", line],
                cwd=workdir,
                env=environment,
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )
            assert result.returncode == 0, (line, result.stdout, result.stderr)
            if "demo" in line:
                assert time.monotonic() - began < 10, "demo --duration 3 takes about 3 s"
                assert "dropped 0" in result.stderr, result.stderr
        metrics = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
        assert sample_lookup(metrics)("autobot_workflows_started_total", complexity="simple")
    assert list((workdir / "my-k8s").glob("*.yaml")), "kubernetes wrote its files"


def test_the_documented_pipx_install_serves_metrics(tmp_path):
    assert shutil.which("pipx"), "pipx missing: the README's test command installs it"
    repository = clean_copy(tmp_path / "autobot-exporter")
    before = set(repository.rglob("*"))
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
    # nothing left behind but setuptools' own build output, which .gitignore lists
    left = {path.name for path in set(repository.iterdir()) - before}
    assert left <= {"build", "autobot_exporter.egg-info"}, left
    port = free_port()
    command = f"autobot-exporter --web.listen-address=127.0.0.1:{port}"
    with serving(command, tmp_path, environment, port):
        assert_ingests_out_of_order_and_repeated_events(f"http://127.0.0.1:{port}")


def pipx_commands() -> list[str]:
    """The pipx block of docs/deployment/pip.md, as written there."""
    text = (TOP / "docs" / "deployment" / "pip.md").read_text()
    blocks = (b.split("```", 1)[0] for b in text.split("```sh\n")[1:])
    return next(b for b in blocks if "pipx install" in b).strip().splitlines()


def assert_ingests_out_of_order_and_repeated_events(url: str) -> None:
    """The installed tracker as a real process: a step's end before its start, a repeat."""
    workflow = {"workflow_id": "installed-1"}
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


def test_an_install_from_a_repository_url_works_and_the_wheel_is_pure(tmp_path):
    """``pip install git+file://…``, as from any repository URL, with nothing else named;
    and ``pip wheel .`` builds a pure wheel, with setuptools the only build requirement."""
    build = tomllib.loads((TOP / "pyproject.toml").read_text())["build-system"]
    assert build["requires"] == ["setuptools>=68"]
    repository = clean_copy(tmp_path / "autobot-exporter")
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-C", str(repository)]
    for step in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "copy"]):
        subprocess.run([*git, *step], check=True)
    bin_dir = fresh_venv(tmp_path / "venv")
    pip_install(bin_dir, f"git+file://{repository}")
    version = subprocess.run(
        [str(bin_dir / "autobot-exporter"), "--version"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert version.stdout.strip() == "autobot-exporter 0.1.0", version
    subprocess.run(
        [
            str(bin_dir / "pip"),
            "wheel",
            "--quiet",
            "--no-deps",
            "-w",
            str(tmp_path / "dist"),
            str(repository),
        ],
        check=True,
        timeout=INSTALL_TIMEOUT_SECONDS,
    )
    (wheel,) = (tmp_path / "dist").iterdir()
    assert wheel.name == "autobot_exporter-0.1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
    assert "exporter/statuspage/static/status.js" in names
    assert not [name for name in names if name.endswith((".so", ".c", ".pyd"))], names


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
    bin_dir = fresh_venv(tmp_path / "venv")
    python = bin_dir / "python"
    pip_install(bin_dir, str(TOP / "client"))
    installed = installed_distributions(bin_dir)
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
