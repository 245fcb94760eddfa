"""Podman with a private configuration and storage under a test's folder, so nothing
global changes, and a Debian base image made locally (no image registry is reachable):
mmdebstrap from the machine's own apt sources, given the official Python image's layout
(a venv at /usr/local) and its name, which the Dockerfile's FROM uses.

The settings are the ones this kind of machine needs: runc (crun refuses hybrid cgroups),
cgroupfs, rlimits the container may not raise (nproc at most 32768), and the host's CA
bundle mounted into builds so pip trusts what the host trusts.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

TOP = Path(__file__).resolve().parents[2]
BASE_IMAGE = "docker.io/library/python:3.11-slim"
IMAGE = "localhost/autobot-exporter:test"
CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"
APT_SOURCES = (Path("/etc/apt/sources.list.d/debian.sources"), Path("/etc/apt/sources.list"))


def debian_source() -> tuple[str, str]:
    """(suite, mirror) of the machine's first Debian apt source, read at run time."""
    for path in APT_SOURCES:
        if not path.exists():
            continue
        text = path.read_text()
        uris = re.search(r"^URIs:\s*(\S+)", text, re.MULTILINE)
        suites = re.search(r"^Suites:\s*(\S+)", text, re.MULTILINE)
        if uris and suites:
            return suites.group(1), uris.group(1)
        line = re.search(r"^deb\s+(\S+)\s+(\S+)", text, re.MULTILINE)
        if line:
            return line.group(2), line.group(1)
    raise AssertionError("no Debian apt source on this machine")


class Podman:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        storage = directory / "storage.conf"
        storage.write_text(
            "[storage]\n"
            'driver = "overlay"\n'
            f'graphroot = "{directory / "graph"}"\n'
            f'runroot = "{directory / "run"}"\n'
        )
        engine = directory / "containers.conf"
        engine.write_text(
            "[containers]\n"
            'default_ulimits = ["nofile=4096:4096", "nproc=32768:32768"]\n'
            "[engine]\n"
            'runtime = "runc"\n'
            'cgroup_manager = "cgroupfs"\n'
            'events_logger = "file"\n'
        )
        self.environment = {
            "CONTAINERS_STORAGE_CONF": str(storage),
            "CONTAINERS_CONF": str(engine),
            "PATH": "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin",
        }

    def run(self, *args: str, timeout: float = 300, check: bool = True) -> str:
        result = subprocess.run(
            ["podman", *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            env=self.environment,
            check=False,
        )
        if check:
            assert result.returncode == 0, f"podman {' '.join(args)}:\n{result.stderr}"
        return result.stdout

    def make_base_image(
        self,
        tag: str = BASE_IMAGE,
        packages: tuple[str, ...] = ("python3", "python3-venv", "ca-certificates"),
        venv: str = "/usr/local",
    ) -> None:
        """A Debian image named ``tag`` with ``packages``, and a venv at ``venv`` (at
        /usr/local it gives the official Python image's layout)."""
        rootfs = self.directory / "rootfs.tar"
        suite, mirror = debian_source()
        subprocess.run(
            [
                "mmdebstrap",
                "--variant=essential",
                f"--include={','.join(packages)}",
                f'--customize-hook=chroot "$1" python3 -m venv {venv}',
                suite,
                str(rootfs),
                f"deb {mirror} {suite} main",
            ],
            capture_output=True,
            timeout=600,
            check=True,
        )
        self.run(
            "import",
            "--change",
            "ENV PATH=/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            str(rootfs),
            tag,
        )
        rootfs.unlink()

    def build(self, context: Path, dockerfile: Path, tag: str) -> None:
        self.run(
            "build",
            "--format",
            "docker",  # keeps the HEALTHCHECK
            "-v",
            f"{CA_BUNDLE}:{CA_BUNDLE}:ro",
            "-f",
            str(dockerfile),
            "-t",
            tag,
            str(context),
            timeout=600,
        )

    def reset(self) -> None:
        """Remove every container and image of this private storage."""
        self.run("system", "reset", "--force", check=False, timeout=120)
