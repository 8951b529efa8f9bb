"""The crisis detector inside the worker: a periodic job over ClickHouse feeding :mod:`pipeline.detect`.

Why a job over the rollups and not a streaming agent on ``mentions.enriched``: the rollups are already exact after a
crash (recomputed from the deduplicated table), so the detector's input is the same whichever worker wrote the rows
and however often they were retried; and its state needs no store of its own: a (re)started detector replays the
last ``history_days`` of per-minute counts through the same deterministic core and is where it was (the incident
ids it re-derives are the ones already delivered, so delivery drops them). Time to alert is the write latency (~1 s
insert batches) plus ``interval_s``.

One detector per deployment: only the worker that holds partition 0 of ``mentions.enriched`` runs it (Kafka's group
assignment is the leader election; when the partition moves, the new holder replays and takes over).

Every ``interval_s``: the minutes that ended more than ``lateness_s`` ago are *completed* (learned, with their
negative posts for the theme and near-duplicate signals); the minutes after that, still filling, are *peeked* (may
open an incident early, learn nothing). Each new incident step gets its context (top posts by reach, topics,
intents, languages) and goes to the ``alerts`` topic, keyed by incident id.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

import faust
from clickhouse_connect.driver.client import Client
from faust.types import TP
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from pipeline.detect.detector import Detector
from pipeline.incidents import IncidentEvent
from pipeline.retry import retry_until_done
from pipeline.schema import utcnow
from pipeline.settings import DetectSettings
from pipeline.storage.detect_reads import MINUTE, minute_floor, read_buckets
from pipeline.storage.incident_context import Window, read_context

log = logging.getLogger("luister.detector")

INTERVAL_S = 60.0
"""The detector's bucket: the rollups' minute."""


class DetectorMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.leader = Gauge("luister_detector_leader", "1 while this worker runs the detector", registry=registry)
        self.brands = Gauge("luister_detector_brands", "Brands the detector follows", registry=registry)
        self.step_seconds = Histogram(
            "luister_detector_step_seconds",
            "One detector step: read the rollups, observe/peek, read incident context",
            buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
            registry=registry,
        )
        self.replay_seconds = Gauge(
            "luister_detector_replay_seconds", "Duration of the last history replay", registry=registry
        )
        self.events = Counter(
            "luister_incident_events", "Incident steps emitted", ["stage", "signal", "severity"], registry=registry
        )


class DetectorRuntime:
    """The blocking part (ClickHouse reads and the core); the Faust timer calls it from the DB thread pool."""

    def __init__(
        self,
        client: Client,
        database: str,
        settings: DetectSettings,
        metrics: DetectorMetrics,
        detector_factory: Callable[[], Detector] = lambda: Detector(interval_s=INTERVAL_S),
        dashboard_url: str | None = None,
    ) -> None:
        self.client = client
        self.database = database
        self.settings = settings
        self.metrics = metrics
        self.detector_factory = detector_factory
        self.dashboard_url = dashboard_url
        self.detector: Detector | None = None
        self.completed_until: datetime | None = None

    def _boundary(self, now: datetime) -> datetime:
        return minute_floor(now - timedelta(seconds=self.settings.lateness_s))

    def rebuild(self, now: datetime) -> None:
        """Replay the history up to the completed boundary; what it re-derives is not emitted again."""
        started = time.perf_counter()
        detector = self.detector_factory()
        boundary = self._boundary(now)
        since = minute_floor(now - timedelta(days=self.settings.history_days))
        with_posts = max(since, minute_floor(boundary - timedelta(seconds=self.settings.post_history_s)))
        replayed = detector.replay(read_buckets(self.client, self.database, since, with_posts, posts=False))
        replayed += detector.replay(
            read_buckets(self.client, self.database, with_posts, boundary, brands=detector.brands)
        )
        self.detector, self.completed_until = detector, boundary
        self.metrics.replay_seconds.set(time.perf_counter() - started)
        self.metrics.brands.set(len(detector.brands))
        log.warning(
            "detector: replayed %s..%s for %d brands in %.1fs (%d incident steps re-derived, not re-sent)",
            since.isoformat(),
            boundary.isoformat(),
            len(detector.brands),
            time.perf_counter() - started,
            len(replayed),
        )

    def drop(self) -> None:
        self.detector, self.completed_until = None, None

    def step(self, now: datetime | None = None) -> list[IncidentEvent]:
        """Complete the minutes past the lateness boundary, peek at the ones still filling; returns new steps."""
        now = now or utcnow()
        if self.detector is None or self.completed_until is None:
            self.rebuild(now)
        assert self.detector is not None and self.completed_until is not None
        started = time.perf_counter()
        events: list[IncidentEvent] = []
        boundary = self._boundary(now)
        brands = list(self.detector.brands)
        if boundary > self.completed_until:
            for bucket in read_buckets(self.client, self.database, self.completed_until, boundary, brands=brands):
                events += self.detector.observe(bucket)
            self.completed_until = boundary
        open_until = minute_floor(now) + MINUTE
        for bucket in read_buckets(self.client, self.database, boundary, open_until, brands=brands, posts=False):
            events += self.detector.peek(bucket, now)
        events = [self._with_context(e) for e in events]  # never raises: context is a nicety, the step is not
        for e in events:
            self.metrics.events.labels(e.stage, e.signal, e.severity).inc()
        self.metrics.brands.set(len(self.detector.brands))
        self.metrics.step_seconds.observe(time.perf_counter() - started)
        return events

    def _with_context(self, event: IncidentEvent) -> IncidentEvent:
        try:
            return self._add_context(event)
        except Exception as exc:  # the detector already advanced: send the step without context, never drop it
            log.error("incident %s: reading its context failed (%r); sending it without", event.event_id, exc)
            return event

    def _add_context(self, event: IncidentEvent) -> IncidentEvent:
        update: dict[str, object] = {}
        if self.dashboard_url and not event.dashboard_url:
            update["dashboard_url"] = self.dashboard_url
        if event.stage in ("opened", "escalated") and not event.top_posts:
            window = Window(
                brand=event.brand,
                since=event.opened_at,
                until=event.at + MINUTE,
                platform=event.platform,
                negative_only=event.signal != "volume",
            )
            ctx = read_context(self.client, self.database, window)
            update.update(top_posts=ctx.top_posts, languages=ctx.languages)
            if not event.top_topics:
                update["top_topics"] = ctx.top_topics
            if not event.top_intents:
                update["top_intents"] = ctx.top_intents
        return event.model_copy(update=update) if update else event


def add_detector_timer(
    app: faust.App,
    runtime: DetectorRuntime,
    *,
    alerts_topic: faust.TopicT,
    leader_topic: str,
    interval_s: float,
    blocking: Callable[..., Awaitable[Any]],
) -> None:
    """Runs ``runtime`` every ``interval_s`` in the worker holding ``leader_topic`` partition 0, publishing its
    incident steps to ``alerts_topic`` (acknowledged before the next step; retried, never skipped)."""
    leader_tp = TP(leader_topic, 0)

    async def send_all(events: list[IncidentEvent]) -> None:
        futures = [
            await alerts_topic.send(key=e.incident_id.encode(), value=e.model_dump_json().encode(), force=True)
            for e in events
        ]
        await asyncio.gather(*futures)

    async def publish(events: list[IncidentEvent]) -> None:
        # The broker is down: hold the steps, the next ones wait behind them.
        await retry_until_done(f"publishing {len(events)} incident steps", lambda: send_all(events), log)

    @app.timer(interval_s)
    async def detect() -> None:
        leader = leader_tp in app.consumer.assignment()
        runtime.metrics.leader.set(1 if leader else 0)
        if not leader:
            if runtime.detector is not None:
                log.warning("detector: partition %s moved to another worker; stopping here", leader_tp)
                runtime.drop()
            return
        try:
            events = await blocking(runtime.step)
        except Exception as exc:  # ClickHouse unreachable: look again next time, nothing was learned
            log.error("detector step failed: %r", exc)
            return
        if events:
            for e in events:
                log.warning("incident %s: %s %s %s — %s", e.event_id, e.stage, e.severity, e.brand, e.summary)
            await publish(events)
