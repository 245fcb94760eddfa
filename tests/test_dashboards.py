"""The Grafana dashboards: generated from the config, linted for the dashboard-linter
conventions, loadable in the SDK's dashboard model, and every panel query answered by the
real Prometheus of the demo stack."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models.dashboard import Dashboard

from exporter.artifacts.dashboards import render_dashboards
from exporter.config import Config

ROOT = Path(__file__).resolve().parents[1]
DASHBOARD_DIR = ROOT / "grafana" / "dashboards"
FILES = sorted(DASHBOARD_DIR.glob("*.json"))
SELECTOR = re.compile(r"([A-Za-z_:][A-Za-z0-9_:]*)\{([^}]*)\}")
COUNTER_FUNCTIONS = ("rate(", "increase(", "irate(")


def load(path: Path) -> dict:
    return json.loads(path.read_text())


def panels(board: dict) -> list[dict]:
    return [panel for panel in board["panels"] if panel["type"] != "row"]


def queries(board: dict) -> list[tuple[str, str]]:
    return [
        (panel["title"], target["expr"])
        for panel in panels(board)
        for target in panel.get("targets", [])
    ]


def test_there_are_five_dashboards():
    assert [path.name for path in FILES] == [
        "autobot-exporter-agents.json",
        "autobot-exporter-fleet.json",
        "autobot-exporter-system.json",
        "autobot-exporter-traces.json",
        "autobot-exporter-workflows.json",
    ]


def test_committed_dashboards_equal_the_generated_ones():
    generated = render_dashboards(Config())
    assert {path.name: path.read_text() for path in FILES} == generated, (
        "regenerate: autobot-exporter dashboards"
    )


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_lint_variables(path):
    variables = {v["name"]: v for v in load(path)["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == "prometheus"
    for name, all_value in (("cluster", ".*"), ("host", ".*"), ("job", ".+"), ("instance", ".+")):
        variable = variables[name]
        assert variable["type"] == "query"
        assert variable["datasource"]["uid"] == "${datasource}"
        assert variable["multi"] is True and variable["includeAll"] is True
        assert variable["allValue"] == all_value


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_lint_dashboard_settings(path):
    board = load(path)
    assert board["uid"] == path.stem
    assert board["refresh"] and board["time"]["from"].startswith("now-")
    assert "${DS_" not in path.read_text()
    ids = [panel["id"] for panel in board["panels"]]
    assert len(set(ids)) == len(ids)


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_lint_panels(path):
    for panel in panels(load(path)):
        where = f"{path.name}: {panel['title']!r}"
        assert panel["datasource"]["uid"] == "${datasource}", where
        assert panel.get("description"), where
        assert panel["fieldConfig"]["defaults"].get("unit"), where
        assert panel["targets"], where
        for target in panel["targets"]:
            assert target["datasource"]["uid"] == "${datasource}", where
            assert target["refId"], where


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_lint_queries(path):
    for title, expr in queries(load(path)):
        where = f"{path.name}: {title!r}: {expr}"
        selectors = SELECTOR.findall(expr)
        assert selectors, where
        for metric, matchers in selectors:
            for matcher in ('cluster=~"$cluster"', 'host=~"$host"', 'job=~"$job"'):
                assert matcher in matchers, where
            assert 'instance=~"$instance"' in matchers, where
            if metric.endswith("_total") or metric.endswith("_bucket"):
                position = expr.index(f"{metric}{{{matchers}}}")
                assert expr[:position].endswith(COUNTER_FUNCTIONS), f"raw counter: {where}"
        ranges = re.findall(r"\[([^\]]+)\]", expr)
        assert all(r == "$__rate_interval" for r in ranges), where


def test_duration_panels_show_exemplars():
    exemplar_panels = [
        panel["title"]
        for path in FILES
        for panel in panels(load(path))
        if any(target.get("exemplar") for target in panel["targets"])
    ]
    assert "Duration by complexity (p50 / p95 / p99)" in exemplar_panels
    assert "Step latency p95 by agent" in exemplar_panels
    assert "Span duration p95 by service" in exemplar_panels


def test_threshold_lines_follow_the_config():
    config = Config()
    system = json.loads(render_dashboards(config)["autobot-exporter-system.json"])
    by_title = {panel["title"]: panel for panel in panels(system)}
    for title, level in (
        ("CPU", config.thresholds.cpu),
        ("Memory", config.thresholds.memory),
        ("Disk", config.thresholds.disk),
    ):
        defaults = by_title[title]["fieldConfig"]["defaults"]
        steps = [step["value"] for step in defaults["thresholds"]["steps"]]
        assert steps == [None, level.warning, level.critical]
        assert defaults["custom"]["thresholdsStyle"]["mode"] == "line+area"


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_round_trip_through_the_sdk_dashboard_model(path):
    """Unknown or malformed fields would be dropped or fail on the way through the model."""
    data = load(path)
    model = Dashboard.from_json(data)
    assert json.loads(json.dumps(model, cls=JSONEncoder)) == data


def test_provisioning_files_point_at_the_dashboards():
    datasource = yaml.safe_load(
        (ROOT / "grafana/provisioning/datasources/prometheus.yaml").read_text()
    )["datasources"][0]
    assert datasource["type"] == "prometheus"
    workflow, trace = datasource["jsonData"]["exemplarTraceIdDestinations"]
    assert workflow["name"] == "workflow_id"
    assert workflow["url"].endswith("/api/metrics/workflow/$${__value.raw}")
    assert (trace["name"], trace["datasourceUid"]) == ("trace_id", "jaeger")
    provider = yaml.safe_load((ROOT / "grafana/provisioning/dashboards/autobot.yaml").read_text())[
        "providers"
    ][0]
    assert provider["type"] == "file" and provider["options"]["path"]


def substituted(expr: str) -> str:
    return (
        expr.replace("$__rate_interval", "1m")
        .replace('"$job"', '"autobot-exporter"')
        .replace('"$instance"', '".+"')
        .replace('"$cluster"', '".*"')
        .replace('"$host"', '".*"')
        .replace('"$service"', '".+"')
    )


PANEL_QUERIES = [
    pytest.param(path.name, title, expr, id=f"{path.stem}: {title}")
    for path in FILES
    for title, expr in queries(load(path))
]


@pytest.mark.parametrize(("dashboard", "panel", "expr"), PANEL_QUERIES)
def test_every_panel_query_returns_data(demo_stack, dashboard, panel, expr):
    _, prometheus = demo_stack
    result = prometheus.query(substituted(expr))
    assert result, f"{dashboard}, panel {panel!r}: no series for {substituted(expr)}"
