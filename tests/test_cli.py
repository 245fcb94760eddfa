"""The command line as a user runs it: --version, check-config, bad config at start.
Every test here starts the real command; the config's own rules are in test_config.py."""

from __future__ import annotations

import platform
import signal
import subprocess
import sys

import pytest

from exporter import __version__
from tests.support.processes import run_exporter

pytestmark = pytest.mark.e2e

run = run_exporter


def test_version():
    result = run("--version")
    assert (result.returncode, result.stdout.strip()) == (0, f"autobot-exporter {__version__}")


def test_python_dash_m_is_the_same_command():
    result = subprocess.run(
        [sys.executable, "-m", "exporter", "--version"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.stdout.strip() == f"autobot-exporter {__version__}"


def test_check_config_accepts_a_valid_file(tmp_path):
    path = tmp_path / "ok.yml"
    path.write_text("workflow_ttl: 30m\nmax_history: 500\nuser_message: {enabled: false}\n")
    result = run("check-config", str(path))
    assert result.returncode == 0
    assert "SUCCESS" in result.stdout


def test_check_config_names_the_bad_key_and_exits_1(tmp_path):
    """Every bad key's message is tested in test_config.py; here, the command's contract."""
    path = tmp_path / "bad.yml"
    path.write_text("max_histroy: 5\n")
    result = run("check-config", str(path))
    assert result.returncode == 1
    assert "max_histroy: unknown key" in result.stderr


def test_check_config_on_a_missing_file():
    result = run("check-config", "/nonexistent/config.yml")
    assert result.returncode == 1
    assert "cannot read" in result.stderr


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("ingest_token_file: {absent}\n", "ingest_token_file: cannot read"),
        ("ingest_token_file: {empty}\n", "ingest_token_file:"),
        ("web: {{config_file: {absent}}}\n", "cannot read"),
        ("web: {{config_file: {tls}}}\n", "tls_server_config.cert_file/key_file"),
        (f"dedup_window: {2**40}\n", "dedup_window: Expected `int` <= 1000000"),
    ],
)
def test_check_config_refuses_what_start_refuses_naming_the_key(tmp_path, text, named):
    """The systemd unit's ExecStartPre runs check-config: what it passes must start."""
    (tmp_path / "empty").write_text("")
    (tmp_path / "tls.yml").write_text(
        f"tls_server_config: {{cert_file: {tmp_path}/no.crt, key_file: {tmp_path}/no.key}}\n"
    )
    path = tmp_path / "config.yml"
    path.write_text(
        text.format(absent=tmp_path / "absent", empty=tmp_path / "empty", tls=tmp_path / "tls.yml")
    )
    checked = run("check-config", str(path))
    assert checked.returncode == 1, checked.stdout
    assert named in checked.stderr
    started = run("--config.file", str(path), "--web.listen-address", "127.0.0.1:1")
    assert started.returncode == 1
    assert named in started.stderr


def test_start_fails_clearly_on_bad_config(tmp_path):
    path = tmp_path / "bad.yml"
    path.write_text("dedup_window: -1\n")
    result = run("--config.file", str(path), "--web.listen-address", "127.0.0.1:1")
    assert result.returncode == 1
    assert "dedup_window" in result.stderr


def test_start_fails_clearly_on_missing_token_file(tmp_path):
    path = tmp_path / "cfg.yml"
    path.write_text(f"ingest_token_file: {tmp_path / 'absent'}\n")
    result = run("--config.file", str(path))
    assert result.returncode == 1
    assert "ingest_token_file" in result.stderr


def test_default_config_starts_on_loopback(start_exporter):
    exporter = start_exporter()
    assert exporter.get("/-/healthy").status_code == 200
    assert f"listening on http://{exporter.address}" in exporter.log_text()
    assert exporter.sample_getter()(
        "autobot_exporter_build_info",
        version=__version__,
        python_version=platform.python_version(),
    )


def test_sigterm_stops_the_exporter_cleanly_while_it_serves(start_exporter):
    """systemd and Kubernetes stop it with SIGTERM: it must exit 0, promptly, without a
    traceback, even with a scrape and an ingest just answered."""
    exporter = start_exporter()
    assert exporter.post_events({"type": "workflow_started", "workflow_id": "w"}).ok
    assert exporter.metrics_text()
    exporter.process.send_signal(signal.SIGTERM)
    assert exporter.process.wait(timeout=15) == 0
    assert "Traceback" not in exporter.log_text()


def test_a_negative_max_requests_flag_is_refused_naming_it():
    result = run("--web.max-requests", "-1")
    assert result.returncode == 2
    assert "--web.max-requests: must be 0 or more, got -1" in result.stderr
