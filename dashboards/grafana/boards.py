"""The three dashboards: wall, webcare, operations. Each function returns the SDK's dashboard builder."""

from __future__ import annotations

from grafana_foundation_sdk.builders.dashboard import AnnotationQuery, Dashboard, Row

from dashboards.grafana.common import CLICKHOUSE, TAGS, ClickHouseAnnotation, brand_variable
from dashboards.grafana.panels import (
    band,
    bars,
    prom_timeseries,
    sentiment_colors,
    sql_timeseries,
    stat,
    table,
)
from dashboards.panels import operations as ops
from dashboards.panels import wall as w
from dashboards.panels import webcare as wc

WALL_UID = "luister-wall"
WEBCARE_UID = "luister-webcare"
OPERATIONS_UID = "luister-operations"


def _incidents() -> AnnotationQuery:
    return (
        AnnotationQuery()
        .name("Incidents")
        .datasource(CLICKHOUSE)
        .enable(True)
        .icon_color("red")
        .target(ClickHouseAnnotation(w.incident_annotations))
    )


def wall() -> Dashboard:
    """For a screen across the room: large type, few panels, 30 s refresh. Open it with ``?kiosk&theme=dark``."""
    return (
        Dashboard("luister: wall")
        .uid(WALL_UID)
        .description("How the selected brand is doing now. For a wall screen: /d/luister-wall?kiosk&theme=dark")
        .tags(TAGS)
        .time("now-24h", "now")
        .refresh("30s")
        .timezone("browser")
        .readonly()
        .with_variable(brand_variable())
        .annotation(_incidents())
        .with_panel(
            stat(
                w.headline,
                fields="/^(mentions|negative_share|reach)$/",
                units={"negative_share": "percentunit", "mentions": "short", "reach": "short"},
                title_size=28,
                value_size=80,
            )
            .height(7)
            .span(12)
        )
        .with_panel(table(w.open_incidents, large=True).height(7).span(12))
        .with_panel(
            sentiment_colors(sql_timeseries(w.volume_by_sentiment, stacked=True, min_interval="5m")).height(11).span(16)
        )
        .with_panel(bars(w.share_of_voice, value="share", unit="percentunit", large=True).height(11).span(8))
        .with_panel(
            band(
                sql_timeseries(w.negative_share_band, unit="percentunit"),
                low="baseline_low",
                high="baseline_high",
                value="negative_share",
                hidden=("mentions",),
            )
            .height(10)
            .span(16)
        )
        .with_panel(table(w.emerging_themes, large=True).height(10).span(8))
        .with_panel(table(w.high_reach_negative, large=True).height(12).span(24))
        .with_panel(bars(w.top_topics, value="topic_mentions", large=True).height(10).span(8))
        .with_panel(bars(w.top_intents, value="share", unit="percentunit", large=True).height(10).span(6))
        .with_panel(bars(w.languages, value="share", unit="percentunit", large=True).height(10).span(5))
        .with_panel(bars(w.platforms, value="share", unit="percentunit", large=True).height(10).span(5))
        .with_panel(
            sql_timeseries(w.share_of_voice_over_time, unit="percentunit", stacked=True, min_interval="15m")
            .height(9)
            .span(24)
        )
    )


def webcare() -> Dashboard:
    stats = {"response_rate": "percentunit", "median_response_s": "s", "p90_response_s": "s"}
    return (
        Dashboard("luister: webcare")
        .uid(WEBCARE_UID)
        .description(
            "Questions and complaints addressed to the brand's own accounts and pages, what is still waiting, "
            "and how fast brand accounts answer. Definitions: docs/dashboards.md."
        )
        .tags(TAGS)
        .time("now-24h", "now")
        .refresh("1m")
        .timezone("browser")
        .readonly()
        .with_variable(brand_variable())
        .with_panel(
            stat(
                wc.summary,
                fields="/^(inbound|unanswered|response_rate|median_response_s|p90_response_s)$/",
                units=stats,
            )
            .height(6)
            .span(24)
        )
        .with_panel(table(wc.unanswered, units={"waiting_s": "s"}).height(12).span(24))
        .with_panel(table(wc.by_channel, units=stats).height(8).span(12))
        .with_panel(table(wc.by_hour_of_day, units=stats).height(8).span(12))
        .with_row(Row("Over time"))
        .with_panel(sql_timeseries(wc.by_hour, bars_style=True).height(9).span(24))
    )


def operations() -> Dashboard:
    return (
        Dashboard("luister: operations")
        .uid(OPERATIONS_UID)
        .description("The pipeline's health from its Prometheus metrics: throughput, lag, latency, errors, model.")
        .tags(TAGS)
        .time("now-3h", "now")
        .refresh("30s")
        .timezone("browser")
        .readonly()
        .with_row(Row("Flow"))
        .with_panel(prom_timeseries(ops.throughput, unit="short").height(8).span(12))
        .with_panel(prom_timeseries(ops.consumer_lag).height(8).span(12))
        .with_panel(prom_timeseries(ops.end_to_end_latency, unit="s").height(8).span(12))
        .with_panel(prom_timeseries(ops.stage_latency, unit="s").height(8).span(12))
        .with_row(Row("Errors"))
        .with_panel(prom_timeseries(ops.dead_letters).height(8).span(8))
        .with_panel(prom_timeseries(ops.invalid_share, unit="percentunit").height(8).span(8))
        .with_panel(prom_timeseries(ops.writes).height(8).span(8))
        .with_row(Row("Model"))
        .with_panel(prom_timeseries(ops.model_batch).height(8).span(8))
        .with_panel(prom_timeseries(ops.model_latency, unit="s").height(8).span(8))
        .with_panel(prom_timeseries(ops.gpu, unit="percent").height(8).span(8))
        .with_row(Row("Connectors"))
        .with_panel(prom_timeseries(ops.connector_throughput).height(8).span(8))
        .with_panel(prom_timeseries(ops.connector_health).height(8).span(8))
        .with_panel(prom_timeseries(ops.connector_lag, unit="s").height(8).span(8))
        .with_panel(prom_timeseries(ops.up).height(6).span(24))
    )


DASHBOARDS = {WALL_UID: wall, WEBCARE_UID: webcare, OPERATIONS_UID: operations}
"""File stem (= dashboard uid) → builder."""
