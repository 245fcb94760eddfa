"""The status page's HTML, rendered on the server from the same status dict the page
polls, so everything but the trend charts is there without JavaScript. status.js then
re-renders the marked parts (``data-part``) from ``/api/status``."""

from __future__ import annotations

from collections.abc import Iterable
from html import escape
from typing import Any

from exporter import __version__

LINKS = (
    ("/metrics", "Metrics (Prometheus)"),
    ("/api/status", "This page's data (JSON)"),
    ("/api/metrics/dashboard", "Dashboard data (JSON)"),
    ("/api/metrics/performance/summary", "Workflow performance summary (JSON)"),
    ("/api/metrics/export/workflow", "Workflow export (JSON)"),
    ("/api/metrics/system/current", "Current system metrics (JSON)"),
    ("/api/metrics/system/summary", "System resource summary (JSON)"),
    ("/api/metrics/system/health", "System health (JSON)"),
    ("/api/metrics/system/history", "System history (JSON)"),
    ("/api/metrics/export/system", "System export (JSON)"),
    ("/api/monitoring/dashboard/overview", "System overview for AutoBot's frontend (JSON)"),
    ("/-/healthy", "Health"),
    ("/-/ready", "Readiness"),
)

CHARTS = (
    ("cpu", "Host CPU, percent"),
    ("memory", "Host memory, percent"),
    ("disk", "Disk usage per mount, percent"),
    ("groups-cpu", "AutoBot processes' CPU, percent"),
    ("groups-memory", "AutoBot processes' resident memory, MB"),
    ("throughput", "Workflows finished per minute"),
    ("success", "Completed share of finished workflows, percent"),
)

MISSING = "\u2013"  # an en dash, for a value not known yet


def _text(value: Any) -> str:
    """A value as shown: numbers rounded for reading (status.js rounds the same way)."""
    if value is None:
        return MISSING
    if isinstance(value, float):
        return f"{value:.0f}" if abs(value) >= 100 else f"{value:.1f}"
    return escape(str(value))


def _table(caption: str, part: str, headers: Iterable[str], rows: Iterable[Iterable[str]]) -> str:
    head = "".join(f'<th scope="col">{escape(h)}</th>' for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    return (
        f'<table data-part="{part}"><caption>{escape(caption)}</caption>'
        f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    )


def _workflow_link(workflow_id: str) -> str:
    href = f"/api/metrics/workflow/{escape(workflow_id, quote=True)}"
    return f'<a href="{href}">{escape(workflow_id)}</a>'


def _items(part: str, items: list[str], empty: str = "none") -> str:
    listed = "".join(f"<li>{escape(item)}</li>" for item in items or [empty])
    return f'<ul data-part="{part}">{listed}</ul>'


def _definition(term: str, part: str, value: str) -> str:
    return f'<dt>{escape(term)}</dt><dd data-part="{part}">{value}</dd>'


def _health(health: dict[str, Any]) -> str:
    reasons = health["critical_alerts"] + health["warnings"]
    rows = [
        (
            escape(r["name"]),
            _text(r["percent"]),
            _text(r["warning_percent"]),
            _text(r["critical_percent"]),
        )
        for r in health["resources"]
    ]
    return _items("reasons", reasons, "All within levels.") + _table(
        "Resources against their levels (percent)",
        "resources",
        ("resource", "now", "warning above", "critical above"),
        rows,
    )


def _workflows(workflows: dict[str, Any]) -> str:
    active = [f"{c}: {n}" for c, n in sorted(workflows["active_by_complexity"].items())]
    durations = [
        (escape(complexity), str(d["count"]), _text(d["p50_ms"]), _text(d["p95_ms"]))
        for complexity, d in sorted(workflows["duration_by_complexity"].items())
    ]
    running = [
        (
            _workflow_link(w["workflow_id"]),
            _text(w["complexity"]),
            _text(w["duration_ms"]),
            _text(w["progress_percent"]),
        )
        for w in workflows["running"]
    ]
    finished = [
        (
            _workflow_link(w["workflow_id"]),
            _text(w["complexity"]),
            _text(w["status"]),
            _text(w["duration_ms"]),
        )
        for w in workflows["latest_finished"]
    ]
    total = workflows["active_total"]
    return (
        '<div class="columns"><div>'
        f'<p>Active now: <strong data-part="active-total">{total}</strong></p>'
        + _items("active-by-complexity", active)
        + _table(
            "Duration by complexity, last hour (ms)",
            "durations",
            ("complexity", "finished", "p50", "p95"),
            durations,
        )
        + "</div><div>"
        + _table(
            "Running",
            "running",
            ("workflow", "complexity", "running for (ms)", "progress %"),
            running,
        )
        + _table(
            "Latest finished",
            "finished",
            ("workflow", "complexity", "status", "duration (ms)"),
            finished,
        )
        + "</div></div>"
    )


def _agents(agents: list[dict[str, Any]]) -> str:
    rows = [
        (
            escape(a["agent"]),
            str(a["steps"]),
            _text(a["error_percent"]),
            _text(a["p50_ms"]),
            _text(a["p95_ms"]),
        )
        for a in agents
    ]
    return _table(
        "Agents, slowest first (last hour)",
        "agents",
        ("agent", "steps", "errors %", "p50 ms", "p95 ms"),
        rows,
    )


def _exporter(exporter: dict[str, Any], approvals: dict[str, Any]) -> str:
    rejected = [f"{reason}: {n}" for reason, n in exporter["events_rejected"].items()]
    collectors = [
        f"{name}: {'ok' if ok else 'failing'}" for name, ok in exporter["collectors"].items()
    ]
    age = f"{_text(exporter['last_sample_age_seconds'])} s ago"
    monitoring = "on" if exporter["monitoring_active"] else "stopped"
    p95 = _text(approvals["wait"].get("p95_ms"))
    return (
        "<dl>"
        + _definition("Approvals pending", "approvals-pending", str(approvals["pending"]))
        + _definition("Approval wait, p95 (ms)", "approval-p95", p95)
        + _definition("Events accepted", "events-accepted", str(exporter["events_accepted"]))
        + _definition("Last sample", "sample-age", age)
        + _definition("Monitoring", "monitoring", monitoring)
        + "</dl><h3>Events rejected, by reason</h3>"
        + _items("rejected", rejected)
        + "<h3>Collectors</h3>"
        + _items("collectors", collectors)
    )


def _charts() -> str:
    figures = "".join(
        f'<figure><figcaption id="cap-{name}">{escape(title)}</figcaption>'
        f'<svg class="chart" data-chart="{name}" role="img" aria-labelledby="cap-{name}" '
        'viewBox="0 0 300 100" preserveAspectRatio="none"></svg></figure>'
        for name, title in CHARTS
    )
    return (
        f'<div class="charts">{figures}</div>'
        "<noscript><p>The trend charts need JavaScript; the current values are above."
        "</p></noscript>"
    )


def render_page(status: dict[str, Any]) -> str:
    health = status["health"]
    state = escape(health["status"])
    links = "".join(f'<li><a href="{href}">{escape(text)}</a></li>' for href, text in LINKS)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>AutoBot exporter status</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/static/status.css">
<script src="/static/status.js" defer></script>
</head><body data-interval="{status["collection_interval"]}">
<header><h1>AutoBot exporter</h1>
<p>Health: <strong class="state state-{state}" data-part="health-status"
aria-live="polite">{state}</strong>
<span class="muted">as of <time data-part="generated">{escape(status["generated"])}</time>,
version {escape(__version__)}</span></p></header>
<main>
<section aria-labelledby="h-health"><h2 id="h-health">Health</h2>
{_health(health)}</section>
<section aria-labelledby="h-exporter"><h2 id="h-exporter">Approvals and the exporter</h2>
{_exporter(status["exporter"], status["approvals"])}</section>
<section aria-labelledby="h-agents"><h2 id="h-agents">Agents</h2>
{_agents(status["agents"])}</section>
<section class="wide" aria-labelledby="h-trends"><h2 id="h-trends">Trends</h2>{_charts()}</section>
<section class="wide" aria-labelledby="h-workflows"><h2 id="h-workflows">Workflows</h2>
{_workflows(status["workflows"])}</section>
<nav class="wide" aria-labelledby="h-links"><h2 id="h-links">Endpoints</h2>
<ul class="columns">{links}</ul></nav>
</main></body></html>
"""
