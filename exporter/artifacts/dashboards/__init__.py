"""Grafana dashboards as code (grafana-foundation-sdk), from the same config as the alert
rules, so the threshold lines sit where the alerts fire.

``autobot-exporter dashboards`` writes them to grafana/dashboards/; a test keeps the
committed files equal to this rendering of the default config.
"""

from __future__ import annotations

import json
import string
from collections.abc import Callable

from grafana_foundation_sdk.builders import dashboard
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models import dashboard as model

from exporter.artifacts.dashboards import agents, fleet, system, traces, workflows
from exporter.config import Config

DASHBOARDS: dict[str, Callable[[Config], dashboard.Dashboard]] = {
    "autobot-exporter-workflows.json": workflows.build,
    "autobot-exporter-agents.json": agents.build,
    "autobot-exporter-system.json": system.build,
    "autobot-exporter-traces.json": traces.build,
    "autobot-exporter-fleet.json": fleet.build,
}


def _number(built: model.Dashboard) -> model.Dashboard:
    """Stable panel ids (1, 2, ...) and query refIds (A, B, ...), which the builders leave unset."""
    for number, panel in enumerate(built.panels or [], start=1):
        panel.id_val = number
        for letter, query in zip(
            string.ascii_uppercase, getattr(panel, "targets", None) or [], strict=False
        ):
            query.ref_id = letter
    return built


def render_dashboards(config: Config) -> dict[str, str]:
    """File name -> dashboard JSON text."""
    return {
        name: json.dumps(_number(build(config).build()), cls=JSONEncoder, indent=2, sort_keys=True)
        + "\n"
        for name, build in DASHBOARDS.items()
    }
