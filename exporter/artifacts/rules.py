"""Prometheus recording and alert rules, rendered from the same config the health endpoint
uses, so a changed threshold is changed in one place (``autobot-exporter rules``).

The shipped ``deploy/prometheus/autobot-rules.yml`` is this module's output for the
default config; a test keeps them equal.

Why one module of ~370 lines: most of it is the alert list itself, one declarative entry
per alert (expression, for, severity, summary, description), read top to bottom like the
rule file it renders.
"""

from __future__ import annotations

from dataclasses import dataclass

import yaml

from exporter.artifacts.compat_rules import compatibility_rules
from exporter.artifacts.promql import (
    BY_INSTANCE,
    HOST,
    RATE_WINDOW,
    Alert,
    Recording,
    Selectors,
    sum_rate,
)
from exporter.artifacts.trace_rules import trace_alerts, trace_recording_rules
from exporter.config import Config, ConfigError, Threshold
from exporter.units import percent_text

FAILURE_STATUSES = "failed|timeout|abandoned"
HOST_SILENT_WINDOW = "1h"
"""How long a silent VM is remembered by AutoBotHostSilent."""
APPROVAL_WINDOW = "30m"


def prometheus_duration(seconds: float) -> str:
    """Seconds as the shortest Prometheus duration: 300 -> 5m, 5400 -> 1h30m, 0.5 -> 500ms."""
    milliseconds = round(seconds * 1000)
    parts = []
    for unit, size in (("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1000)):
        count, milliseconds = divmod(milliseconds, size)
        if count:
            parts.append(f"{count}{unit}")
    if milliseconds or not parts:
        parts.append(f"{milliseconds}ms")
    return "".join(parts)


def _share(by: str, recorded: str, matcher: str) -> str:
    """The share of a recorded rate whose series match ``matcher``."""
    return f"sum by ({by}) ({recorded}{{{matcher}}}) / sum by ({by}) ({recorded})"


def recording_rules(config: Config) -> list[Recording]:
    s = Selectors(config.rules.selector)
    by_complexity = f"{BY_INSTANCE}, complexity"
    by_agent = f"{BY_INSTANCE}, agent"
    finished = "autobot:workflows_finished:rate5m"
    rules = [
        Recording(
            "autobot:workflows_started:rate5m",
            sum_rate(s, by_complexity, "autobot_workflows_started_total"),
        ),
        Recording(
            finished, sum_rate(s, f"{by_complexity}, status", "autobot_workflows_finished_total")
        ),
        Recording(
            "autobot:workflow_success:ratio_rate5m",
            _share(by_complexity, finished, 'status="completed"'),
        ),
        Recording(
            "autobot:workflow_failure:ratio_rate5m",
            _share(by_complexity, finished, f'status=~"{FAILURE_STATUSES}"'),
        ),
        Recording(
            "autobot:steps:rate5m",
            sum_rate(s, f"{by_agent}, status", "autobot_step_duration_seconds_count"),
        ),
        # From the step histogram, not autobot_step_errors_total: its failure series of an
        # agent exists at 0 from the agent's first step, while a new (agent, error_type)
        # series first appears at 1, an increment rate() cannot see.
        Recording(
            "autobot:step_errors:ratio_rate5m",
            _share(by_agent, "autobot:steps:rate5m", 'status="failure"'),
        ),
        Recording(
            "autobot:exporter_events:rate5m",
            sum_rate(s, f"{BY_INSTANCE}, type", "autobot_exporter_events_total"),
        ),
    ]
    workflow_buckets = sum_rate(
        s, f"{by_complexity}, le", "autobot_workflow_duration_seconds_bucket"
    )
    step_buckets = sum_rate(s, f"{by_agent}, le", "autobot_step_duration_seconds_bucket")
    for quantile in (0.5, 0.95, 0.99):
        name = f"p{quantile * 100:g}"
        rules.append(
            Recording(
                f"autobot:workflow_duration_seconds:{name}_rate5m",
                f"histogram_quantile({quantile}, {workflow_buckets})",
            )
        )
        rules.append(
            Recording(
                f"autobot:step_duration_seconds:{name}_rate5m",
                f"histogram_quantile({quantile}, {step_buckets})",
            )
        )
    approval = sum_rate(
        s, f"{BY_INSTANCE}, le", "autobot_approval_wait_seconds_bucket", APPROVAL_WINDOW
    )
    for quantile in (0.5, 0.95):
        rules.append(
            Recording(
                f"autobot:approval_wait_seconds:p{quantile * 100:g}_rate30m",
                f"histogram_quantile({quantile}, {approval})",
            )
        )
    return rules + trace_recording_rules(config)


@dataclass(frozen=True)
class _Resource:
    name: str
    display: str
    title: str
    metric: str
    per: str = ""
    """The label that tells instances of the resource apart (mountpoint for disks)."""


RESOURCES = (
    _Resource("cpu", "CPU", "CPUUsage", "autobot_system_cpu_usage_ratio"),
    _Resource("memory", "memory", "MemoryUsage", "autobot_system_memory_usage_ratio"),
    _Resource("disk", "disk", "DiskUsage", "autobot_system_disk_usage_ratio", per="mountpoint"),
)


def _resource_alerts(s: Selectors, target: _Resource, threshold: Threshold) -> list[Alert]:
    resource, metric, shown = target.name, target.metric, target.display
    usage = f"{shown[0].upper()}{shown[1:]} usage"
    where = f" on {{{{ $labels.{target.per} }}}}" if target.per else ""
    value = "{{ $value | humanizePercentage }}"
    name = f"AutoBot{target.title}"
    return [
        Alert(
            f"{name}Critical",
            f"{s(metric)} > {threshold.critical:g}",
            300,
            "A sustained overload, not a burst; one scrape above the line pages nobody.",
            "critical",
            f"AutoBot host {shown} above {percent_text(threshold.critical)}%",
            f"{usage}{where} on {HOST} is {value}, above "
            f"the critical level of {percent_text(threshold.critical)}% "
            "(AutoBot health: critical).",
            {"resource": resource},
        ),
        Alert(
            f"{name}Warning",
            f"{s(metric)} > {threshold.warning:g}",
            900,
            "A warning is a trend to look at in working hours; the critical inhibits it.",
            "warning",
            f"AutoBot host {shown} above {percent_text(threshold.warning)}%",
            f"{usage}{where} on {HOST} is {value}, above "
            f"the warning level of {percent_text(threshold.warning)}%.",
            {"resource": resource},
        ),
    ]


def alert_rules(config: Config) -> list[Alert]:
    s = Selectors(config.rules.selector)
    thresholds, rules = config.thresholds, config.rules
    evicted_at_capacity = s("autobot_exporter_workflows_expired_total", 'reason="capacity"')
    alerts = [
        *(
            alert
            for resource in RESOURCES
            for alert in _resource_alerts(s, resource, getattr(thresholds, resource.name))
        ),
        Alert(
            "AutoBotExporterDown",
            f"{s('up')} == 0",
            60,
            "A restart of the sidecar takes seconds; a dead one silences its VM, so it pages "
            "within two minutes.",
            "critical",
            "AutoBot exporter down",
            f"Prometheus cannot scrape the AutoBot exporter on {HOST} "
            f"({{{{ $labels.instance }}}}): no workflow, agent or host alert works for "
            "that VM while it is down.",
        ),
        Alert(
            "AutoBotHostSilent",
            f"group by ({BY_INSTANCE}) (max_over_time({s('up')}[{HOST_SILENT_WINDOW}])) "
            f"unless on ({BY_INSTANCE}) group by ({BY_INSTANCE}) ({s('up')})",
            60,
            "Nothing arrives at all (the VM, or its agent, is gone), so up cannot say 0; "
            "the series' five minutes of lookback pass first.",
            "critical",
            "AutoBot VM silent",
            f"No sample of {HOST} has reached Prometheus for five minutes, though it reported "
            f"in the last {HOST_SILENT_WINDOW}: the VM, its Prometheus agent or the network "
            "to it is down, and none of its alerts can fire.",
        ),
        Alert(
            "AutoBotExporterNotScraped",
            f"absent({s('up')})",
            600,
            "absent() also fires while Prometheus starts or reloads targets.",
            "critical",
            "AutoBot exporter not scraped",
            "No target matches " + config.rules.selector.replace('"', "'") + ": the AutoBot "
            "exporter is not being scraped at all (service discovery or relabelling changed?).",
            per_host=False,
        ),
        Alert(
            "AutoBotProcessesMissing",
            f"{s('autobot_processes')} == 0",
            180,
            "Longer than a restart of AutoBot by its supervisor.",
            "critical",
            "No AutoBot process running",
            f"Process group {{{{ $labels.group }}}} on {HOST} has no process.",
        ),
        Alert(
            "AutoBotWorkflowFailureRatioHigh",
            f"autobot:workflow_failure:ratio_rate5m{{{rules.selector}}} > "
            f"{rules.workflow_failure_ratio:g}",
            900,
            "Three rate windows, so one unlucky batch of workflows does not page.",
            "warning",
            "AutoBot workflows failing",
            f"{{{{ $value | humanizePercentage }}}} of {{{{ $labels.complexity }}}} workflows "
            f"on {HOST} end failed, timed out or abandoned (threshold "
            f"{percent_text(rules.workflow_failure_ratio)}%).",
        ),
        Alert(
            "AutoBotAgentErrorRatioHigh",
            f"autobot:step_errors:ratio_rate5m{{{rules.selector}}} > {rules.step_error_ratio:g}",
            900,
            "Three rate windows; a flaky tool for a minute is not an incident.",
            "warning",
            "AutoBot agent steps failing",
            f"{{{{ $value | humanizePercentage }}}} of the steps of agent {{{{ $labels.agent }}}} "
            f"on {HOST} fail "
            f"(threshold {percent_text(rules.step_error_ratio)}%).",
        ),
        Alert(
            "AutoBotApprovalWaitHigh",
            f"autobot:approval_wait_seconds:p95_rate30m{{{rules.selector}}} > "
            f"{rules.approval_wait_p95:g}",
            1800,
            "Approvals wait for people; only a long trend is worth a notification.",
            "warning",
            "AutoBot approvals waiting long",
            f"95 % of approvals on {HOST} waited up to "
            "{{ $value | humanizeDuration }} over the last 30 minutes (threshold "
            f"{prometheus_duration(rules.approval_wait_p95)}).",
        ),
        Alert(
            "AutoBotWorkflowsStuck",
            f"sum by ({BY_INSTANCE}) ({s('autobot_workflows_active')}) > 0 unless "
            f"sum by ({BY_INSTANCE}) (increase({s('autobot_workflows_finished_total')}"
            f"[{prometheus_duration(rules.stuck_after)}])) > 0",
            900,
            "On top of the stuck_after window: the workflows really stopped finishing.",
            "warning",
            "AutoBot workflows stuck",
            f"{{{{ $value }}}} workflows are active on {HOST} and none finished in "
            f"{prometheus_duration(rules.stuck_after)}.",
        ),
        Alert(
            "AutoBotIngestRejectingEvents",
            f"sum by ({BY_INSTANCE}, reason) "
            f"(rate({s('autobot_exporter_events_rejected_total')}[{RATE_WINDOW}])) > 0",
            600,
            "A client deploy with a schema bug shows at once; a single bad request not.",
            "warning",
            "AutoBot exporter rejecting events",
            f"The exporter on {HOST} rejects events ({{{{ $labels.reason }}}}, "
            "{{ $value | humanize }}/s): workflow metrics are incomplete.",
        ),
        Alert(
            "AutoBotLabelOverflow",
            f"sum by ({BY_INSTANCE}, label) "
            f"(increase({s('autobot_exporter_label_overflow_total')}[30m])) > 0",
            300,
            "The overflow already happened; this only avoids flapping at the edge.",
            "warning",
            "AutoBot label values overflowing",
            f"New {{{{ $labels.label }}}} values on {HOST} are exported as "
            "'other' (max_label_values reached): a client may be putting ids in labels.",
        ),
        Alert(
            "AutoBotWorkflowsEvictedAtCapacity",
            f"sum by ({BY_INSTANCE}) (increase({evicted_at_capacity}[10m])) > 0",
            60,
            "An eviction already cost a running workflow its timing; a minute only rides out "
            "a rule evaluation.",
            "warning",
            "AutoBot workflows evicted at max_active_workflows",
            f"{{{{ $value | humanize }}}} running workflows on {HOST} were finished as "
            "abandoned in 10 minutes because max_active_workflows was reached: workflows that "
            "never finish, or a flood of starts (check who can reach the ingest API).",
        ),
        Alert(
            "AutoBotCollectorFailing",
            f"{s('autobot_exporter_collector_success')} == 0",
            600,
            "A piece may fail once (a process vanishing mid-read); a persistent failure "
            "hides host data.",
            "warning",
            "AutoBot exporter collector failing",
            f"Collector {{{{ $labels.collector }}}} of the exporter on {HOST} "
            "fails; its families are missing.",
        ),
        Alert(
            "AutoBotFilesystemUnreadable",
            f"{s('autobot_system_disk_device_error')} == 1",
            600,
            "A mount may be busy for a pass; one that keeps failing or hanging is not "
            "measured, and its disk alerts cannot fire.",
            "warning",
            "AutoBot host filesystem unreadable",
            f"statvfs of {{{{ $labels.mountpoint }}}} on {HOST} fails or outlives "
            "filesystem.mount_timeout: its disk usage is not measured.",
        ),
        Alert(
            "AutoBotMonitoringStopped",
            f"{s('autobot_exporter_monitoring_active')} == 0",
            1800,
            "Stopping monitoring for maintenance is allowed; forgetting to restart is not.",
            "warning",
            "AutoBot system monitoring stopped",
            f"System monitoring on {HOST} was stopped through the API: no host "
            "alert can fire. POST /api/metrics/system/monitoring/start resumes it.",
        ),
        *trace_alerts(config),
    ]
    unknown = set(rules.alert_for) - {alert.name for alert in alerts}
    if unknown:
        raise ConfigError(f"rules.alert_for: unknown alert(s) {', '.join(sorted(unknown))}")
    return alerts


def _rule_yaml(rule: dict, comment: str | None) -> str:
    text = yaml.safe_dump([rule], sort_keys=False, width=1000, allow_unicode=True)
    indented = "".join(f"      {line}\n" if line else "\n" for line in text.splitlines())
    return (f"      # {comment}\n" if comment else "") + indented


def render_rules(config: Config) -> str:
    """The rule file for this config, with the reason for each ``for:`` above its alert."""
    lines = [
        "# Rendered by `autobot-exporter rules` from the exporter's config: change thresholds",
        "# there and render again, do not edit this file.",
        "groups:",
        "  - name: autobot-exporter.recording",
        "    rules:",
    ]
    body = [_recording_yaml(r) for r in recording_rules(config)]
    body.append("  - name: autobot-exporter.alerts\n    rules:\n")
    for alert in alert_rules(config):
        for_seconds = config.rules.alert_for.get(alert.name, alert.for_seconds)
        rule = {
            "alert": alert.name,
            "expr": alert.expr,
            "for": prometheus_duration(for_seconds),
            "labels": {"severity": alert.severity, **alert.labels},
            "annotations": {"summary": alert.rendered_summary, "description": alert.description},
        }
        body.append(
            _rule_yaml(rule, f"for {prometheus_duration(alert.for_seconds)}: {alert.why_for}")
        )
    if config.rules.autobot_compatibility:
        body.append(
            "  # AutoBot's own metric names, for its dashboards and alerts\n"
            "  # (docs/autobot-stack.md); rules.autobot_compatibility: false leaves them out.\n"
            "  - name: autobot-exporter.autobot-compatibility\n    rules:\n"
        )
        body += [_recording_yaml(r) for r in compatibility_rules(config)]
    return "\n".join(lines) + "\n" + "".join(body)


def _recording_yaml(recording: Recording) -> str:
    rule: dict = {"record": recording.record, "expr": recording.expr}
    if recording.labels:
        rule["labels"] = recording.labels
    return _rule_yaml(rule, None)
