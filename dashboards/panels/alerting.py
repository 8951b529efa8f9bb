"""Grafana-managed alert rules: their queries (written once, here) and thresholds.

For teams that prefer Grafana's alerting to luister's own detector and Slack alerts (``docs/alerts.md``): these
rules are deliberately simple, fixed-threshold checks; luister's detector is the calibrated one. The generator
(``dashboards/grafana/alerting.py``) writes them to ``dashboards/provisioning/alerting/luister-alerting.yaml``.

Each SQL query returns Grafana's "numeric data": table format, one string column (``brand``, which becomes the
alert's label: one alert instance per brand) and exactly one numeric column. No dashboard variables: a rule has
none; ``$__timeFilter`` and ``$__fromTime``/``$__toTime`` cover the rule's window (``AlertRule.window_s``).
Only own brands (``NOT competitor``) alert.
"""

from __future__ import annotations

from dashboards.panels.model import AlertRule, PromAlertQuery, SqlPanelQuery, Threshold

WINDOW_S = 15 * 60
BASELINE_DAYS = 7
MIN_WINDOW_MENTIONS = 20
"""A window with fewer mentions of a brand says nothing about its negative share."""
MIN_BASELINE_MENTIONS = 100
SHARE_FLOOR = 0.05
"""The baseline share is floored so a brand that is almost never negative does not alert on two posts."""
SPIKE_BASELINE_HOURS = 3
MIN_WINDOW_NEGATIVE = 10

negative_share_ratio = SqlPanelQuery(
    name="alerting.negative_share_ratio",
    title="Negative share against its baseline, per brand",
    description=(
        f"Per own brand: the negative share of the window's mentions divided by its negative share over the "
        f"{BASELINE_DAYS} days before the window (floored at {SHARE_FLOOR}). Brands with fewer than "
        f"{MIN_WINDOW_MENTIONS} mentions in the window or {MIN_BASELINE_MENTIONS} in the baseline are left out."
    ),
    format="table",
    reads=("sentiment_minute_v",),
    columns=("brand", "negative_share_ratio"),
    sql=f"""
WITH
    recent AS (
        SELECT brand, sum(mentions) AS total, sumIf(mentions, sentiment = 'negative') AS negative
        FROM sentiment_minute_v
        WHERE brand != '' AND NOT competitor AND $__timeFilter(minute)
        GROUP BY brand
    ),
    baseline AS (
        SELECT brand, sumIf(mentions, sentiment = 'negative') / sum(mentions) AS share
        FROM sentiment_minute_v
        WHERE brand != '' AND NOT competitor
            AND minute >= $__fromTime - INTERVAL {BASELINE_DAYS} DAY AND minute < $__fromTime
        GROUP BY brand
        HAVING sum(mentions) >= {MIN_BASELINE_MENTIONS}
    )
SELECT
    recent.brand AS brand,
    (recent.negative / recent.total) / greatest(baseline.share, {SHARE_FLOOR}) AS negative_share_ratio
FROM recent
INNER JOIN baseline ON baseline.brand = recent.brand
WHERE recent.total >= {MIN_WINDOW_MENTIONS}
ORDER BY brand
""",
)

negative_volume_ratio = SqlPanelQuery(
    name="alerting.negative_volume_ratio",
    title="Negative mentions against the hours before, per brand",
    description=(
        f"Per own brand: negative mentions in the window divided by the mean of the same length over the "
        f"{SPIKE_BASELINE_HOURS} hours before it (at least 1). Brands with fewer than {MIN_WINDOW_NEGATIVE} negative "
        f"mentions in the window are left out. A short-term spike check: it also fires when all traffic jumps (a new "
        f"connector, a viral post of any tone), and a crisis that lasts becomes its own baseline after a few hours "
        f"(the negative-share rule and luister's detector cover those)."
    ),
    format="table",
    reads=("sentiment_minute_v",),
    columns=("brand", "negative_volume_ratio"),
    sql=f"""
WITH
    recent AS (
        SELECT brand, sumIf(mentions, sentiment = 'negative') AS negative
        FROM sentiment_minute_v
        WHERE brand != '' AND NOT competitor AND $__timeFilter(minute)
        GROUP BY brand
    ),
    before AS (
        SELECT brand, sumIf(mentions, sentiment = 'negative') AS negative
        FROM sentiment_minute_v
        WHERE brand != '' AND NOT competitor
            AND minute >= $__fromTime - INTERVAL {SPIKE_BASELINE_HOURS} HOUR AND minute < $__fromTime
        GROUP BY brand
    )
SELECT
    recent.brand AS brand,
    recent.negative / greatest(
        before.negative * dateDiff('second', $__fromTime, $__toTime) / {SPIKE_BASELINE_HOURS * 3600}, 1
    ) AS negative_volume_ratio
FROM recent
LEFT JOIN before ON before.brand = recent.brand
WHERE recent.negative >= {MIN_WINDOW_NEGATIVE}
ORDER BY brand
""",
)

open_high_incidents = SqlPanelQuery(
    name="alerting.open_high_incidents",
    title="Open incidents of severity high or critical, per brand",
    description=(
        "Per brand: luister's incidents (crisis detection) open at the end of the window whose latest severity is "
        "high or critical. Open at the end of the window, rather than is_open, so the query also answers for a "
        "past window; for a window ending now the two agree."
    ),
    format="table",
    reads=("incidents_v",),
    columns=("brand", "open_incidents"),
    sql="""
SELECT brand, toFloat64(count()) AS open_incidents
FROM incidents_v
WHERE severity >= 'high' AND opened_at <= $__toTime AND (resolved_at IS NULL OR resolved_at > $__toTime)
GROUP BY brand
ORDER BY brand
""",
)

published_10m = PromAlertQuery(
    name="alerting.published_10m",
    expr="sum(increase(luister_connector_published_total[10m]))",
    description="Mentions the connectors published to the broker in the last 10 minutes.",
)

written_10m = PromAlertQuery(
    name="alerting.written_10m",
    expr="sum(increase(luister_mentions_written_total[10m]))",
    description="Mentions the workers wrote to ClickHouse in the last 10 minutes.",
)

SQL_QUERIES: tuple[SqlPanelQuery, ...] = (negative_share_ratio, negative_volume_ratio, open_high_incidents)
PROM_QUERIES: tuple[PromAlertQuery, ...] = (published_10m, written_10m)

RULES: tuple[AlertRule, ...] = (
    AlertRule(
        uid="luister-negative-share",
        title="Negative share far above its baseline",
        queries=(negative_share_ratio,),
        thresholds=(Threshold("gt", 2.0),),
        window_s=WINDOW_S,
        pending="5m",
        no_data="OK",
        severity="high",
        summary="{{ $labels.brand }}: negative share {{ humanize $values.B.Value }}x its 7-day baseline (last 15 min)",
        description=negative_share_ratio.description,
    ),
    AlertRule(
        uid="luister-negative-volume",
        title="Negative mentions spike",
        queries=(negative_volume_ratio,),
        thresholds=(Threshold("gt", 4.0),),
        window_s=WINDOW_S,
        pending="0s",
        no_data="OK",
        severity="high",
        summary="{{ $labels.brand }}: {{ humanize $values.B.Value }}x the usual negative mentions (last 15 min)",
        description=negative_volume_ratio.description,
    ),
    AlertRule(
        uid="luister-open-incident",
        title="luister incident of severity high or above open",
        queries=(open_high_incidents,),
        thresholds=(Threshold("gt", 0.0),),
        window_s=10 * 60,
        pending="0s",
        no_data="OK",
        severity="high",
        summary="{{ $labels.brand }}: {{ $values.B.Value }} open luister incident(s) of severity high or critical",
        description=open_high_incidents.description,
    ),
    AlertRule(
        uid="luister-pipeline-stalled",
        title="Mentions published but none written",
        queries=(published_10m, written_10m),
        thresholds=(Threshold("gt", 0.0), Threshold("lt", 1.0)),
        window_s=10 * 60,
        pending="5m",
        no_data="NoData",
        severity="critical",
        summary="Connectors published {{ humanize $values.C.Value }} mentions in 10 min, workers wrote none",
        description=(
            "The connectors publish mentions but no worker has written any to ClickHouse for 10 minutes: workers "
            "down, stuck or failing to write (see the operations dashboard). No data (Prometheus scrapes nothing) "
            "raises Grafana's DatasourceNoData alert instead."
        ),
    ),
)
