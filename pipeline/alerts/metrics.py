"""Prometheus metrics of alert delivery (label ``channel`` = the name in ``alerts.channels``, never a URL)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from pipeline.metrics import LATENCY_BUCKETS


class AlertMetrics:
    """One instance per process; tests make their own registry so they can read exact values."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry = registry if registry is not None else CollectorRegistry()
        self.sent = Counter(
            "luister_alerts_sent",
            "Notifications Slack accepted (kind: root, reply)",
            ["channel", "kind"],
            registry=registry,
        )
        self.adopted = Counter(
            "luister_alerts_adopted",
            "Notifications found already posted (crash window) and recorded instead of posted again",
            ["channel"],
            registry=registry,
        )
        self.skipped = Counter(
            "luister_alerts_skipped",
            "Notifications not sent because the ledger says they were delivered (replays, restarts)",
            ["channel"],
            registry=registry,
        )
        self.retried = Counter(
            "luister_alerts_retried",
            "Failed Slack calls retried soon (rate_limited, timeout, network, http_5xx, internal_error, …)",
            ["channel", "reason"],
            registry=registry,
        )
        self.failed = Counter(
            "luister_alerts_failed",
            "Slack calls refused permanently (invalid_auth, channel_not_found, …): the alert stays pending",
            ["channel", "reason"],
            registry=registry,
        )
        self.marked_resolved = Counter(
            "luister_alerts_marked_resolved",
            "Opening messages edited to show the incident resolved (outcome: ok, failed)",
            ["channel", "outcome"],
            registry=registry,
        )
        self.unrouted = Counter("luister_alerts_unrouted", "Incident events no route sent anywhere", registry=registry)
        self.pending = Gauge(
            "luister_alerts_pending", "Notifications waiting to be delivered", ["channel"], registry=registry
        )
        self.latency = Histogram(
            "luister_alert_delivery_seconds",
            "Seconds from the incident event's time (at) to Slack accepting its notification",
            ["channel"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )

    def value(self, name: str, **labels: str) -> float:
        """A sample's current value (tests, progress lines); 0 when it has not been recorded."""
        found = self.registry.get_sample_value(name, labels)
        return found if found is not None else 0.0
