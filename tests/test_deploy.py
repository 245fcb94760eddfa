"""The deployment files, statically: systemd verifies the unit, the configs they carry
parse, the paths and flags they name exist. The image is built and run for real in
test_deploy_image.py."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import yaml

from exporter.config import DEFAULT_PORT
from tests.support.processes import run_exporter

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"


def test_systemd_unit_verifies(tmp_path):
    binary = shutil.which("autobot-exporter")
    unit = (DEPLOY / "systemd" / "autobot-exporter.service").read_text()
    installed = tmp_path / "autobot-exporter.service"
    installed.write_text(unit.replace("/opt/autobot-exporter/venv/bin/autobot-exporter", binary))
    result = subprocess.run(
        ["systemd-analyze", "verify", str(installed)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (result.returncode, result.stderr) == (0, "")


def test_flags_in_the_deploy_files_exist():
    help_text = run_exporter("--help").stdout
    for path in (
        DEPLOY / "systemd" / "autobot-exporter.service",
        DEPLOY / "docker" / "Dockerfile",
        DEPLOY / "kubernetes" / "deployment.yaml",
    ):
        # the exporter's own flags are dotted (--web.listen-address); pip's and docker's not
        for flag in set(re.findall(r"--[a-z]+\.[a-z.-]+", path.read_text())):
            assert flag in help_text, f"{path.name}: {flag}"


def test_dockerfile_serves_the_default_port_and_health_path():
    dockerfile = (DEPLOY / "docker" / "Dockerfile").read_text()
    assert f"EXPOSE {DEFAULT_PORT}" in dockerfile
    assert f"0.0.0.0:{DEFAULT_PORT}" in dockerfile and "/-/healthy" in dockerfile


def test_compose_mounts_files_that_exist():
    compose_dir = DEPLOY / "docker"
    compose = yaml.safe_load((compose_dir / "docker-compose.yml").read_text())
    for service in compose["services"].values():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            assert (compose_dir / source).resolve().exists(), source


def test_prometheus_pod_discovery_keeps_the_sidecars_port_name():
    deployment = yaml.safe_load((DEPLOY / "kubernetes" / "deployment.yaml").read_text())
    [sidecar] = deployment["spec"]["template"]["spec"]["initContainers"]
    [port] = sidecar["ports"]
    assert port == {"name": "autobot-metrics", "containerPort": DEFAULT_PORT}
    assert "regex: autobot-metrics" in (ROOT / "prometheus.yml").read_text()
