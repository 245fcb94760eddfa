"""Recording rules that give AutoBot's own metric names (those its Grafana dashboards,
alert rules and history route query) from the sidecar's series, so AutoBot's stack works
unchanged on a Prometheus scraping the sidecar. docs/autobot-stack.md maps each name.

The recorded series keep the sidecar's ``job`` and ``instance``. Two of AutoBot's names
need no rule: ``autobot_workflow_duration_seconds`` and ``autobot_approval_wait_seconds``
are the sidecar's own histograms (by ``complexity, status`` and by ``outcome``, where
AutoBot's have ``workflow_type`` and no label); a rule recording them under the same name
would add its series to the scraped ones and double every ``sum``.
"""

from __future__ import annotations

from prometheus_client.utils import floatToGoString

from exporter.artifacts.promql import Recording, Selectors
from exporter.config import Config, Threshold

PERFORMANCE_LATENCY_TARGET_SECONDS = 300.0
"""``autobot_performance_score``: a workflow counts as performing when it completed within
this (or the nearest workflow-duration bucket bound below it)."""


def _relabelled(expr: str, new: str, old: str, *dropped: str) -> str:
    """``expr`` with label ``old`` renamed ``new``, summed over the ``dropped`` labels."""
    without = ", ".join((old, *dropped))
    return f'sum without ({without}) (label_replace({expr}, "{new}", "$1", "{old}", "(.*)"))'


def compatibility_rules(config: Config) -> list[Recording]:
    s = Selectors(config.rules.selector)
    steps = "autobot_step_duration_seconds_count"
    approvals = "autobot_approval_wait_seconds_count"
    rules = [
        Recording(
            "autobot_workflow_executions_total",
            _relabelled(s("autobot_workflows_finished_total"), "workflow_type", "complexity"),
        ),
        Recording(
            "autobot_active_workflows",
            _relabelled(s("autobot_workflows_active"), "workflow_type", "complexity"),
        ),
        Recording(
            "autobot_agent_usage_total",
            _relabelled(s(steps), "agent_type", "agent", "status"),
        ),
    ]
    for status, autobot_status in (("success", "completed"), ("failure", "failed")):
        matcher = f'status="{status}"'
        only_step_type = _relabelled(s(steps, matcher), "step_type", "agent", "status")
        rules += [
            Recording(
                "autobot_workflow_steps_executed_total", only_step_type, {"status": autobot_status}
            ),
            Recording(f"autobot_workflow_steps_{autobot_status}_total", only_step_type),
        ]
    # AutoBot decides approved, rejected or skipped; a timed-out approval keeps its name.
    for outcome, decision in (
        ("approved", "approved"),
        ("denied", "rejected"),
        ("timeout", "timeout"),
    ):
        matcher = f'outcome="{outcome}"'
        rules.append(
            Recording(
                "autobot_workflow_approvals_total",
                f"sum without (outcome) ({s(approvals, matcher)})",
                {"decision": decision},
            )
        )
    rules += [
        Recording("autobot_cpu_usage_percent", f"{s('autobot_system_cpu_usage_ratio')} * 100"),
        Recording(
            "autobot_memory_usage_percent", f"{s('autobot_system_memory_usage_ratio')} * 100"
        ),
        Recording("autobot_memory_used_bytes", s("autobot_system_memory_used_bytes")),
        Recording(
            "autobot_disk_usage_percent",
            _relabelled(s("autobot_system_disk_usage_ratio"), "mount_point", "mountpoint")
            + " * 100",
        ),
        Recording(
            "autobot_network_bytes_total",
            f"sum without (interface) ({s('autobot_system_network_receive_bytes_total')})",
            {"direction": "in"},
        ),
        Recording(
            "autobot_network_bytes_total",
            f"sum without (interface) ({s('autobot_system_network_transmit_bytes_total')})",
            {"direction": "out"},
        ),
        Recording("autobot_process_count", f"sum without (group) ({s('autobot_processes')})"),
    ]
    rules += [
        Recording(f"autobot_load_average_{window}", s(f"autobot_system_load{minutes}"))
        for window, minutes in (("1m", 1), ("5m", 5), ("15m", 15))
    ]
    return rules + gpu_dashboard_rules(config, s)


def _per_resource(config: Config, s: Selectors) -> list[tuple[str, str, Threshold]]:
    """(resource, its ratio, its levels): what the health check reads (each mount apart,
    for the disk)."""
    thresholds = config.thresholds
    return [
        ("cpu", s("autobot_system_cpu_usage_ratio"), thresholds.cpu),
        ("memory", s("autobot_system_memory_usage_ratio"), thresholds.memory),
        ("disk", s("autobot_system_disk_usage_ratio"), thresholds.disk),
    ]


def _over_mounts(aggregation: str, resource: str, expr: str) -> str:
    return f"{aggregation} without (mountpoint) ({expr})" if resource == "disk" else expr


def gpu_dashboard_rules(config: Config, s: Selectors) -> list[Recording]:
    """The four series AutoBot's GPU/NPU dashboard reads and AutoBot itself never sets
    (docs/autobot-stack.md gives the formulas): active alerts by severity, counted as the
    health check counts them (each mount apart); a 0-100 health score; a bottleneck flag
    per category; a 0-100 performance score from workflow success and latency."""
    resources = _per_resource(config, s)
    cpu = s("autobot_system_cpu_usage_ratio")

    def summed(per_resource: str) -> str:
        return " + ".join(
            _over_mounts("sum", name, per_resource.format(x=ratio, t=levels))
            for name, ratio, levels in resources
        )

    rules = [
        Recording(
            "autobot_active_alerts_count",
            summed("({x} > bool {t.critical:g})"),
            {"severity": "critical"},
        ),
        Recording(
            "autobot_active_alerts_count",
            summed("(({x} > bool {t.warning:g}) - ({x} > bool {t.critical:g}))"),
            {"severity": "warning"},
        ),
        Recording("autobot_active_alerts_count", f"0 * {cpu}", {"severity": "info"}),
    ]
    scores = [
        _over_mounts(
            "min",
            name,
            f"label_replace(100 * clamp(({levels.critical:g} - {ratio}) / "
            f'{levels.critical - levels.warning:g}, 0, 1), "resource", "{name}", "", "")',
        )
        for name, ratio, levels in resources
    ]
    worst = f"min without (resource) ({' or '.join(scores)})"
    rules.append(Recording("autobot_health_score", f"round({worst})"))
    for name, ratio, levels in resources:
        rules.append(
            Recording(
                "autobot_bottleneck_detected",
                _over_mounts("max", name, f"{ratio} > bool {levels.warning:g}"),
                {"category": name},
            )
        )
    rules += [  # no GPU reading, and no level for the network: never a bottleneck here
        Recording("autobot_bottleneck_detected", f"0 * {cpu}", {"category": category})
        for category in ("gpu", "network")
    ]
    bounds = config.buckets.workflow_duration_seconds
    target = max((b for b in bounds if b <= PERFORMANCE_LATENCY_TARGET_SECONDS), default=bounds[0])
    le = floatToGoString(target)
    completed_in_time = f'status="completed", le="{le}"'
    fast = f"rate({s('autobot_workflow_duration_seconds_bucket', completed_in_time)}[5m])"
    finished = f"rate({s('autobot_workflow_duration_seconds_count')}[5m])"
    rules.append(
        Recording(
            "autobot_performance_score",
            f"100 * sum without (complexity, status, le) ({fast})"
            f" / sum without (complexity, status) ({finished})",
        )
    )
    return rules
