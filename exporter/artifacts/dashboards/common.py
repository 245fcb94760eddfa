"""What every AutoBot dashboard shares: the datasource, cluster, host, job and instance
variables, the label selector every query carries, and small panel builders that always set
a unit and a description (the grafana/dashboard-linter rules)."""

from __future__ import annotations

from typing import TypeVar

from grafana_foundation_sdk.builders import (
    common as common_builders,
)
from grafana_foundation_sdk.builders import (
    dashboard,
    heatmap,
    prometheus,
    stat,
    table,
    timeseries,
)
from grafana_foundation_sdk.models import common
from grafana_foundation_sdk.models import dashboard as model
from grafana_foundation_sdk.models import heatmap as heatmap_model
from grafana_foundation_sdk.models.prometheus import PromQueryFormat

from exporter.config import Threshold

DATASOURCE = model.DataSourceRef(type_val="prometheus", uid="${datasource}")
SELECTOR = 'cluster=~"$cluster", host=~"$host", job=~"$job", instance=~"$instance"'
"""Every query selects with this, so the variables always apply: in a fleet, choosing a host
shows only that VM (docs/fleet.md)."""

GREEN, YELLOW, RED = "green", "#EAB839", "red"
PANEL_HEIGHT = 8


def s(metric: str, extra: str = "") -> str:
    """``metric{job=~"$job", instance=~"$instance", extra}``."""
    return f"{metric}{{{SELECTOR}{', ' + extra if extra else ''}}}"


def rate(metric: str, extra: str = "", function: str = "rate") -> str:
    return f"{function}({s(metric, extra)}[$__rate_interval])"


def quantile(q: float, metric: str, by: str) -> str:
    """histogram_quantile over the bucket rates of ``metric``, grouped by ``by`` and le."""
    return f"histogram_quantile({q}, sum by (le, {by}) ({rate(metric + '_bucket')}))"


def query_variable(
    name: str, label: str, query: str, all_value: str = ".+"
) -> dashboard.QueryVariable:
    """A multi-select variable of label values, with an All option."""
    return (
        dashboard.QueryVariable(name)
        .label(label)
        .datasource(DATASOURCE)
        .query(query)
        .refresh(model.VariableRefresh.ON_TIME_RANGE_CHANGED)
        .sort(model.VariableSort.ALPHABETICAL_ASC)
        .multi(True)
        .include_all(True)
        .all_value(all_value)
    )


def variables(builder: dashboard.Dashboard) -> dashboard.Dashboard:
    """``datasource``, then ``cluster`` and ``host`` (All is ``.*``: a single sidecar's
    series have neither label), ``job`` and ``instance``."""
    info = "autobot_exporter_build_info"
    return (
        builder.with_variable(
            dashboard.DatasourceVariable("datasource").label("Data source").type("prometheus")
        )
        .with_variable(query_variable("cluster", "Cluster", f"label_values({info}, cluster)", ".*"))
        .with_variable(
            query_variable(
                "host", "Host", f'label_values({info}{{cluster=~"$cluster"}}, host)', ".*"
            )
        )
        .with_variable(
            query_variable(
                "job", "Job", f'label_values({info}{{cluster=~"$cluster", host=~"$host"}}, job)'
            )
        )
        .with_variable(
            query_variable(
                "instance",
                "Instance",
                f'label_values({info}{{cluster=~"$cluster", host=~"$host", job=~"$job"}}, '
                "instance)",
            )
        )
    )


def new_dashboard(title: str, uid: str, description: str) -> dashboard.Dashboard:
    return variables(
        dashboard.Dashboard(title)
        .uid(uid)
        .description(description)
        .tags(["autobot", "autobot-exporter"])
        .editable()
        .timezone("browser")
        .refresh("30s")
        .time("now-1h", "now")
        .tooltip(model.DashboardCursorSync.CROSSHAIR)
        .link(
            dashboard.DashboardLink("AutoBot exporter dashboards")
            .type(model.DashboardLinkType.DASHBOARDS)
            .tags(["autobot-exporter"])
            .as_dropdown(True)
            .include_vars(True)
            .keep_time(True)
        )
    )


def target(
    expr: str,
    legend: str = "",
    *,
    exemplar: bool = False,
    instant: bool = False,
    format_as: PromQueryFormat | None = None,
) -> prometheus.Dataquery:
    query = prometheus.Dataquery().expr(expr).datasource(DATASOURCE)
    if legend:
        query = query.legend_format(legend)
    if exemplar:
        query = query.exemplar(True)
    if instant:
        query = query.instant()
    if format_as is not None:
        query = query.format(format_as)
    return query


def colour_steps(warning: float, critical: float) -> dashboard.ThresholdsConfig:
    """Green, yellow from ``warning``, red from ``critical``."""
    return (
        dashboard.ThresholdsConfig()
        .mode(model.ThresholdsMode.ABSOLUTE)
        .steps(
            [
                model.Threshold(value=None, color=GREEN),
                model.Threshold(value=warning, color=YELLOW),
                model.Threshold(value=critical, color=RED),
            ]
        )
    )


def threshold_steps(level: Threshold) -> dashboard.ThresholdsConfig:
    """Green, yellow above the warning level, red above the critical level."""
    return colour_steps(level.warning, level.critical)


def graph(
    title: str, description: str, unit: str, *targets: prometheus.Dataquery, width: int = 12
) -> timeseries.Panel:
    panel = (
        framed(timeseries.Panel(), title, description, unit, height=PANEL_HEIGHT, width=width)
        .fill_opacity(10)
        .legend(
            common_builders.VizLegendOptions()
            .show_legend(True)
            .display_mode(common.LegendDisplayMode.TABLE)
            .placement(common.LegendPlacement.BOTTOM)
            .calcs(["mean", "max", "lastNotNull"])
        )
    )
    for query in targets:
        panel = panel.with_target(query)
    return panel


def ratio_graph(
    title: str, description: str, level: Threshold, *targets: prometheus.Dataquery
) -> timeseries.Panel:
    """A 0..1 ratio with the warning and critical levels drawn as lines and areas."""
    return (
        graph(title, description, "percentunit", *targets, width=8)
        .min(0)
        .max(1)
        .thresholds(threshold_steps(level))
        .thresholds_style(
            common_builders.GraphThresholdsStyleConfig().mode(
                common.GraphTresholdsStyleMode.LINE_AND_AREA
            )
        )
    )


PanelT = TypeVar("PanelT", stat.Panel, heatmap.Panel, table.Panel, timeseries.Panel)


def framed(
    panel: PanelT, title: str, description: str, unit: str, *, height: int, width: int
) -> PanelT:
    """What every panel carries: title, description, unit, the datasource variable, size."""
    return (
        panel.title(title)
        .description(description)
        .unit(unit)
        .datasource(DATASOURCE)
        .height(height)
        .span(width)
    )


def single_stat(
    title: str, description: str, unit: str, query: prometheus.Dataquery, width: int = 6
) -> stat.Panel:
    return (
        framed(stat.Panel(), title, description, unit, height=4, width=width)
        .with_target(query)
        .graph_mode(common.BigValueGraphMode.AREA)
        .reduce_options(common_builders.ReduceDataOptions().calcs(["lastNotNull"]).values(False))
    )


def heat(title: str, description: str, unit: str, query: prometheus.Dataquery) -> heatmap.Panel:
    return (
        framed(heatmap.Panel(), title, description, unit, height=PANEL_HEIGHT, width=12)
        .with_target(query)
        .calculate(False)
        .y_axis(heatmap.YAxisConfig().unit(unit))
        .color(
            heatmap.HeatmapColorOptions()
            .mode(heatmap_model.HeatmapColorMode.SCHEME)
            .scheme("Spectral")
            .steps(64)
        )
    )


def listing(
    title: str, description: str, unit: str, query: prometheus.Dataquery, width: int = 12
) -> table.Panel:
    panel = table.Panel()
    return framed(panel, title, description, unit, height=PANEL_HEIGHT, width=width).with_target(
        query
    )
