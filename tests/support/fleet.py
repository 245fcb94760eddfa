"""A fleet on loopback, from the shipped deploy/fleet/ configs: per VM a Prometheus agent
(agent.yml, its scrape interval and addresses made local), a central Prometheus
(central.yml) and a VictoriaMetrics single node, all real processes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from tests.support.processes import (
    ManagedProcess,
    PromQLApi,
    free_port,
    installed,
    yaml_file,
)

FLEET = Path(__file__).resolve().parents[2] / "deploy" / "fleet"
SEND_DEADLINE = "500ms"
"""How long a sample may wait in an agent's queue here (5s in the shipped config)."""


def _local_writes(shipped: dict[str, Any], urls: list[str], exemplars: bool) -> list[dict]:
    base = shipped["remote_write"][0]
    queue = {**base["queue_config"], "batch_send_deadline": SEND_DEADLINE}
    return [
        {**base, "url": url, "send_exemplars": exemplars, "queue_config": queue} for url in urls
    ]


class PrometheusAgent(ManagedProcess):
    """deploy/fleet/agent.yml for VM ``host``: scraping ``sidecar`` every second and writing
    to the central Prometheus (with exemplars) and to VictoriaMetrics."""

    def __init__(
        self, directory: Path, host: str, sidecar: str, prometheus: str, victoria_metrics: str
    ) -> None:
        self.host = host
        self.port = free_port()
        config = yaml.safe_load((FLEET / "agent.yml").read_text())
        config["global"]["scrape_interval"] = "1s"
        config["scrape_configs"][0]["static_configs"] = [{"targets": [sidecar]}]
        victoria = yaml.safe_load((FLEET / "agent-victoria-metrics.yml").read_text())
        config["remote_write"] = _local_writes(
            config, [f"{prometheus}/api/v1/write"], exemplars=True
        ) + _local_writes(victoria, [f"{victoria_metrics}/api/v1/write"], exemplars=False)
        self.wal = directory / f"agent-{host}-wal"
        path = yaml_file(directory / f"agent-{host}.yml", config)
        super().__init__(
            [
                installed("prometheus"),
                "--enable-feature=agent,expand-external-labels",
                f"--config.file={path}",
                f"--storage.agent.path={self.wal}",
                f"--web.listen-address=127.0.0.1:{self.port}",
            ],
            directory / f"agent-{host}-{self.port}.log",
            env={"AUTOBOT_HOST": host},
        )
        self.wait_ready(f"http://127.0.0.1:{self.port}/-/ready")


class CentralPrometheus(PromQLApi, ManagedProcess):
    """deploy/fleet/central.yml: the remote-write receiver and exemplar storage on, the
    given rule file evaluated every second, no Alertmanager (alerts read from its API)."""

    def __init__(self, directory: Path, rules: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = yaml.safe_load((FLEET / "central.yml").read_text())
        config["global"]["evaluation_interval"] = "1s"
        config["rule_files"] = [str(rules)]
        config.pop("alerting")
        config["scrape_configs"][0]["static_configs"] = [{"targets": [f"127.0.0.1:{self.port}"]}]
        super().__init__(
            [
                installed("prometheus"),
                f"--config.file={yaml_file(directory / 'central.yml', config)}",
                f"--storage.tsdb.path={directory / 'central-data'}",
                f"--web.listen-address=127.0.0.1:{self.port}",
                "--web.enable-remote-write-receiver",
                "--enable-feature=exemplar-storage",
            ],
            directory / "central.log",
        )
        self.wait_ready(self.url + "/-/ready")

    def firing(self, alertname: str) -> list[dict[str, str]]:
        """The labels of the alerts of this name that fire now."""
        alerts = self.api("/api/v1/alerts")["alerts"]
        return [
            a["labels"]
            for a in alerts
            if a["labels"]["alertname"] == alertname and a["state"] == "firing"
        ]


class VictoriaMetrics(PromQLApi, ManagedProcess):
    """A single node taking Prometheus remote write; its query API shows the newest samples
    at once (``-search.latencyOffset=0s``; 30 s by default)."""

    def __init__(self, directory: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        super().__init__(
            [
                installed("victoria-metrics"),
                f"-httpListenAddr=127.0.0.1:{self.port}",
                f"-storageDataPath={directory / 'victoria-metrics-data'}",
                "-retentionPeriod=1d",
                "-search.latencyOffset=0s",
                "-search.disableCache",
            ],
            directory / "victoria-metrics.log",
        )
        self.wait_ready(self.url + "/health")
