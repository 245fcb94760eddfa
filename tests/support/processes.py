"""Real processes for the tests: the exporter as the README starts it, and Prometheus.

Each listens on 127.0.0.1 on a free port, is polled (never slept on) until ready, and
is stopped by the fixture that started it.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psutil
import requests
import yaml
from prometheus_client.parser import text_string_to_metric_families

STARTUP_TIMEOUT_SECONDS = 20.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until(
    condition: Callable[[], Any], timeout: float, what: str, interval: float = 0.05
) -> Any:
    """Poll until condition() is truthy; return its value, or fail naming what was awaited."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            value = condition()
            if value:
                return value
        except (requests.RequestException, OSError) as error:
            last_error = error
        time.sleep(interval)
    raise AssertionError(
        f"timed out after {timeout}s waiting for {what} (last error: {last_error})"
    )


def installed(program: str) -> str:
    """The program from this interpreter's environment first (``.venv/bin/python script``
    finds ``.venv/bin/autobot-exporter`` without the venv on PATH), else from PATH."""
    search = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    path = shutil.which(program, path=search)
    assert path, f"{program} is not installed: run the README's test command"
    return path


def run_exporter(*args: str, timeout: float = 30) -> subprocess.CompletedProcess:
    """``autobot-exporter ARGS`` as a user types it; output captured, exit code not checked."""
    return subprocess.run(
        [installed("autobot-exporter"), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def run_demo(
    url: str, *, duration: float, rate: float, speed: float, seed: int, timeout: float = 120
) -> subprocess.CompletedProcess:
    """``autobot-exporter demo`` against ``url``, as a user runs it; output captured."""
    return run_exporter(
        "demo",
        "--url",
        url,
        "--duration",
        f"{duration:g}",
        "--rate",
        f"{rate:g}",
        "--speed",
        f"{speed:g}",
        "--seed",
        str(seed),
        timeout=timeout,
    )


@contextmanager
def memory_holder(marker: str, mebibytes: int) -> Iterator[subprocess.Popen]:
    """A child process holding ``mebibytes`` of resident memory, ``marker`` on its command
    line for a process group to match; killed on exit."""
    code = (
        f"import sys, time; data = bytearray({mebibytes} << 20); "
        "print('ready', flush=True); time.sleep(300)"
    )
    process = subprocess.Popen([sys.executable, "-c", code, marker], stdout=subprocess.PIPE)
    try:
        assert process.stdout is not None and process.stdout.readline() == b"ready\n"
        yield process
    finally:
        process.kill()
        process.wait()
        if process.stdout is not None:
            process.stdout.close()


def yaml_file(path: Path, content: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(content))
    return path


def parse_samples(text: str) -> dict[tuple[str, frozenset], float]:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def cpu_seconds(process: psutil.Process) -> float:
    """CPU time the process has used, user and system (from /proc, 10 ms resolution)."""
    times = process.cpu_times()
    return times.user + times.system


def main_thread_cpu_seconds(process: psutil.Process) -> float:
    """CPU time of the process's main thread (the exporter's event loop, where events are
    decoded and applied), in nanoseconds from /proc/PID/schedstat: a span of a few tenths
    of a second read at cpu_seconds' 10 ms ticks carries several percent of error."""
    return int(Path(f"/proc/{process.pid}/schedstat").read_text().split()[0]) / 1e9


def sample_lookup(text: str) -> Callable[..., float | None]:
    """A /metrics text's samples as get(name, **labels), like get_sample_value."""
    samples = parse_samples(text)
    return lambda name, **labels: samples.get((name, frozenset(labels.items())))


class ManagedProcess:
    """A child process with its output in a log file, stopped on ``stop``."""

    def __init__(self, args: list[str], log_path: Path, env: dict[str, str] | None = None) -> None:
        self.args = args
        self.log_path = log_path
        self._log = log_path.open("wb")
        self.process = subprocess.Popen(
            args,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env={**os.environ, **env} if env else None,
        )

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_ready(self, url: str, session: requests.Session | None = None) -> None:
        getter = session or requests

        def ready() -> bool:
            if self.process.poll() is not None:
                raise AssertionError(f"{self.args[0]} exited early:\n{self.log_text()}")
            return getter.get(url, timeout=2).status_code == 200

        wait_until(ready, STARTUP_TIMEOUT_SECONDS, f"{url} to answer 200")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()


class ExporterHttp:
    """What a test asks of an exporter over HTTP, served in a child process or in-process."""

    url: str
    session: requests.Session

    def post_events(
        self, events: Any, content_type: str = "application/json", **headers: str
    ) -> requests.Response:
        body = events if isinstance(events, bytes | str) else requests.compat.json.dumps(events)
        return self.session.post(
            self.url + "/api/v1/events",
            data=body,
            headers={"Content-Type": content_type, **headers},
            timeout=30,
        )

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.session.get(self.url + path, timeout=30, **kwargs)

    def metrics_text(self) -> str:
        response = self.get("/metrics")
        response.raise_for_status()
        return response.text

    def sample_getter(self) -> Callable[..., float | None]:
        """A snapshot of /metrics as get(name, **labels), like get_sample_value."""
        return sample_lookup(self.metrics_text())


class Exporter(ManagedProcess, ExporterHttp):
    """``autobot-exporter --config.file F --web.listen-address 127.0.0.1:P``, as the README says."""

    def __init__(
        self,
        directory: Path,
        config_text: str = "",
        extra_args: tuple[str, ...] = (),
        port: int | None = None,
        *,
        session: requests.Session | None = None,
        scheme: str = "http",
        wrapper: tuple[str, ...] = (),
    ):
        """``session`` carries TLS trust and credentials when the web config asks for them;
        ``wrapper`` runs the command under another (``prlimit --nofile=...``)."""
        self.port = port or free_port()
        self.url = f"{scheme}://127.0.0.1:{self.port}"
        self.address = f"127.0.0.1:{self.port}"
        config_path = directory / f"exporter-{self.port}-{time.monotonic_ns()}.yml"
        config_path.write_text(config_text)
        self.config_path = config_path
        super().__init__(
            [
                *wrapper,
                installed("autobot-exporter"),
                "--config.file",
                str(config_path),
                "--web.listen-address",
                self.address,
                *extra_args,
            ],
            directory / f"exporter-{self.port}-{time.monotonic_ns()}.log",
        )
        self.session = session or requests.Session()
        self.wait_ready(self.url + "/-/ready", self.session)


class PromQLApi:
    """The HTTP query API Prometheus and VictoriaMetrics share."""

    url: str

    def api(self, path: str, **params: Any) -> Any:
        response = requests.get(self.url + path, params=params, timeout=10)
        response.raise_for_status()
        return response.json()["data"]

    def query(self, expr: str) -> list[dict[str, Any]]:
        return self.api("/api/v1/query", query=expr)["result"]

    def wait_for_scalar(self, expr: str, expected: float, timeout: float = 30.0) -> None:
        """Poll an instant query until it returns one series with the expected value."""

        def matches() -> bool:
            result = self.query(expr)
            return len(result) == 1 and float(result[0]["value"][1]) == expected

        try:
            wait_until(matches, timeout, f"{expr} == {expected}", interval=0.25)
        except AssertionError as error:
            raise AssertionError(f"{error}; last result: {self.query(expr)}") from None


class Prometheus(PromQLApi, ManagedProcess):
    """A real Prometheus scraping the given targets every second (job "autobot-exporter",
    as the shipped rules select), evaluating rules every second, exemplar storage on."""

    def __init__(
        self,
        directory: Path,
        targets: list[str],
        rule_files: tuple[Path, ...] = (),
        alertmanagers: tuple[str, ...] = (),
        scrape_options: dict[str, Any] | None = None,
    ):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = {
            "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
            "rule_files": [str(path) for path in rule_files],
            "scrape_configs": [
                {
                    "job_name": "autobot-exporter",
                    "static_configs": [{"targets": targets}],
                    **(scrape_options or {}),
                }
            ],
        }
        if alertmanagers:
            config["alerting"] = {
                "alertmanagers": [{"static_configs": [{"targets": list(alertmanagers)}]}]
            }
        super().__init__(
            [
                installed("prometheus"),
                f"--config.file={yaml_file(directory / f'prometheus-{self.port}.yml', config)}",
                f"--storage.tsdb.path={directory / f'prometheus-data-{self.port}'}",
                f"--web.listen-address=127.0.0.1:{self.port}",
                "--enable-feature=exemplar-storage",
            ],
            directory / f"prometheus-{self.port}.log",
        )
        self.wait_ready(self.url + "/-/ready")


class Alertmanager(ManagedProcess):
    """A real Alertmanager (Debian's prometheus-alertmanager), clustering off."""

    def __init__(self, directory: Path, config: dict[str, Any]):
        self.port = free_port()
        self.address = f"127.0.0.1:{self.port}"
        super().__init__(
            [
                installed("prometheus-alertmanager"),
                f"--config.file={yaml_file(directory / f'alertmanager-{self.port}.yml', config)}",
                f"--storage.path={directory / f'alertmanager-data-{self.port}'}",
                f"--web.listen-address={self.address}",
                "--cluster.listen-address=",
            ],
            directory / f"alertmanager-{self.port}.log",
        )
        self.wait_ready(f"http://{self.address}/-/ready")
