"""The image, built and run for real with podman on a base image made here from Debian's
packages, with Kubernetes' restrictions (read-only root, all capabilities dropped, no new
privileges): it serves /metrics and takes events within seconds, its HEALTHCHECK passes,
it runs as the unprivileged user the Dockerfile names."""

from __future__ import annotations

import json

import pytest
import requests

from tests.support.podman import IMAGE
from tests.support.processes import free_port, wait_until

pytestmark = pytest.mark.e2e


def test_the_image_serves_metrics_takes_events_and_is_healthy(podman):
    port = free_port()
    container = podman.run(
        "run",
        "-d",
        "--name",
        "exporter-under-test",
        "-p",
        f"127.0.0.1:{port}:9471",
        # Kubernetes' restricted profile: read-only root, no capability, no new privileges
        "--read-only",
        "--cap-drop=all",
        "--security-opt=no-new-privileges",
        IMAGE,
    ).strip()
    try:
        url = f"http://127.0.0.1:{port}"
        wait_until(lambda: requests.get(url + "/metrics", timeout=2).ok, 30, "the container")
        event = {"type": "workflow_started", "workflow_id": "in-a-container", "complexity": "c"}
        reply = requests.post(url + "/api/v1/events", json=event, timeout=5)
        assert reply.json() == {"accepted": 1, "duplicates": 0}
        metrics = requests.get(url + "/metrics", timeout=5).text
        assert 'autobot_workflows_started_total{complexity="c"} 1.0' in metrics
        podman.run("healthcheck", "run", container)  # exit 0: healthy
        inspected = json.loads(podman.run("inspect", IMAGE))[0]["Config"]
        assert inspected["User"] == "65534:65534"
        labels = inspected["Labels"]
        assert labels["org.opencontainers.image.title"] == "autobot-exporter"
        assert labels["org.opencontainers.image.licenses"] == "Apache-2.0"
        assert "gcc" not in podman.run("exec", container, "sh", "-c", "ls /usr/bin", check=False)
        assert podman.run("exec", container, "id", "-u").strip() == "65534"
    finally:
        podman.run("rm", "-f", container, check=False)
