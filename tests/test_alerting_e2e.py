"""The whole alert path with real programs: the exporter, Prometheus with rules rendered
from the exporter's own config, Alertmanager with the shipped routing, and a webhook."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests
import yaml

from tests.support.processes import run_exporter, wait_until
from tests.support.webhook import WebhookReceiver

SHIPPED_ALERTMANAGER = Path(__file__).resolve().parents[1] / "deploy/alertmanager/alertmanager.yml"

# The disk thresholds are lowered below what any host uses, so the alert fires here; its
# for: is shortened through the same config, as an operator would.
EXPORTER_CONFIG = """
collection_interval: 250ms
thresholds:
  disk: {critical: 0.01}
rules:
  alert_for: {AutoBotDiskUsageCritical: 1s, AutoBotDiskUsageWarning: 1s}
"""


def fast_alertmanager_config(webhook_url: str) -> dict:
    """The shipped config, with its webhooks pointed at the test and its waits shortened."""
    config = yaml.safe_load(SHIPPED_ALERTMANAGER.read_text())
    for receiver in config["receivers"]:
        for webhook in receiver.get("webhook_configs", []):
            webhook["url"] = webhook_url
    for route in (config["route"], *config["route"]["routes"]):
        route.update(group_wait="1s", group_interval="1s")
    return config


@pytest.fixture
def webhook():
    receiver = WebhookReceiver()
    yield receiver
    receiver.close()


def test_disk_alert_fires_through_alertmanager_and_resolves(
    start_exporter, start_prometheus, start_alertmanager, webhook, tmp_path
):
    exporter = start_exporter(EXPORTER_CONFIG)
    rules = tmp_path / "rules.yml"
    rendered = run_exporter("rules", "--config.file", str(exporter.config_path))
    assert rendered.returncode == 0, rendered.stderr
    rules.write_text(rendered.stdout)
    alertmanager = start_alertmanager(fast_alertmanager_config(webhook.url))
    start_prometheus([exporter.address], rule_files=(rules,), alertmanagers=(alertmanager.address,))

    fired = wait_until(
        lambda: webhook.alerts("firing", "AutoBotDiskUsageCritical"),
        90,
        "the disk alert to reach the webhook",
    )
    payload = next(
        p
        for p in webhook.payloads
        if any(a["labels"]["alertname"] == "AutoBotDiskUsageCritical" for a in p["alerts"])
    )
    assert payload["version"] == "4"
    assert payload["receiver"] == "autobot-critical"
    alert = fired[0]
    assert alert["labels"] | {"mountpoint": "/"} == {
        "alertname": "AutoBotDiskUsageCritical",
        "severity": "critical",
        "resource": "disk",
        "mountpoint": "/",
        "instance": exporter.address,
        "job": "autobot-exporter",
    }
    assert alert["annotations"]["summary"] == f"AutoBot host disk above 1% on {exporter.address}"
    assert alert["annotations"]["description"].startswith(
        f"Disk usage on {alert['labels']['mountpoint']} on {exporter.address} is "
    )

    # the warning is true too, but Alertmanager holds it back behind the critical
    inhibited = wait_until(
        lambda: [
            a
            for a in requests.get(f"http://{alertmanager.address}/api/v2/alerts", timeout=5).json()
            if a["labels"]["alertname"] == "AutoBotDiskUsageWarning"
            and a["status"]["state"] == "suppressed"
            and a["status"]["inhibitedBy"]
        ],
        60,
        "Alertmanager to inhibit the disk warning",
    )
    assert inhibited[0]["labels"]["mountpoint"] == alert["labels"]["mountpoint"]

    # Until monitoring stops, both conditions hold steadily: any warning delivered by then
    # got past the inhibition. (After the stop, Prometheus sends each rule's resolution on
    # its own, so the warning may be delivered in the moment between the critical's
    # resolution and its own: Alertmanager lifting the inhibition, not failing it.)
    delivered_while_critical = list(webhook.payloads)
    stopped = exporter.session.post(exporter.url + "/api/metrics/system/monitoring/stop")
    assert stopped.status_code == 200
    wait_until(
        lambda: webhook.alerts("resolved", "AutoBotDiskUsageCritical"),
        90,
        "the disk alert to resolve",
    )
    assert not any(
        a["labels"]["alertname"] == "AutoBotDiskUsageWarning"
        for payload in delivered_while_critical
        for a in payload["alerts"]
    ), [(p["status"], p["groupLabels"]) for p in delivered_while_critical]
