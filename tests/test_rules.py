"""The rules: one source with the health config, promtool-clean, every alert unit-tested on
both sides; the shipped Prometheus and Alertmanager configs pass their checkers."""

from __future__ import annotations

import re
import subprocess
from collections import defaultdict
from pathlib import Path

import pytest
import yaml

from exporter.artifacts.compat_rules import compatibility_rules
from exporter.artifacts.rules import alert_rules, prometheus_duration, recording_rules, render_rules
from exporter.config import Config, ConfigError, parse_config
from tests.support.processes import run_exporter
from tests.support.promtool import promtool
from tests.test_docs import documented_metrics

ROOT = Path(__file__).resolve().parents[1]
SHIPPED_RULES = ROOT / "deploy" / "prometheus" / "autobot-rules.yml"
ALERT_TESTS = ROOT / "tests" / "promtool" / "autobot_alerts_test.yml"


def rule_groups(text: str) -> list[dict]:
    return yaml.safe_load(text)["groups"]


def test_shipped_rules_equal_the_rendering_of_the_default_config():
    assert SHIPPED_RULES.read_text() == render_rules(Config()), (
        "regenerate: autobot-exporter rules > deploy/prometheus/autobot-rules.yml"
    )


def test_the_rules_command_prints_the_same():
    result = run_exporter("rules")
    assert result.stdout == SHIPPED_RULES.read_text()


def test_promtool_check_rules():
    result = promtool("check", "rules", str(SHIPPED_RULES))
    assert result.returncode == 0, result.stdout + result.stderr
    rendered = (
        len(alert_rules(Config()))
        + len(recording_rules(Config()))
        + len(compatibility_rules(Config()))
    )
    assert f"SUCCESS: {rendered} rules found" in result.stdout


def test_promtool_unit_tests_pass():
    result = promtool("test", "rules", str(ALERT_TESTS))
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_alert_is_unit_tested_firing_and_silent():
    tests = yaml.safe_load(ALERT_TESTS.read_text())["tests"]
    seen: dict[str, set[bool]] = defaultdict(set)
    for case in tests:
        for check in case.get("alert_rule_test", []):
            seen[check["alertname"]].add(bool(check["exp_alerts"]))
    for alert in alert_rules(Config()):
        assert seen[alert.name] == {True, False}, f"{alert.name} needs both sides tested"


def test_every_alert_has_for_severity_summary_and_description():
    alerts = [r for g in rule_groups(SHIPPED_RULES.read_text()) for r in g["rules"] if "alert" in r]
    assert len(alerts) == len(alert_rules(Config())) == 24
    for alert in alerts:
        assert re.fullmatch(r"AutoBot[A-Z][A-Za-z]+", alert["alert"])
        assert alert["for"]
        assert alert["labels"]["severity"] in {"critical", "warning"}
        assert alert["annotations"]["summary"] and alert["annotations"]["description"]


def test_every_alert_keeps_the_host_and_names_it():
    """A fleet's series carry cluster and host (docs/fleet.md): every aggregation in a rule
    keeps them, and every alert about one VM names it in its summary and description."""
    rules = [r for g in rule_groups(SHIPPED_RULES.read_text()) for r in g["rules"]]
    for rule in rules:
        if "autobot-compatibility" in str(rule.get("record", "")):
            continue
        for grouping in re.findall(r"\b(?:by|on) \(([^)]*)\)", rule["expr"]):
            assert {"cluster", "host"} <= {g.strip() for g in grouping.split(",")}, rule["expr"]
    for rule in rules:
        if "alert" not in rule or rule["alert"] == "AutoBotExporterNotScraped":
            continue
        for text in rule["annotations"].values():
            assert "$labels.host" in text, (rule["alert"], text)


def recorded_names(group_name: str) -> list[str]:
    return [
        r["record"]
        for g in rule_groups(SHIPPED_RULES.read_text())
        if g["name"] == group_name
        for r in g["rules"]
    ]


def test_recording_rules_are_named_level_metric_operations():
    records = recorded_names("autobot-exporter.recording")
    assert records and all(re.fullmatch(r"autobot:[a-z_]+:[a-z0-9_]+", r) for r in records)


def test_the_compatibility_group_records_autobots_names_and_can_be_left_out():
    """AutoBot's names are the point of this group, so they break the level:metric:ops
    convention; none of them is a name the exporter exposes itself."""
    records = set(recorded_names("autobot-exporter.autobot-compatibility"))
    assert {"autobot_workflow_executions_total", "autobot_cpu_usage_percent"} <= records
    assert not records & documented_metrics(), "a recorded name would collide with a scraped one"
    without = render_rules(parse_config("rules: {autobot_compatibility: false}"))
    assert "autobot-compatibility" not in without
    assert "autobot_workflow_executions_total" not in without


def test_thresholds_come_from_the_config():
    config = parse_config(
        "thresholds: {cpu: {critical: 0.5}}\n"
        "rules: {selector: 'job=\"bots\"', alert_for: {AutoBotCPUUsageCritical: 1m}}"
    )
    alerts = {
        r["alert"]: r for g in rule_groups(render_rules(config)) for r in g["rules"] if "alert" in r
    }
    critical, warning = alerts["AutoBotCPUUsageCritical"], alerts["AutoBotCPUUsageWarning"]
    assert critical["expr"] == 'autobot_system_cpu_usage_ratio{job="bots"} > 0.5'
    assert warning["expr"] == 'autobot_system_cpu_usage_ratio{job="bots"} > 0.4'
    assert (critical["for"], warning["for"]) == ("1m", "15m")
    assert config.thresholds.cpu.warning == 0.4  # the level the health endpoint uses too


def test_unknown_alert_in_alert_for_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="AutoBotNoSuchAlert"):
        render_rules(parse_config("rules: {alert_for: {AutoBotNoSuchAlert: 1m}}"))
    path = tmp_path / "bad.yml"
    path.write_text("rules: {alert_for: {AutoBotNoSuchAlert: 1m}}\n")
    result = run_exporter("check-config", str(path))
    assert result.returncode == 1 and "AutoBotNoSuchAlert" in result.stderr


@pytest.mark.parametrize(
    ("seconds", "text"), [(300, "5m"), (5400, "1h30m"), (0.5, "500ms"), (86400, "1d"), (1, "1s")]
)
def test_prometheus_durations(seconds, text):
    assert prometheus_duration(seconds) == text


def test_prometheus_config_is_valid():
    result = promtool("check", "config", str(ROOT / "prometheus.yml"))
    assert result.returncode == 0, result.stdout + result.stderr


def test_alertmanager_config_is_valid():
    result = subprocess.run(
        ["amtool", "check-config", str(ROOT / "deploy" / "alertmanager" / "alertmanager.yml")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
