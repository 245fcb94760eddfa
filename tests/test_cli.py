"""The command line as a user runs it: --version, check-config, bad config at start."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest

from exporter import __version__
from exporter.config import Config, parse_config
from tests.support.processes import run_exporter

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


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("max_histroy: 5\n", "max_histroy: unknown key"),
        ("web: {listen_adress: x}\n", "web.listen_adress: unknown key"),
        ("max_body_bytes: 10\n", "max_body_bytes: Expected `int` >= 1024"),
        ("workflow_ttl: soon\n", "workflow_ttl: expected a duration"),
        ("buckets: {approval_wait_seconds: [10, 5]}\n", "buckets.approval_wait_seconds"),
        ("web: {listen_address: nowhere}\n", "web.listen_address"),
        ("max_label_values: many\n", "max_label_values: Expected `int`"),
        ("web: {max_requests: -1}\n", "web.max_requests: Expected `int` >= 0"),
        ("filesystem: {mount_timeout: 0s}\n", "filesystem.mount_timeout: a duration must be"),
        ("max_kept_details: 0\n", "max_kept_details: Expected `int` >= 1"),
        ("max_concurrent_ingest: -1\n", "max_concurrent_ingest: Expected `int` >= 0"),
    ],
)
def test_check_config_names_the_bad_key(tmp_path, text, named):
    path = tmp_path / "bad.yml"
    path.write_text(text)
    result = run("check-config", str(path))
    assert result.returncode == 1
    assert named in result.stderr


def test_check_config_on_a_missing_file():
    result = run("check-config", "/nonexistent/config.yml")
    assert result.returncode == 1
    assert "cannot read" in result.stderr


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


def test_the_readme_config_block_is_the_embedded_default():
    """The README documents every key with its default; it must not drift from the code."""
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    block = readme.split("```yaml\nweb:\n", 1)[1].split("```", 1)[0]
    assert parse_config("web:\n" + block, "README.md") == Config()


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


def test_web_flags_override_only_what_they_give():
    config = parse_config("web: {max_requests: 7, config_file: web.yml}")
    flagged = config.with_web(listen_address="0.0.0.0:9999", config_file=None, max_requests=0)
    assert (flagged.web.listen_address, flagged.web.config_file, flagged.web.max_requests) == (
        "0.0.0.0:9999",
        "web.yml",
        0,
    )
