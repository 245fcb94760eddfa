"""deploy/kubernetes/autobot-with-exporter.yaml played for real with ``podman kube play``:
a stand-in AutoBot (a process whose command line says autobot) and the exporter's image
in one pod. The exporter sees the AutoBot process through the shared process namespace,
answers its probe paths (podman runs no probes: the test calls them), runs as a
non-root user on a read-only root filesystem."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.podman import BASE_IMAGE, IMAGE, TOP, Podman
from tests.support.processes import wait_until

pytestmark = pytest.mark.e2e

MANIFEST = TOP / "deploy" / "kubernetes" / "autobot-with-exporter.yaml"
POD = "autobot-pod-0"
EXPORTER = f"{POD}-autobot-exporter"
FETCH = (
    "import sys, urllib.request;"
    "print(urllib.request.urlopen('http://127.0.0.1:9471' + sys.argv[1], timeout=3).read()"
    ".decode())"
)


@pytest.fixture
def pod(podman: Podman, tmp_path: Path) -> Iterator[Podman]:
    (tmp_path / "Containerfile").write_text(
        f"FROM {BASE_IMAGE}\n"
        'ENTRYPOINT ["python3", "-c", "import time; time.sleep(10**6)", "autobot-backend"]\n'
    )
    podman.build(tmp_path, tmp_path / "Containerfile", "localhost/autobot:latest")
    podman.run("tag", IMAGE, "localhost/autobot-exporter:latest")  # the manifest's name
    podman.run("kube", "play", str(MANIFEST))
    try:
        yield podman
    finally:
        podman.run("pod", "rm", "-f", POD, check=False)


def fetch(podman: Podman, path: str) -> str:
    return podman.run("exec", EXPORTER, "python", "-c", FETCH, path, check=False)


def test_the_pod_runs_the_sidecar_as_the_manifest_says(pod):
    wait_until(lambda: fetch(pod, "/-/ready").startswith("Ready"), 30, "the readiness probe")
    assert fetch(pod, "/-/healthy").startswith("Healthy")
    metrics = fetch(pod, "/metrics")
    assert 'autobot_processes{group="autobot"} 1.0' in metrics, "AutoBot seen in the pod"
    assert pod.run("exec", EXPORTER, "id", "-u").strip() == "65534"
    written = pod.run("exec", EXPORTER, "sh", "-c", "touch /probe 2>&1 || true")
    assert "Read-only file system" in written
