"""deploy/docker/docker-compose.yml, up for real with podman-compose: the exporter built
from the Dockerfile, Prometheus and Alertmanager (stand-in images with Debian's own
binaries, tagged with the compose file's image names; no registry is reachable), Grafana
left out (no package here). Prometheus scrapes the exporter, loads the rules and finds
Alertmanager, and an alert reaches a webhook.

An override file moves every listener to a free loopback port and points the configs at
them (the shipped compose file runs on the host's network with the standard ports), and
names the exporter's image, built from the same Dockerfile beforehand; the services,
images and mounts are the shipped file's."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import yaml

from exporter.artifacts.rules import render_rules
from exporter.config import parse_config
from tests.support.podman import BASE_IMAGE, IMAGE, TOP, Podman
from tests.support.processes import free_port, wait_until
from tests.support.webhook import WebhookReceiver
from tests.test_alerting_e2e import fast_alertmanager_config

pytestmark = pytest.mark.e2e

COMPOSE = TOP / "deploy" / "docker" / "docker-compose.yml"
# memory, not disk: a container's root is an overlay, which the exporter leaves out
EXPORTER_CONFIG = """
collection_interval: 500ms
thresholds:
  memory: {critical: 0.01}
rules:
  alert_for: {AutoBotMemoryUsageCritical: 1s, AutoBotMemoryUsageWarning: 1s}
"""
STAND_INS = {
    "prometheus": ("/usr/bin/prometheus", "/prometheus", None),
    # Debian's Alertmanager reads its default template from here
    "alertmanager": (
        "/usr/bin/prometheus-alertmanager",
        "/alertmanager",
        "/usr/share/prometheus/alertmanager",
    ),
}


def stand_in_images(podman: Podman, directory: Path) -> None:
    """prom/prometheus and prom/alertmanager as the compose file names them, built on the
    local base with the binaries Debian installed on this machine."""
    compose = yaml.safe_load(COMPOSE.read_text())
    for service, (binary, workdir, shared) in STAND_INS.items():
        context = directory / service
        context.mkdir()
        shutil.copy(binary, context / "binary")
        steps = [f"FROM {BASE_IMAGE}", f"COPY binary /bin/{service}"]
        if shared is not None:
            shutil.copytree(shared, context / "shared")
            steps.append(f"COPY shared {shared}")
        steps += [f"WORKDIR {workdir}", f'ENTRYPOINT ["/bin/{service}"]']
        (context / "Containerfile").write_text("\n".join(steps) + "\n")
        podman.build(context, context / "Containerfile", compose["services"][service]["image"])


@pytest.fixture
def stack(podman: Podman, tmp_path: Path) -> Iterator[tuple[dict[str, int], WebhookReceiver]]:
    stand_in_images(podman, tmp_path)
    ports = {name: free_port() for name in ("exporter", "prometheus", "alertmanager")}
    webhook = WebhookReceiver()
    (tmp_path / "exporter.yml").write_text(EXPORTER_CONFIG)
    (tmp_path / "rules.yml").write_text(render_rules(parse_config(EXPORTER_CONFIG)))
    (tmp_path / "prometheus.yml").write_text(
        yaml.safe_dump(
            {
                "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
                "rule_files": ["/etc/prometheus/test/rules.yml"],
                "alerting": {
                    "alertmanagers": [
                        {"static_configs": [{"targets": [f"127.0.0.1:{ports['alertmanager']}"]}]}
                    ]
                },
                "scrape_configs": [
                    {
                        "job_name": "autobot-exporter",
                        "static_configs": [{"targets": [f"127.0.0.1:{ports['exporter']}"]}],
                    }
                ],
            }
        )
    )
    (tmp_path / "alertmanager.yml").write_text(
        yaml.safe_dump(fast_alertmanager_config(webhook.url))
    )
    override = {
        "services": {
            "autobot-exporter": {
                # built from the same Dockerfile by the podman fixture, with the host's CA
                # bundle mounted for pip (a compose build cannot mount it)
                "image": IMAGE,
                "command": [
                    f"--web.listen-address=127.0.0.1:{ports['exporter']}",
                    "--config.file=/etc/autobot-exporter/exporter.yml",
                ],
                "volumes": [f"{tmp_path / 'exporter.yml'}:/etc/autobot-exporter/exporter.yml:ro"],
            },
            "prometheus": {
                "command": [
                    "--config.file=/etc/prometheus/test/prometheus.yml",
                    "--enable-feature=exemplar-storage",
                    f"--web.listen-address=127.0.0.1:{ports['prometheus']}",
                ],
                "volumes": [f"{tmp_path}:/etc/prometheus/test:ro"],
            },
            "alertmanager": {
                "command": [
                    "--config.file=/etc/alertmanager/test/alertmanager.yml",
                    f"--web.listen-address=127.0.0.1:{ports['alertmanager']}",
                    "--cluster.listen-address=",
                ],
                "volumes": [f"{tmp_path}:/etc/alertmanager/test:ro"],
            },
        }
    }
    (tmp_path / "override.yml").write_text(yaml.safe_dump(override))
    compose = [
        shutil.which("podman-compose") or "podman-compose",
        "-p",
        f"autobot{ports['exporter']}",
        "-f",
        str(COMPOSE),
        "-f",
        str(tmp_path / "override.yml"),
    ]
    environment = {**os.environ, **podman.environment}
    services = ["autobot-exporter", "prometheus", "alertmanager"]
    up = subprocess.run(
        [*compose, "up", "-d", *services],
        capture_output=True,
        text=True,
        env=environment,
        timeout=600,
        check=False,
    )
    try:
        assert up.returncode == 0, up.stdout + up.stderr
        yield ports, webhook
    finally:
        subprocess.run(
            [*compose, "down", "-t", "2"],
            capture_output=True,
            env=environment,
            timeout=120,
            check=False,
        )
        webhook.close()


def test_the_compose_stack_scrapes_evaluates_and_alerts(stack, podman):
    ports, webhook = stack
    prometheus = f"http://127.0.0.1:{ports['prometheus']}"

    def api(path: str) -> dict:
        return requests.get(prometheus + path, timeout=5).json()["data"]

    def exporter_up() -> bool:
        targets = api("/api/v1/targets")["activeTargets"]
        return bool(targets) and targets[0]["health"] == "up"

    wait_until(exporter_up, 120, "Prometheus in the stack scraping the exporter in the stack")
    assert api("/api/v1/rules")["groups"], "the rules are loaded"
    wait_until(
        lambda: api("/api/v1/alertmanagers")["activeAlertmanagers"],
        60,
        "Prometheus finding Alertmanager",
    )
    try:
        wait_until(
            lambda: webhook.alerts("firing", "AutoBotMemoryUsageCritical"),
            120,
            "the memory alert at the webhook",
        )
    except AssertionError as error:
        alerts = requests.get(prometheus + "/api/v1/alerts", timeout=5).json()
        names = podman.run("ps", "-a", "--format", "{{.Names}} {{.Status}}")
        logs = "".join(
            podman.run("logs", "--tail", "20", name.split()[0], check=False)
            for name in names.splitlines()
            if "alertmanager" in name
        )
        raise AssertionError(f"{error}\nPrometheus: {alerts}\n{names}\n{logs}") from None
