"""The Fleet dashboard: one row per AutoBot VM, the worst first, then each resource and
the workflows per VM, so the VM in trouble is found at a glance (docs/fleet.md)."""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard, table
from grafana_foundation_sdk.models import dashboard as model
from grafana_foundation_sdk.models.prometheus import PromQueryFormat

from exporter.artifacts.dashboards.common import (
    colour_steps,
    graph,
    listing,
    new_dashboard,
    rate,
    ratio_graph,
    s,
    target,
)
from exporter.config import Config

BY_VM = "cluster, host"
CPU = "autobot_system_cpu_usage_ratio"
MEMORY = "autobot_system_memory_usage_ratio"
DISK = "autobot_system_disk_usage_ratio"
FAILED = 'status=~"failed|timeout|abandoned"'

COLUMNS = {
    "A": "Worst (share of its critical level)",
    "B": "CPU",
    "C": "Memory",
    "D": "Fullest disk",
    "E": "Health (0 ok, 1 warning, 2 critical)",
    "F": "Sidecar up",
    "G": "AutoBot processes",
    "H": "Workflows active",
    "I": "Workflows failed (interval)",
}


def _worst(config: Config) -> str:
    """Each VM's highest reading over its critical level: above 1 is critical."""
    levels = config.thresholds
    parts = [
        f'label_replace({s(CPU)} / {levels.cpu.critical:g}, "resource", "cpu", "", "")',
        f'label_replace({s(MEMORY)} / {levels.memory.critical:g}, "resource", "memory", "", "")',
        f'label_replace({s(DISK)} / {levels.disk.critical:g}, "resource", "disk", "", "")',
    ]
    return f"max by ({BY_VM}) ({' or '.join(parts)})"


def _health() -> str:
    critical = s("autobot_health_status", 'state="critical"')
    warning = s("autobot_health_status", 'state="warning"')
    return f"max by ({BY_VM}) (2 * {critical} + ignoring(state) {warning})"


def _vm_table(config: Config) -> table.Panel:
    queries = {
        "A": _worst(config),
        "B": f"max by ({BY_VM}) ({s(CPU)})",
        "C": f"max by ({BY_VM}) ({s(MEMORY)})",
        "D": f"max by ({BY_VM}) ({s(DISK)})",
        "E": _health(),
        "F": f"min by ({BY_VM}) ({s('up')})",
        "G": f"sum by ({BY_VM}) ({s('autobot_processes')})",
        "H": f"sum by ({BY_VM}) ({s('autobot_workflows_active')})",
        "I": (f"sum by ({BY_VM}) ({rate('autobot_workflows_finished_total', FAILED, 'increase')})"),
    }
    panel = listing(
        "VMs, worst first",
        "One row per AutoBot VM: its highest reading against the critical level (CPU "
        f"{config.thresholds.cpu.critical:.0%}, memory {config.thresholds.memory.critical:.0%}, "
        f"disk {config.thresholds.disk.critical:.0%}), the readings, health, whether its "
        "sidecar answers, AutoBot processes, workflows active and failed.",
        "short",
        target(queries["A"], instant=True, format_as=PromQueryFormat.TABLE),
        width=24,
    )
    for expr in list(queries.values())[1:]:
        panel = panel.with_target(target(expr, instant=True, format_as=PromQueryFormat.TABLE))
    renamed = {f"Value #{letter}": name for letter, name in COLUMNS.items()}
    return (
        panel.height(10)
        .with_transformation(model.DataTransformerConfig(id_val="merge", options={}))
        .with_transformation(
            model.DataTransformerConfig(
                id_val="organize",
                options={"excludeByName": {"Time": True}, "renameByName": renamed},
            )
        )
        .with_transformation(
            model.DataTransformerConfig(
                id_val="sortBy",
                options={"sort": [{"field": COLUMNS["A"], "desc": True}]},
            )
        )
        .thresholds(colour_steps(0.8, 1.0))
    )


def build(config: Config) -> dashboard.Dashboard:
    levels = config.thresholds
    return (
        new_dashboard(
            "AutoBot exporter / Fleet",
            "autobot-exporter-fleet",
            "Every AutoBot VM at a glance, the worst first: resources against AutoBot's "
            "levels, health, sidecars, processes and workflows per host.",
        )
        .with_row(dashboard.Row("VMs"))
        .with_panel(_vm_table(config))
        .with_row(dashboard.Row("Resources by VM"))
        .with_panel(
            ratio_graph(
                "CPU by VM",
                "Busy share of each VM's CPUs, with the warning and critical levels.",
                levels.cpu,
                target(f"max by ({BY_VM}) ({s(CPU)})", "{{host}}"),
            )
        )
        .with_panel(
            ratio_graph(
                "Memory by VM",
                "Memory in use on each VM, with the warning and critical levels.",
                levels.memory,
                target(f"max by ({BY_VM}) ({s(MEMORY)})", "{{host}}"),
            )
        )
        .with_panel(
            ratio_graph(
                "Fullest disk by VM",
                "Each VM's fullest filesystem, with the warning and critical levels.",
                levels.disk,
                target(f"max by ({BY_VM}) ({s(DISK)})", "{{host}}"),
            )
        )
        .with_row(dashboard.Row("AutoBot by VM"))
        .with_panel(
            graph(
                "Workflows active by VM",
                "Workflows started and not finished, per VM.",
                "short",
                target(f"sum by ({BY_VM}) ({s('autobot_workflows_active')})", "{{host}}"),
                width=8,
            )
        )
        .with_panel(
            graph(
                "Workflows failing by VM",
                "Workflows ending failed, timed out or abandoned per second, per VM.",
                "ops",
                target(
                    f"sum by ({BY_VM}) ({rate('autobot_workflows_finished_total', FAILED)})",
                    "{{host}}",
                ),
                width=8,
            )
        )
        .with_panel(
            graph(
                "Sidecars and AutoBot processes by VM",
                "Whether each VM's sidecar answers its scrape (up), and its AutoBot processes.",
                "short",
                target(f"min by ({BY_VM}) ({s('up')})", "{{host}} sidecar up"),
                target(
                    f"sum by ({BY_VM}) ({s('autobot_processes')})", "{{host}} AutoBot processes"
                ),
                width=8,
            )
        )
    )
