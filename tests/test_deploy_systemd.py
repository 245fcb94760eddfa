"""deploy/systemd/autobot-exporter.service started by a real systemd, PID 1 of a podman
container (its ProtectSystem and PrivateTmp need mount namespaces, hence SYS_ADMIN): the
exporter installed as the unit's header says, the unit enabled, active and serving within
seconds, its process not root (DynamicUser)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.podman import TOP, Podman
from tests.support.processes import wait_until

pytestmark = pytest.mark.e2e

SYSTEMD_BASE = "localhost/debian-systemd:test"
IMAGE = "localhost/autobot-exporter-systemd:test"
VENV = "/opt/autobot-exporter/venv"
CONTAINERFILE = f"""
FROM {SYSTEMD_BASE}
COPY pyproject.toml README.md /src/
COPY exporter /src/exporter
COPY client /src/client
RUN {VENV}/bin/pip install --no-cache-dir /src/client /src && rm -rf /src
RUN mkdir -p /etc/autobot-exporter \\
 && printf 'web: {{listen_address: 127.0.0.1:9471}}\\n' > /etc/autobot-exporter/exporter.yml
COPY deploy/systemd/autobot-exporter.service /etc/systemd/system/
RUN systemctl enable autobot-exporter.service
CMD ["/sbin/init"]
"""
READY = (
    "import urllib.request; "
    "print(urllib.request.urlopen('http://127.0.0.1:9471/-/ready', timeout=2).status)"
)


def test_the_unit_runs_under_systemd(podman: Podman, tmp_path: Path):
    podman.make_base_image(
        SYSTEMD_BASE,
        ("python3", "python3-venv", "ca-certificates", "systemd", "systemd-sysv", "dbus"),
        VENV,
    )
    (tmp_path / "Containerfile").write_text(CONTAINERFILE)
    podman.build(TOP, tmp_path / "Containerfile", IMAGE)
    container = podman.run("run", "-d", "--systemd=always", "--cap-add=SYS_ADMIN", IMAGE).strip()
    try:

        def active() -> bool:
            state = podman.run(
                "exec", container, "systemctl", "is-active", "autobot-exporter", check=False
            )
            return state.strip() == "active"

        wait_until(active, 60, "the unit active under systemd")
        wait_until(
            lambda: (
                podman.run("exec", container, "python3", "-c", READY, check=False).strip() == "200"
            ),
            30,
            "the unit's exporter ready",
        )
        uid = podman.run(
            "exec",
            container,
            "sh",
            "-c",
            "stat -c %u /proc/$(systemctl show -p MainPID --value autobot-exporter)",
        ).strip()
        assert uid != "0", "DynamicUser: not root"
    finally:
        podman.run("rm", "-f", container, check=False)
