"""The docs' tables that mirror code stay equal to it: the metric table against what the
exporter exposes and defines, the alert table against the rendered rules, the config
block against the embedded defaults."""

from __future__ import annotations

import json
import re
from pathlib import Path

from exporter.artifacts.rules import alert_rules, prometheus_duration
from exporter.config import Config, parse_config
from tests.support.processes import parse_samples, wait_until

TOP = Path(__file__).resolve().parents[1]
DOCS = TOP / "docs"
STANDARD_PREFIXES = ("process_", "python_")
"""client_python's own collectors, documented as ``process_*`` and ``python_*``."""


def table_rows(markdown: str) -> list[list[str]]:
    """The cells of every table row but headers and rules."""
    rows = []
    for line in markdown.splitlines():
        if line.startswith("| ") and not line.startswith("| ---"):
            rows.append([cell.strip() for cell in line.strip().strip("|").split(" | ")])
    return rows


def documented_metrics() -> set[str]:
    names = set()
    for row in table_rows((DOCS / "metrics.md").read_text()):
        names.update(re.findall(r"`(autobot_[a-z0-9_]+)`", row[0]))
    return names


def family_name(sample_name: str) -> str:
    return re.sub(r"_(bucket|count|sum|created)$", "", sample_name)


CONDITIONAL = {
    "autobot_system_cpu_limit_cores": "only under a cgroup CPU quota",
    "autobot_system_memory_limit_bytes": "only under a cgroup memory limit",
    "autobot_process_cpu_usage_ratio": "only once an AutoBot process was seen in two passes",
}


def test_the_metric_table_is_what_the_exporter_exposes(start_app):
    exporter = start_app("collection_interval: 200ms\n")
    exporter.post_events(
        [
            {"type": "workflow_started", "workflow_id": "doc-1", "complexity": "c"},
            {
                "type": "step_finished",
                "workflow_id": "doc-1",
                "step_id": "s",
                "agent": "a",
                "success": False,
                "duration_seconds": 1,
            },
            {
                "type": "approval_resolved",
                "workflow_id": "doc-1",
                "outcome": "approved",
                "wait_seconds": 2,
            },
            {"type": "workflow_finished", "workflow_id": "doc-1", "status": "failed"},
        ]
    )
    # the CPU ratio needs two passes
    wait_until(
        lambda: "autobot_system_cpu_usage_ratio " in exporter.metrics_text(), 10, "a CPU ratio"
    )
    exposed = {family_name(name) for name, _ in parse_samples(exporter.metrics_text())}
    documented = documented_metrics()
    undocumented = {n for n in exposed - documented if not n.startswith(STANDARD_PREFIXES)}
    assert not undocumented, f"exposed but not in docs/metrics.md: {sorted(undocumented)}"
    missing = documented - exposed - set(CONDITIONAL)
    assert not missing, f"in docs/metrics.md but never exposed: {sorted(missing)}"


def test_the_alert_table_is_the_rendered_default_rules():
    documented = [
        (row[0].strip("`"), row[1], row[2], row[3])
        for row in table_rows((DOCS / "alerting.md").read_text())
        if row[0].startswith("`AutoBot")
    ]
    rendered = [
        (alert.name, alert.severity, prometheus_duration(alert.for_seconds), alert.why_for)
        for alert in alert_rules(Config())
    ]
    assert documented == rendered


def test_the_config_block_is_the_embedded_default():
    """docs/configuration.md lists every key with its default; it must not drift."""
    text = (DOCS / "configuration.md").read_text()
    block = text.split("```yaml\nweb:\n", 1)[1].split("```", 1)[0]
    assert parse_config("web:\n" + block, "docs/configuration.md") == Config()


def test_every_relative_link_in_the_docs_resolves():
    pages = [TOP / "README.md", TOP / "CONTRIBUTING.md", *DOCS.rglob("*.md")]
    broken = []
    for page in pages:
        for target in re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", page.read_text()):
            if not (page.parent / target).exists():
                broken.append(f"{page.relative_to(TOP)} -> {target}")
    assert not broken, broken


def test_the_readme_stays_a_readme():
    assert len((TOP / "README.md").read_text().splitlines()) <= 250


def test_the_readmes_workflow_by_hand_gets_the_answers_it_shows(start_app):
    """The README's curl example, its body as written, against the exporter: every key the
    README shows in the answer has the value it shows."""
    readme = (TOP / "README.md").read_text()
    blocks = (b.split("```", 1)[0] for b in readme.split("```sh\n")[1:])
    block = next(b for b in blocks if "/api/v1/events" in b)
    body = block.split("-d '", 1)[1].split("'\n", 1)[0]
    exporter = start_app()
    reply = exporter.post_events(body)
    assert reply.text == block.split("# ", 1)[1].splitlines()[0]
    after = block.split("/api/metrics/workflow/wf-42", 1)[1]
    shown = " ".join(line.removeprefix("# ") for line in after.splitlines() if line.startswith("#"))
    answer = exporter.get("/api/metrics/workflow/wf-42").json()
    pairs = re.findall(r'"(\w+)": ("[^"]*"|\[[^\]]*\]|\{[^{}]*\}|[\d.]+|true)', shown)
    assert len(pairs) >= 10, shown
    for key, value in pairs:
        where = answer if key in answer else answer["metrics"]
        assert json.dumps(where[key]) == value, key
