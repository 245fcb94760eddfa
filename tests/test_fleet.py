"""A fleet for real, on loopback: three sidecars, a Prometheus agent beside each (the shipped
deploy/fleet/agent.yml), all writing to a central Prometheus (central.yml, the rendered
rules) and to a VictoriaMetrics. Per-host counts are exact on both stores; exemplars
arrive with their host; every dashboard query narrowed to one host sees only that host;
a dead sidecar fires its alert for its VM alone; an agent stopped for a while and restarted
ends with exact counts. The tests run in file order: the last two change the fleet."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from exporter.artifacts.dashboards import render_dashboards
from exporter.config import Config
from tests.support.fleet import CentralPrometheus, PrometheusAgent, VictoriaMetrics
from tests.support.processes import (
    Exporter,
    ManagedProcess,
    PromQLApi,
    run_exporter,
    wait_until,
)

pytestmark = pytest.mark.e2e

HOSTS = {"vm-1": 3, "vm-2": 5, "vm-3": 7}
"""Workflows each VM's AutoBot completes, different so that a mix-up shows."""
COMPLETED = 'sum by (host) (autobot_workflows_finished_total{status="completed"})'
RULES_CONFIG = "rules: {alert_for: {AutoBotExporterDown: 1s}}\n"


@dataclass
class Fleet:
    directory: Path
    central: CentralPrometheus
    victoria: VictoriaMetrics
    sidecars: dict[str, Exporter]
    agents: dict[str, PrometheusAgent]

    def start_agent(self, host: str) -> PrometheusAgent:
        agent = PrometheusAgent(
            self.directory,
            host,
            self.sidecars[host].address,
            self.central.url,
            self.victoria.url,
        )
        self.agents[host] = agent
        return agent


def complete_workflows(sidecar: Exporter, host: str, first: int, count: int) -> None:
    now = time.time()
    events = []
    for number in range(first, first + count):
        workflow = f"{host}-wf-{number}"
        events += [
            {"type": "workflow_started", "workflow_id": workflow, "ts": now - 30},
            {
                "type": "workflow_finished",
                "workflow_id": workflow,
                "ts": now,
                "status": "completed",
            },
        ]
    assert sidecar.post_events(events).status_code == 202


def counts(store: PromQLApi) -> dict[str, float]:
    return {s["metric"]["host"]: float(s["value"][1]) for s in store.query(COMPLETED)}


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fleet]:
    directory = tmp_path_factory.mktemp("fleet")
    config = directory / "rules-config.yml"
    config.write_text(RULES_CONFIG)
    rendered = run_exporter("rules", "--config.file", str(config))
    assert rendered.returncode == 0, rendered.stderr
    (directory / "rules.yml").write_text(rendered.stdout)
    started: list[ManagedProcess] = []
    agents: dict[str, PrometheusAgent] = {}
    try:
        central = CentralPrometheus(directory, directory / "rules.yml")
        started.append(central)
        victoria = VictoriaMetrics(directory)
        started.append(victoria)
        sidecars = {}
        for host in HOSTS:
            sidecars[host] = Exporter(directory, "collection_interval: 500ms\n")
            started.append(sidecars[host])
        running = Fleet(directory, central, victoria, sidecars, agents)
        for host, completed in HOSTS.items():
            complete_workflows(sidecars[host], host, 0, completed)
            running.start_agent(host)
        yield running
    finally:
        for process in [*agents.values(), *reversed(started)]:
            process.stop()


@pytest.mark.parametrize("store", ["central", "victoria"])
def test_per_host_counts_are_exact_on_both_stores(fleet, store):
    target = fleet.central if store == "central" else fleet.victoria
    expected = {host: float(count) for host, count in HOSTS.items()}
    wait_until(lambda: counts(target) == expected, 30, f"{expected} on {store}")
    instances = {s["metric"]["instance"] for s in target.query("autobot_exporter_build_info")}
    assert len(instances) == 3  # three loopback ports here; on real VMs one address thrice


def test_exemplars_arrive_with_their_host(fleet):
    def hosts_with_exemplars() -> set[str]:
        now = time.time()
        found = fleet.central.api(
            "/api/v1/query_exemplars",
            query="autobot_workflow_duration_seconds_bucket",
            start=now - 600,
            end=now + 60,
        )
        return {
            series["seriesLabels"]["host"]
            for series in found
            if all(
                e["labels"]["workflow_id"].startswith(series["seriesLabels"]["host"])
                for e in series["exemplars"]
            )
        }

    assert wait_until(lambda: hosts_with_exemplars() == set(HOSTS), 30, "exemplars of every host")


def dashboard_queries() -> list[tuple[str, str]]:
    queries = []
    for name, text in render_dashboards(Config()).items():
        for panel in json.loads(text)["panels"]:
            for query in panel.get("targets", []):
                queries.append((f"{name}: {panel['title']}", query["expr"]))
    return queries


def narrowed(expr: str, host: str) -> str:
    for variable, value in (
        ("cluster", "autobot"),
        ("host", host),
        ("job", "autobot-exporter"),
        ("instance", ".+"),
        ("service", ".+"),
    ):
        expr = expr.replace(f'"${variable}"', f'"{value}"')
    return expr.replace("$__rate_interval", "1m")


def test_every_dashboard_query_narrowed_to_one_host_sees_only_that_host(fleet):
    wait_until(lambda: len(counts(fleet.central)) == 3, 30, "every host on the central store")
    fleet_table = next(expr for title, expr in dashboard_queries() if "VMs, worst first" in title)
    every_host = {s["metric"]["host"] for s in fleet.central.query(narrowed(fleet_table, ".*"))}
    assert every_host == set(HOSTS)  # the fleet dashboard shows every VM
    answered = 0
    for where, expr in dashboard_queries():
        for series in fleet.central.query(narrowed(expr, "vm-2")):
            assert series["metric"].get("host", "vm-2") == "vm-2", (where, series)
            answered += 1
        # a selector without the host filter would keep another VM's series here
        assert fleet.central.query(narrowed(expr, "no-such-vm")) == [], where
    assert answered > 50
    scoped = 'sum(autobot_workflows_finished_total{host=~"vm-2", status="completed"})'
    assert float(fleet.central.query(scoped)[0]["value"][1]) == HOSTS["vm-2"]


def test_a_dead_sidecar_fires_its_alert_for_its_vm_alone(fleet):
    fleet.sidecars["vm-2"].stop()

    def down_hosts() -> set[str]:
        return {labels["host"] for labels in fleet.central.firing("AutoBotExporterDown")}

    assert wait_until(down_hosts, 60, "AutoBotExporterDown") == {"vm-2"}
    firing = fleet.central.firing("AutoBotExporterDown")
    assert [(a["cluster"], a["host"], a["severity"]) for a in firing] == [
        ("autobot", "vm-2", "critical")
    ]


def test_an_agent_stopped_for_a_while_ends_with_exact_counts(fleet):
    fleet.agents["vm-3"].stop()
    complete_workflows(fleet.sidecars["vm-3"], "vm-3", HOSTS["vm-3"], 4)  # while it is down
    fleet.start_agent("vm-3")  # the same WAL directory
    for store in (fleet.central, fleet.victoria):
        wait_until(
            lambda store=store: counts(store).get("vm-3") == HOSTS["vm-3"] + 4,
            30,
            "vm-3's count after its agent came back",
        )
        assert counts(store)["vm-1"] == HOSTS["vm-1"]
    log = fleet.agents["vm-3"].log_text()
    assert re.search(r"(?i)replay", log), log[-2000:]
