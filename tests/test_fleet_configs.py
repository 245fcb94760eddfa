"""The shipped fleet configs (deploy/fleet/): each passes promtool, and each carries what a
fleet needs: cluster and host on every VM's series, exemplars sent on, file_sd targets
labelled. (Debian's promtool 2.42 has no --agent flag: the agent configs are checked as
server configs, which they are apart from the flag, and run as agents in test_fleet.py.)"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from tests.support.promtool import promtool

FLEET = Path(__file__).resolve().parents[1] / "deploy" / "fleet"
CONFIGS = ["agent.yml", "agent-victoria-metrics.yml", "central.yml", "central-pull.yml"]


@pytest.mark.parametrize("name", CONFIGS)
def test_promtool_accepts_the_config(name):
    result = promtool("check", "config", str(FLEET / name))
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("name", ["agent.yml", "agent-victoria-metrics.yml"])
def test_an_agent_labels_its_vm_and_writes_everything_on(name):
    config = yaml.safe_load((FLEET / name).read_text())
    assert config["global"]["external_labels"] == {"cluster": "autobot", "host": "${AUTOBOT_HOST}"}
    assert config["scrape_configs"][0]["job_name"] == "autobot-exporter"  # the rules' selector
    (write,) = config["remote_write"]
    assert write["url"].endswith("/api/v1/write")
    if name == "agent.yml":
        assert write["send_exemplars"] is True


def test_the_pull_variant_labels_every_target():
    targets = json.loads((FLEET / "sidecars.json").read_text())
    hosts = [group["labels"]["host"] for group in targets]
    assert len(set(hosts)) == len(hosts) == 6
    assert {group["labels"]["cluster"] for group in targets} == {"autobot"}
    pull = yaml.safe_load((FLEET / "central-pull.yml").read_text())
    assert pull["scrape_configs"][0]["file_sd_configs"] == [{"files": ["sidecars.json"]}]
