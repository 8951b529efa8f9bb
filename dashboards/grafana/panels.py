"""Panel builders for luister's dashboards: one function per visual idiom, fed by a panel query."""

from __future__ import annotations

from grafana_foundation_sdk.builders import common as cb
from grafana_foundation_sdk.builders.bargauge import Panel as BarGauge
from grafana_foundation_sdk.builders.stat import Panel as Stat
from grafana_foundation_sdk.builders.table import Panel as Table
from grafana_foundation_sdk.builders.timeseries import Panel as TimeSeries
from grafana_foundation_sdk.models import common
from grafana_foundation_sdk.models import dashboard as model

from dashboards.grafana.common import CLICKHOUSE, PROMETHEUS, ClickHouseTarget, prometheus_targets
from dashboards.panels import PromPanelQuery, SqlPanelQuery


def _override(name: str, **properties: object) -> tuple[str, list[model.DynamicConfigValue]]:
    return name, [
        model.DynamicConfigValue(id_val=key.replace("__", "."), value=value) for key, value in properties.items()
    ]


def stat(
    query: SqlPanelQuery,
    *,
    fields: str,
    units: dict[str, str],
    title_size: float = 20,
    value_size: float = 48,
) -> Stat:
    """Big numbers, one per field matched by the ``fields`` regex (``/^(a|b)$/``)."""
    panel = (
        Stat()
        .title(query.title)
        .description(query.description)
        .datasource(CLICKHOUSE)
        .with_target(ClickHouseTarget(query))
        .reduce_options(cb.ReduceDataOptions().values(False).calcs(["lastNotNull"]).fields(fields))
        .text(cb.VizTextDisplayOptions().title_size(title_size).value_size(value_size))
        .graph_mode(common.BigValueGraphMode.NONE)
        .color_mode(common.BigValueColorMode.VALUE)
        .text_mode(common.BigValueTextMode.VALUE_AND_NAME)
    )
    for name, unit in units.items():
        panel = panel.override_by_name(*_override(name, unit=unit))
    return panel


def table(query: SqlPanelQuery, *, units: dict[str, str] | None = None, large: bool = False) -> Table:
    panel = (
        Table()
        .title(query.title)
        .description(query.description)
        .datasource(CLICKHOUSE)
        .with_target(ClickHouseTarget(query))
        .cell_height(common.TableCellHeight.LG if large else common.TableCellHeight.SM)
        .cell_options(common.TableAutoCellOptions(wrap_text=True))
    )
    for name, unit in (units or {}).items():
        panel = panel.override_by_name(*_override(name, unit=unit))
    return panel


def bars(query: SqlPanelQuery, *, value: str, unit: str = "short", large: bool = False) -> BarGauge:
    """One horizontal bar per row: the row's first text column names it, ``value`` sizes it."""
    panel = (
        BarGauge()
        .title(query.title)
        .description(query.description)
        .datasource(CLICKHOUSE)
        .with_target(ClickHouseTarget(query))
        .reduce_options(cb.ReduceDataOptions().values(True).calcs([]).fields(f"/^{value}$/"))
        .orientation(common.VizOrientation.HORIZONTAL)
        .display_mode(common.BarGaugeDisplayMode.BASIC)
        .unit(unit)
        .min(0)
    )
    if large:
        panel = panel.text(cb.VizTextDisplayOptions().title_size(22).value_size(26))
    return panel


def sql_timeseries(
    query: SqlPanelQuery,
    *,
    unit: str = "short",
    stacked: bool = False,
    bars_style: bool = False,
    min_interval: str | None = None,
) -> TimeSeries:
    panel = (
        TimeSeries()
        .title(query.title)
        .description(query.description)
        .datasource(CLICKHOUSE)
        .with_target(ClickHouseTarget(query))
        .unit(unit)
        .min(0)
        .line_width(2)
        .fill_opacity(60 if stacked else 10)
        .draw_style(common.GraphDrawStyle.BARS if bars_style else common.GraphDrawStyle.LINE)
        .legend(cb.VizLegendOptions().show_legend(True).display_mode(common.LegendDisplayMode.LIST))
    )
    if stacked:
        panel = panel.stacking(cb.StackingConfig().mode(common.StackingMode.NORMAL))
    if min_interval:
        panel = panel.interval(min_interval)
    return panel


def prom_timeseries(query: PromPanelQuery, *, unit: str = "short") -> TimeSeries:
    panel = (
        TimeSeries()
        .title(query.title)
        .description(query.description)
        .datasource(PROMETHEUS)
        .unit(unit)
        .min(0)
        .line_width(1)
        .fill_opacity(10)
        .legend(cb.VizLegendOptions().show_legend(True).display_mode(common.LegendDisplayMode.LIST))
    )
    for target in prometheus_targets(query):
        panel = panel.with_target(target)
    return panel


def sentiment_colors(panel: TimeSeries) -> TimeSeries:
    """Negative red, neutral grey, positive green, whatever the theme's palette."""
    for name, color in (("negative", "red"), ("neutral", "text"), ("positive", "green")):
        panel = panel.override_by_name(*_override(name, color={"mode": "fixed", "fixedColor": color}))
    return panel


def band(panel: TimeSeries, *, low: str, high: str, value: str, hidden: tuple[str, ...] = ()) -> TimeSeries:
    """Shade the area between ``low`` and ``high`` and draw ``value`` on top; hide the ``hidden`` fields."""
    blue = {"mode": "fixed", "fixedColor": "blue"}
    panel = panel.override_by_name(*_override(low, custom__lineWidth=0, color=blue))
    panel = panel.override_by_name(
        *_override(high, custom__fillBelowTo=low, custom__lineWidth=0, custom__fillOpacity=25, color=blue)
    )
    panel = panel.override_by_name(*_override(value, custom__lineWidth=3, color={"mode": "fixed", "fixedColor": "red"}))
    for name in hidden:
        panel = panel.override_by_name(
            *_override(name, custom__hideFrom={"legend": True, "tooltip": False, "viz": True})
        )
    return panel
