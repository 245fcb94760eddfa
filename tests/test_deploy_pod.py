"""deploy/kubernetes played for real with ``podman kube play``: the pod of the kustomize
build (its config ConfigMap and Deployment) with a stand-in AutoBot (a process whose
command line says autobot) beside the exporter's image. The exporter sees the AutoBot
process through the shared process namespace, answers its probe paths (podman runs no
probes: the test calls them), runs as a non-root user on a read-only root filesystem.

Podman 4.3 predates native sidecars: it runs every init container to completion before
the others start, so the test moves the sidecar (the init container with
``restartPolicy: Always``) among the containers, which is how it runs once started."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.podman import BASE_IMAGE, IMAGE, Podman
from tests.support.processes import wait_until
from tests.test_deploy_kubernetes import build

pytestmark = pytest.mark.e2e

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
    manifest = tmp_path / "pod.yaml"
    manifest.write_text(yaml.safe_dump_all(pod_objects()))
    podman.run("kube", "play", str(manifest))
    try:
        yield podman
    finally:
        podman.run("pod", "rm", "-f", POD, check=False)


def pod_objects() -> list[dict[str, Any]]:
    """The built ConfigMaps and Deployment, the sidecar moved among the containers."""
    objects = [o for o in build() if o["kind"] in ("ConfigMap", "Deployment")]
    for deployment in (o for o in objects if o["kind"] == "Deployment"):
        pod = deployment["spec"]["template"]["spec"]
        sidecars = [c for c in pod.pop("initContainers") if c.pop("restartPolicy") == "Always"]
        assert sidecars, "the exporter is a native sidecar"
        pod["containers"] = sidecars + pod["containers"]
    return objects


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
