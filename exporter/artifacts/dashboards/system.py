"""The System health dashboard: CPU, memory and disk against AutoBot's levels, health
state, the AutoBot process groups, network, the exporter itself, firing alerts."""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard, prometheus, stat, timeseries
from grafana_foundation_sdk.models import dashboard as model
from grafana_foundation_sdk.models.prometheus import PromQueryFormat

from exporter.artifacts.dashboards.common import (
    GREEN,
    RED,
    YELLOW,
    colour_steps,
    graph,
    listing,
    new_dashboard,
    rate,
    ratio_graph,
    s,
    single_stat,
    target,
)
from exporter.config import Config, Threshold

HEALTH_STATES = (("OK", GREEN), ("Warning", YELLOW), ("Critical", RED))
FIRING_AUTOBOT_ALERTS = 'alertstate="firing", alertname=~"AutoBot.*"'


def _resource(
    title: str, what: str, level: Threshold, query: prometheus.Dataquery
) -> timeseries.Panel:
    """A resource ratio with AutoBot's levels drawn on it and named in its description."""
    warning, critical = (f"{ratio * 100:g}%" for ratio in (level.warning, level.critical))
    description = f"{what}; warning above {warning}, critical above {critical}."
    return ratio_graph(title, description, level, query)


def _health_state() -> stat.Panel:
    """0 ok, 1 warning, 2 critical, mapped to names and colours."""
    critical = s("autobot_health_status", 'state="critical"')
    warning = s("autobot_health_status", 'state="warning"')
    worst = f"max(2 * {critical} + ignoring(state) {warning})"
    mappings: list[model.ValueMapping] = [
        model.ValueMap(
            options={
                str(value): model.ValueMappingResult(text=text, color=color, index=value)
                for value, (text, color) in enumerate(HEALTH_STATES)
            }
        )
    ]
    return (
        single_stat(
            "Health",
            "AutoBot health: the worst of CPU, memory and disk against their levels.",
            "short",
            target(worst),
        )
        .mappings(mappings)
        .color_scheme(dashboard.FieldColor().mode(model.FieldColorModeId.THRESHOLDS))
        .thresholds(colour_steps(1, 2))
    )


def build(config: Config) -> dashboard.Dashboard:
    levels = config.thresholds
    return (
        new_dashboard(
            "AutoBot exporter / System health",
            "autobot-exporter-system",
            "Host and AutoBot processes against AutoBot's health levels, and the exporter.",
        )
        .with_row(dashboard.Row("Health"))
        .with_panel(_health_state())
        .with_panel(
            single_stat(
                "AutoBot processes",
                "Processes in the AutoBot process groups.",
                "short",
                target(f"sum({s('autobot_processes')})"),
            )
        )
        .with_panel(
            single_stat(
                "Monitoring",
                "1 while the exporter samples the host; 0 after monitoring/stop.",
                "bool_on_off",
                target(f"min({s('autobot_exporter_monitoring_active')})"),
            )
        )
        .with_panel(
            listing(
                "Firing alerts",
                "AutoBot alerts firing now, with their severity.",
                "short",
                target(
                    f"sum by (alertname, severity) ({s('ALERTS', FIRING_AUTOBOT_ALERTS)})",
                    instant=True,
                    format_as=PromQueryFormat.TABLE,
                ),
                width=6,
            )
        )
        .with_row(dashboard.Row("Resources"))
        .with_panel(
            _resource(
                "CPU",
                "Busy share of the available CPUs (of the cgroup quota when set)",
                levels.cpu,
                target(s("autobot_system_cpu_usage_ratio"), "{{instance}}"),
            )
        )
        .with_panel(
            _resource(
                "Memory",
                "Memory in use (against the cgroup limit when set)",
                levels.memory,
                target(s("autobot_system_memory_usage_ratio"), "{{instance}}"),
            )
        )
        .with_panel(
            _resource(
                "Disk",
                "Used share of each filesystem",
                levels.disk,
                target(s("autobot_system_disk_usage_ratio"), "{{instance}} {{mountpoint}}"),
            )
        )
        .with_row(dashboard.Row("AutoBot processes"))
        .with_panel(
            graph(
                "CPU by group",
                "CPU seconds per second of each process group, by mode.",
                "s",
                target(
                    f"sum by (group, mode) ({rate('autobot_process_cpu_seconds_total')})",
                    "{{group}} {{mode}}",
                ),
                width=8,
            )
        )
        .with_panel(
            graph(
                "Resident memory by group",
                "Resident memory of each process group.",
                "bytes",
                target(
                    f"sum by (group) ({s('autobot_process_resident_memory_bytes')})", "{{group}}"
                ),
                width=8,
            )
        )
        .with_panel(
            graph(
                "Processes, threads and open files by group",
                "Process, thread and file descriptor counts of each process group.",
                "short",
                target(f"sum by (group) ({s('autobot_processes')})", "{{group}} processes"),
                target(f"sum by (group) ({s('autobot_process_threads')})", "{{group}} threads"),
                target(f"sum by (group) ({s('autobot_process_open_fds')})", "{{group}} fds"),
                width=8,
            )
        )
        .with_row(dashboard.Row("Network and load"))
        .with_panel(
            graph(
                "Network",
                "Bytes per second received and transmitted, by interface.",
                "Bps",
                target(
                    f"sum by (interface) ({rate('autobot_system_network_receive_bytes_total')})",
                    "{{interface}} receive",
                ),
                target(
                    f"sum by (interface) ({rate('autobot_system_network_transmit_bytes_total')})",
                    "{{interface}} transmit",
                ),
            )
        )
        .with_panel(
            graph(
                "Load average",
                "1, 5 and 15 minute load averages.",
                "short",
                target(s("autobot_system_load1"), "{{instance}} 1m"),
                target(s("autobot_system_load5"), "{{instance}} 5m"),
                target(s("autobot_system_load15"), "{{instance}} 15m"),
            )
        )
        .with_row(dashboard.Row("Exporter"))
        .with_panel(
            graph(
                "Events ingested",
                "Events applied per second, by type.",
                "ops",
                target(f"sum by (type) ({rate('autobot_exporter_events_total')})", "{{type}}"),
                width=6,
            )
        )
        .with_panel(
            graph(
                "Events rejected",
                "Events and requests refused per second, by reason.",
                "ops",
                target(
                    f"sum by (reason) ({rate('autobot_exporter_events_rejected_total')})",
                    "{{reason}}",
                ),
                width=6,
            )
        )
        .with_panel(
            graph(
                "Sampling duration",
                "How long each piece of the latest sampling pass took.",
                "s",
                target(s("autobot_exporter_collector_duration_seconds"), "{{collector}}"),
                width=6,
            )
        )
        .with_panel(
            single_stat(
                "Unreadable filesystems",
                "Mount points whose statvfs failed or outlived filesystem.mount_timeout in the "
                "latest pass; their disk usage is not measured.",
                "short",
                target(f"sum({s('autobot_system_disk_device_error')})"),
                width=6,
            )
        )
    )
