"""The operations dashboard's PromQL, against the metrics luister exports (``pipeline/metrics.py``,
``connectors/metrics.py``) on every worker's and connector's ``/metrics``.

``$__rate_interval`` is Grafana's rate window (at least four scrape intervals). Sums run over every scraped
process, so the panels show the whole deployment; per-process detail is one ``by (instance)`` away.
"""

from __future__ import annotations

from dashboards.panels.model import PromPanelQuery, PromTarget

RATE = "$__rate_interval"


def _rate(metric: str, by: str = "") -> str:
    grouping = f" by ({by})" if by else ""
    return f"sum{grouping} (rate({metric}[{RATE}]))"


def _quantile(q: float, histogram: str, selector: str = "", by: str = "") -> str:
    labels = ", ".join(["le", *([by] if by else [])])
    return f"histogram_quantile({q}, sum by ({labels}) (rate({histogram}_bucket{selector}[{RATE}])))"


throughput = PromPanelQuery(
    name="operations.throughput",
    title="Throughput per stage (mentions/s)",
    description="Published by connectors → consumed by workers → enriched by the model → written to ClickHouse. "
    "A gap between two lines is a stage falling behind.",
    targets=(
        PromTarget(_rate("luister_connector_published_total"), "published"),
        PromTarget(_rate("luister_mentions_consumed_total"), "consumed"),
        PromTarget(_rate("luister_mentions_enriched_total"), "enriched"),
        PromTarget(_rate("luister_mentions_written_total"), "written"),
        PromTarget(_rate("luister_mentions_duplicate_total"), "duplicates dropped"),
    ),
)

consumer_lag = PromPanelQuery(
    name="operations.consumer_lag",
    title="Consumer lag (records)",
    description="Records behind the high watermark, per topic (summed over partitions).",
    targets=(PromTarget("sum by (topic) (luister_consumer_lag)", "{{topic}}"),),
)

end_to_end_latency = PromPanelQuery(
    name="operations.end_to_end_latency",
    title="Created → queryable latency",
    description="Seconds from a post's creation on the platform until it can be queried in ClickHouse: the "
    "product's promise. Includes the platform's and the connector's delay.",
    targets=tuple(
        PromTarget(_quantile(q, "luister_latency_seconds", '{stage="created_to_queryable"}'), f"p{round(q * 100)}")
        for q in (0.5, 0.9, 0.99)
    ),
)

stage_latency = PromPanelQuery(
    name="operations.stage_latency",
    title="Latency per stage (p90)",
    description="90th percentile of each step of a mention's life: created → ingested → enriched → queryable.",
    targets=(PromTarget(_quantile(0.9, "luister_latency_seconds", by="stage"), "{{stage}}"),),
)

dead_letters = PromPanelQuery(
    name="operations.dead_letters",
    title="Dead letters (per s)",
    description="Records sent to the dead-letter topic by workers (per reason) and by connectors (per reason).",
    targets=(
        PromTarget(_rate("luister_mentions_deadlettered_total", "reason"), "worker: {{reason}}"),
        PromTarget(_rate("luister_connector_rejected_total", "reason"), "connector: {{reason}}"),
    ),
)

invalid_share = PromPanelQuery(
    name="operations.invalid_share",
    title="Invalid share of raw records",
    description="Share of invalid records among the last window of raw records; /health turns degraded above "
    "the configured maximum.",
    targets=(PromTarget("max(luister_invalid_ratio)", "invalid share"),),
)

model_batch = PromPanelQuery(
    name="operations.model_batch",
    title="Model batch size",
    description="Mentions per model call: mean and 90th percentile.",
    targets=(
        PromTarget(f"{_rate('luister_model_batch_size_sum')} / {_rate('luister_model_batch_size_count')}", "mean"),
        PromTarget(_quantile(0.9, "luister_model_batch_size"), "p90"),
    ),
)

model_latency = PromPanelQuery(
    name="operations.model_latency",
    title="Model call latency",
    description="Seconds per model call (one batch): median and 90th percentile.",
    targets=tuple(PromTarget(_quantile(q, "luister_model_batch_seconds"), f"p{round(q * 100)}") for q in (0.5, 0.9)),
)

writes = PromPanelQuery(
    name="operations.writes",
    title="ClickHouse inserts",
    description="Insert latency (incl. rollup refresh, p90), rows per insert (mean), and failed inserts and "
    "broker sends (retried) per second.",
    targets=(
        PromTarget(_quantile(0.9, "luister_insert_seconds"), "insert p90 (s)"),
        PromTarget(
            f"{_rate('luister_insert_batch_size_sum')} / {_rate('luister_insert_batch_size_count')}",
            "rows per insert",
        ),
        PromTarget(_rate("luister_write_errors_total"), "write errors/s"),
        PromTarget(_rate("luister_publish_errors_total"), "publish errors/s"),
    ),
)

connector_throughput = PromPanelQuery(
    name="operations.connector_throughput",
    title="Connectors: fetched and published (per s)",
    description="Items read from each platform, and mentions that matched a brand and reached the broker.",
    targets=(
        PromTarget(_rate("luister_connector_fetched_total", "connector"), "{{connector}} fetched"),
        PromTarget(_rate("luister_connector_published_total", "connector"), "{{connector}} published"),
        PromTarget(_rate("luister_connector_unmatched_total", "connector"), "{{connector}} unmatched"),
    ),
)

connector_health = PromPanelQuery(
    name="operations.connector_health",
    title="Connectors: errors and waits (per s)",
    description="Failed batches (the connector restarts from its saved cursor) and the HTTP client's waits for "
    "rate limits and backoff.",
    targets=(
        PromTarget(_rate("luister_connector_errors_total", "connector, kind"), "{{connector}} error: {{kind}}"),
        PromTarget(_rate("luister_connector_waits_total", "connector, kind"), "{{connector}} wait: {{kind}}"),
    ),
)

connector_lag = PromPanelQuery(
    name="operations.connector_lag",
    title="Connectors: seconds behind the platform",
    description="Now minus the newest created_at each connector has seen. Grows while a connector is stuck, "
    "and also while a platform is quiet: read it next to the fetched rate.",
    targets=(PromTarget("max by (connector) (luister_connector_lag_seconds)", "{{connector}}"),),
)

gpu = PromPanelQuery(
    name="operations.gpu",
    title="GPU utilisation",
    description="From NVIDIA's dcgm-exporter, when the workers run on GPUs and it is scraped; empty otherwise.",
    targets=(
        PromTarget("avg by (gpu, Hostname) (DCGM_FI_DEV_GPU_UTIL)", "GPU {{gpu}} on {{Hostname}} (%)"),
        PromTarget(
            "avg by (gpu, Hostname) (DCGM_FI_DEV_FB_USED / (DCGM_FI_DEV_FB_USED + DCGM_FI_DEV_FB_FREE) * 100)",
            "GPU {{gpu}} memory on {{Hostname}} (%)",
        ),
    ),
    external={
        "DCGM_FI_DEV_GPU_UTIL": "dcgm-exporter",
        "DCGM_FI_DEV_FB_USED": "dcgm-exporter",
        "DCGM_FI_DEV_FB_FREE": "dcgm-exporter",
    },
)

up = PromPanelQuery(
    name="operations.up",
    title="Processes up",
    description="Scraped luister processes that answer (Prometheus' own up metric), per scrape job.",
    targets=(PromTarget("sum by (job) (up)", "{{job}}"),),
    external={"up": "Prometheus (scrape health)"},
)

QUERIES: tuple[PromPanelQuery, ...] = (
    throughput,
    consumer_lag,
    end_to_end_latency,
    stage_latency,
    dead_letters,
    invalid_share,
    model_batch,
    model_latency,
    writes,
    connector_throughput,
    connector_health,
    connector_lag,
    gpu,
    up,
)
