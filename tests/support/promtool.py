"""Running Prometheus' promtool, which the README's test command installs."""

from __future__ import annotations

import shutil
import subprocess


def promtool(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    binary = shutil.which("promtool")
    assert binary, "promtool missing: the README's test command installs it"
    return subprocess.run(
        [binary, *args], input=stdin, capture_output=True, text=True, timeout=120, check=False
    )


def check_metrics_problems(text: str) -> tuple[int, str]:
    """(exit code, everything promtool said); (0, "") means clean."""
    result = promtool("check", "metrics", stdin=text)
    return result.returncode, result.stdout + result.stderr
