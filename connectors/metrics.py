"""Per-connector Prometheus metrics (label ``connector`` = the connector's name).

Lag behind the platform is ``now − newest created_at seen``, computed when scraped (a custom collector), so it keeps
growing while a connector is stuck instead of freezing at its last value. A quiet platform also makes it grow: read
it next to the fetched counter.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime

from prometheus_client import CollectorRegistry, Counter
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector


class ConnectorMetrics:
    """One instance per process (tests make their own registry to read exact values)."""

    def __init__(self, registry: CollectorRegistry | None = None, clock: Callable[[], float] = time.time) -> None:
        self.registry = registry = registry if registry is not None else CollectorRegistry()
        self.fetched = Counter(
            "luister_connector_fetched", "Payload items read from the platform", ["connector"], registry=registry
        )
        self.published = Counter(
            "luister_connector_published",
            "Mentions acknowledged by the broker on the raw topic",
            ["connector"],
            registry=registry,
        )
        self.unmatched = Counter(
            "luister_connector_unmatched",
            "Mentions dropped because no brand query matched",
            ["connector"],
            registry=registry,
        )
        self.rejected = Counter(
            "luister_connector_rejected",
            "Payload items sent to the dead-letter topic",
            ["connector", "reason"],
            registry=registry,
        )
        self.errors = Counter(
            "luister_connector_errors",
            "Failed batches (the connector restarts from its saved state after a backoff)",
            ["connector", "kind"],
            registry=registry,
        )
        self.waits = Counter(
            "luister_connector_waits",
            "Waits of the HTTP client (rate_limit, backoff)",
            ["connector", "kind"],
            registry=registry,
        )
        self.wait_seconds = Counter(
            "luister_connector_wait_seconds",
            "Seconds the HTTP client waited (rate_limit, backoff)",
            ["connector", "kind"],
            registry=registry,
        )
        self._newest: dict[str, float] = {}
        self._lock = threading.Lock()  # scrapes come from the metrics server's thread
        registry.register(_LagCollector(self, clock))

    def on_wait(self, name: str) -> Callable[[str, float], None]:
        """A callback for ``Connector.attach`` / ``PoliteClient(on_wait=...)`` that counts waits of ``name``."""
        waits, seconds = self.waits, self.wait_seconds

        def observe(kind: str, delay: float) -> None:
            waits.labels(name, kind).inc()
            seconds.labels(name, kind).inc(max(delay, 0.0))

        return observe

    def saw(self, name: str, newest: datetime | None) -> None:
        """Remember the newest ``created_at`` seen by ``name`` (older values never move it back)."""
        if newest is None:
            return
        stamp = newest.timestamp()
        with self._lock:
            if stamp > self._newest.get(name, float("-inf")):
                self._newest[name] = stamp

    def newest(self) -> dict[str, float]:
        with self._lock:
            return dict(self._newest)

    def totals(self, name: str) -> dict[str, float]:
        """Counter totals of one connector, summed over their other labels (progress lines, tests)."""
        out: dict[str, float] = {}
        for key, counter in (
            ("fetched", self.fetched),
            ("published", self.published),
            ("unmatched", self.unmatched),
            ("rejected", self.rejected),
            ("errors", self.errors),
            ("waits", self.waits),
            ("wait_seconds", self.wait_seconds),
        ):
            out[key] = sum(
                sample.value
                for metric in counter.collect()
                for sample in metric.samples
                if sample.name.endswith("_total") and sample.labels.get("connector") == name
            )
        return out


class _LagCollector(Collector):
    def __init__(self, metrics: ConnectorMetrics, clock: Callable[[], float]) -> None:
        self.metrics = metrics
        self.clock = clock

    def collect(self) -> Iterator[GaugeMetricFamily]:
        lag = GaugeMetricFamily(
            "luister_connector_lag_seconds",
            "Now minus the newest created_at the connector has seen",
            labels=["connector"],
        )
        now = self.clock()
        for name, stamp in sorted(self.metrics.newest().items()):
            lag.add_metric([name], max(now - stamp, 0.0))
        yield lag
