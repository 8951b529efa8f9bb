"""The pipeline's own health, as Prometheus metrics measured at every boundary.

Latency histograms follow a mention's life: created (on the platform) → ingested (read by the worker) →
enriched (model done) → queryable (insert acknowledged by ClickHouse). These are the product's promise.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 900, 3600)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384)


class PipelineMetrics:
    """One instance per process; tests make their own registry so they can read exact values."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry = registry if registry is not None else CollectorRegistry()
        self.consumed = Counter("luister_mentions_consumed", "Raw records read from the broker", registry=registry)
        self.duplicates = Counter("luister_mentions_duplicate", "Exact duplicates dropped", registry=registry)
        self.deadlettered = Counter(
            "luister_mentions_deadlettered", "Records sent to the dead-letter topic", ["reason"], registry=registry
        )
        self.enriched = Counter("luister_mentions_enriched", "Mentions enriched by the model", registry=registry)
        self.written = Counter("luister_mentions_written", "Rows acknowledged by ClickHouse", registry=registry)
        self.write_errors = Counter("luister_write_errors", "Failed ClickHouse inserts (retried)", registry=registry)
        self.publish_errors = Counter(
            "luister_publish_errors", "Failed sends to the broker (retried)", registry=registry
        )
        self.model_batch_size = Histogram(
            "luister_model_batch_size", "Mentions per model call", buckets=BATCH_BUCKETS, registry=registry
        )
        self.model_batch_seconds = Histogram(
            "luister_model_batch_seconds", "Time per model call", buckets=LATENCY_BUCKETS, registry=registry
        )
        self.insert_batch_size = Histogram(
            "luister_insert_batch_size", "Rows per ClickHouse insert", buckets=BATCH_BUCKETS, registry=registry
        )
        self.insert_seconds = Histogram(
            "luister_insert_seconds",
            "Time per ClickHouse insert incl. rollups",
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.stage_latency = Histogram(
            "luister_latency_seconds",
            "Seconds between two points of a mention's life",
            ["stage"],  # created_to_ingested, ingested_to_enriched, enriched_to_queryable, created_to_queryable
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.consumer_lag = Gauge(
            "luister_consumer_lag", "Records behind the high watermark", ["topic", "partition"], registry=registry
        )
        self.invalid_ratio = Gauge(
            "luister_invalid_ratio", "Share of invalid records among the last window of raw records", registry=registry
        )
