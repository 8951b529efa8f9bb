"""The Faust application: two agents and a few web pages, thin shells around :mod:`pipeline.steps`.

Pages: ``/health``, ``/metrics``, read-only ``/sql`` and, where the worker has SQL, the wall page ``/wall``
(:mod:`pipeline.wall`).

Flow (docs/architecture.md)::

    mentions.raw ─► enrich agent: decode ─► dedup ─► one model call ─► publish ─► commit (2 batches in flight)
                        └─ invalid ─► mentions.deadletter (original bytes, reason in headers)
    mentions.enriched ─► sink agent: decode ─► one insert (dedup token) ─► commit
    rollups ─► detector timer (pipeline/detector_task.py, one worker) ─► alerts
    alerts ─► alerts agent (pipeline/alert_agent.py): store incident events ─► Slack ─► commit

Offsets: both input topics are declared with ``acks=False``, so Faust never commits them on its own (its
take() buffer acks a batch even when the agent is cancelled half-way through it). :class:`OffsetCommitter`
commits only offsets whose records were published (enricher) or written (sink) and acknowledged.
Backpressure: while the model or ClickHouse is busy or failing, an agent does not take its next batch (the
enricher holds at most two, in order: one in the model, one queued or publishing); Faust's bounded stream buffer
fills and the consumer stops fetching. Nothing is buffered without bound.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol, cast

import faust
from faust.types import TP, EventT
from faust.web import Request, Response, View
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import ValidationError

from pipeline.alert_agent import add_alert_agent
from pipeline.alerts import Notifier
from pipeline.deadletter import deadletter_headers
from pipeline.detector_task import DetectorRuntime, add_detector_timer
from pipeline.fetch_limit import max_poll_records, oversized_assignment
from pipeline.metrics import PipelineMetrics
from pipeline.retry import retry_until_done
from pipeline.schema import EnrichedMention, Mention, utcnow
from pipeline.settings import KafkaSettings, Settings
from pipeline.steps.commit import OffsetCommitter, next_offsets
from pipeline.steps.decode import InvalidMessage, decode_mention
from pipeline.steps.dedup import RecentMentions
from pipeline.steps.enrich import Enricher, ModelUnavailableError
from pipeline.steps.guard import InvalidShare
from pipeline.steps.isolate import write_isolating
from pipeline.storage.incidents import IncidentWriter

log = logging.getLogger("luister.worker")

Event = EventT[bytes]


class Writer(Protocol):
    def write(self, batch: Sequence[EnrichedMention], dedup_token: str) -> Any: ...


SqlRunner = Callable[[str], dict[str, Any]]


@dataclass
class Services:
    """Everything the agents need that does I/O or holds a model; built before the worker starts."""

    settings: Settings
    bootstrap_servers: str
    enricher: Enricher
    writer: Writer
    sql: SqlRunner | None = None
    metrics: PipelineMetrics = field(default_factory=PipelineMetrics)
    incidents: IncidentWriter | None = None
    """Stores the ``alerts`` topic's incident events in ClickHouse; None: not stored."""
    notifier: Notifier | None = None
    """Delivers incident events to Slack; None: no channels configured."""
    detector: DetectorRuntime | None = None
    """The crisis detector (runs where enriched partition 0 is assigned); None: disabled."""
    extra_status: Callable[[], dict[str, Any]] | None = None
    input_partitions: int | None = None
    """Partitions of the largest consumed topic as the broker lists them; unset: ``kafka.partitions``."""


ENRICH_AHEAD = 2
"""Batches taken from the raw topic and not yet committed, at most (see ``enrich_agent``)."""


@dataclass(eq=False)
class InFlight:
    """A raw batch between the stream and its commit: its model call runs while the previous batch publishes."""

    events: Sequence[Event]
    fresh: int
    dlq_sends: list[Awaitable[Any]]
    model: asyncio.Future[list[EnrichedMention]] | None


@dataclass
class WorkerState:
    started_at: float = field(default_factory=time.time)
    last_write_at: float | None = None
    last_write_error: str | None = None
    enriched: int = 0
    written: int = 0
    invalid: InvalidShare = field(default_factory=InvalidShare)


def consumed_topics(kafka: KafkaSettings) -> tuple[str, ...]:
    """The topics the worker's agents read, all through one consumer."""
    return (kafka.raw_topic, kafka.enriched_topic, kafka.alerts_topic)


def create_app(services: Services) -> faust.App:
    s = services.settings
    k, w = s.kafka, s.worker
    metrics = services.metrics
    state = WorkerState(invalid=InvalidShare(threshold=w.max_invalid_ratio))
    partitions = max(k.partitions, services.input_partitions or 0)
    fetch_batch = max_poll_records(w.stream_buffer, partitions)
    app = faust.App(
        k.group,
        broker=[f"kafka://{host.strip()}" for host in services.bootstrap_servers.split(",")],
        key_serializer="raw",
        value_serializer="raw",
        topic_partitions=k.partitions,
        topic_replication_factor=k.replication_factor,
        topic_disable_leader=True,
        broker_session_timeout=k.session_timeout_s,
        broker_heartbeat_interval=max(k.session_timeout_s / 5, 0.5),
        consumer_auto_offset_reset="earliest",
        stream_wait_empty=False,
        producer_acks=-1,
        producer_max_request_size=16 * 1024 * 1024,
        consumer_max_fetch_size=16 * 1024 * 1024,
        # All agents share this consumer: a fetched batch must never meet a full stream buffer, or the slow
        # enricher's backlog holds up the sink (pipeline/fetch_limit.py, docs/architecture.md).
        stream_buffer_maxsize=w.stream_buffer,
        broker_max_poll_records=fetch_batch,
        store="memory://",
        datadir=str(s.data_dir / "faust"),
        web_enabled=True,
        web_host=w.web_host,
        web_port=w.web_port,
        web_bind=w.web_host,
    )
    raw_topic = app.topic(k.raw_topic, acks=False, internal=False)
    enriched_topic = app.topic(k.enriched_topic, acks=False, internal=False)
    dlq_topic = app.topic(k.deadletter_topic, internal=False)
    alerts_topic = app.topic(k.alerts_topic, acks=False, internal=False)
    model_pool = ThreadPoolExecutor(1, thread_name_prefix="luister-model")
    db_pool = ThreadPoolExecutor(2, thread_name_prefix="luister-db")
    dedup = RecentMentions(w.dedup_window)

    async def commit(offsets: Mapping[tuple[str, int], int]) -> bool:
        # Faust's public commit() only commits what its own acks tracked; ours are tracked by OffsetCommitter.
        consumer: Any = app.consumer
        return bool(await consumer._commit({TP(t, p): o for (t, p), o in offsets.items()}))

    committer = OffsetCommitter(commit, interval=w.commit_interval_s)

    async def commit_pending(reason: str) -> None:
        try:
            await committer.commit_now()
        except Exception as exc:  # the batch is redone by whoever gets the partition: at-least-once, no loss
            log.warning("could not commit finished offsets on %s: %r", reason, exc)

    async def commit_before_revocation(sender: Any, *args: Any, signal: Any, **kwargs: Any) -> None:
        await commit_pending("partition revocation")

    async def commit_before_shutdown(sender: Any, *args: Any, signal: Any, **kwargs: Any) -> None:
        await commit_pending("shutdown")
        if services.notifier is not None:
            await services.notifier.aclose()

    async def check_fetch_limit(sender: Any, assigned: set[TP], *args: Any, signal: Any, **kwargs: Any) -> None:
        oversized = oversized_assignment(assigned, consumed_topics(k), partitions)
        if oversized is not None:
            log.warning(
                "assigned %d partitions of %r, but the fetch batch (%d) is sized for %d: a backlog can stall the "
                "other agents until the worker restarts",
                oversized[1],
                oversized[0],
                fetch_batch,
                partitions,
            )

    cast(Any, app.on_partitions_revoked).connect(commit_before_revocation)  # mode types want a positional-only sender
    cast(Any, app.on_partitions_assigned).connect(check_fetch_limit)
    cast(Any, app.on_before_shutdown).connect(commit_before_shutdown)

    async def run_blocking(pool: ThreadPoolExecutor, fn: Callable[..., Any], *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(pool, fn, *args)

    async def deliver(sends: list[Awaitable[Any]], what: str) -> None:
        """Wait until the broker acknowledged every send (acks=all)."""
        try:
            await asyncio.gather(*sends)
        except Exception as exc:
            metrics.publish_errors.inc()
            raise PublishError(f"{what}: {exc!r}") from exc

    async def dead_letter(event: Event, reason: str, detail: str) -> Awaitable[Any]:
        msg = event.message
        metrics.deadlettered.labels(reason).inc()
        log.warning("dead-lettered %s[%d]@%d: %s: %s", msg.topic, msg.partition, msg.offset, reason, detail)
        headers = deadletter_headers(reason, detail, f"{msg.topic}/{msg.partition}/{msg.offset}")
        fut: Awaitable[Any] = await dlq_topic.send(key=msg.key, value=msg.value, headers=headers, force=True)
        return fut

    def note_error(what: str) -> Callable[[BaseException], None]:
        def note(exc: BaseException) -> None:
            state.last_write_error = f"{what}: {exc!r}"

        return note

    async def with_retry(what: str, attempt: Callable[[], Awaitable[Any]]) -> Any:
        """Retry until it works: the batch is neither skipped nor committed meanwhile (see module doc)."""
        return await retry_until_done(what, attempt, log, on_error=note_error(what))

    # ------------------------------------------------------------------------------------------ enrich
    async def start_batch(events: Sequence[Event]) -> InFlight:
        """Decode, dead-letter the invalid, drop duplicates, and hand the rest to the model (not awaited)."""
        metrics.consumed.inc(len(events))
        fresh: list[Mention] = []
        ingested: list[datetime] = []
        dlq_sends: list[Awaitable[Any]] = []
        for event in events:
            msg = event.message
            try:
                mention = decode_mention(msg.value, msg.key)
            except InvalidMessage as bad:
                state.invalid.record(True)
                dlq_sends.append(await dead_letter(event, bad.reason, bad.detail))
                continue
            state.invalid.record(False)
            if dedup.is_duplicate(mention):
                metrics.duplicates.inc()
                continue
            fresh.append(mention)
            ingested.append(datetime.fromtimestamp(msg.timestamp, UTC) if msg.timestamp else utcnow())
        metrics.invalid_ratio.set(state.invalid.share)
        if state.invalid.alarming:
            log.error(
                "%.0f%% of the last raw records were invalid: check the producers (dead letters in %r)",
                100 * state.invalid.share,
                k.deadletter_topic,
            )
        model = asyncio.ensure_future(enrich_safely(fresh, ingested, events, dlq_sends)) if fresh else None
        return InFlight(events, len(fresh), dlq_sends, model)

    async def finish_batch(batch: InFlight) -> None:
        """Wait for the batch's model call, publish its results and dead letters, then mark its offsets done."""
        enriched: list[EnrichedMention] = await batch.model if batch.model is not None else []
        if batch.model is not None:
            metrics.model_batch_size.observe(batch.fresh)
            metrics.enriched.inc(len(enriched))
            state.enriched += len(enriched)
            for e in enriched:
                metrics.stage_latency.labels("created_to_ingested").observe(
                    max((e.ingested_at - e.mention.created_at).total_seconds(), 0)
                )
                metrics.stage_latency.labels("ingested_to_enriched").observe(
                    max((e.enrichment.enriched_at - e.ingested_at).total_seconds(), 0)
                )

        async def publish() -> None:
            sends = list(batch.dlq_sends)
            for e in enriched:
                sends.append(
                    await enriched_topic.send(key=e.mention.id.encode(), value=e.model_dump_json().encode(), force=True)
                )
            await deliver(sends, "publish enriched mentions")

        await with_retry("publish", publish)
        events = batch.events
        committer.done(next_offsets([(e.message.topic, e.message.partition, e.message.offset) for e in events]))
        await committer.maybe_commit()

    def timed_enrich(mentions: list[Mention], ingested: list[datetime]) -> tuple[list[EnrichedMention], float]:
        started = time.perf_counter()
        out = services.enricher.enrich(mentions, ingested)
        return out, time.perf_counter() - started

    async def model_call(mentions: list[Mention], ingested: list[datetime]) -> list[EnrichedMention]:
        """One model call; while the model cannot answer at all (ModelUnavailableError), retried, never blamed on the
        mentions. Any other error is the batch's: raised."""
        result: tuple[list[EnrichedMention], float] = await retry_until_done(
            "model",
            lambda: run_blocking(model_pool, timed_enrich, mentions, ingested),
            log,
            permanent=lambda exc: not isinstance(exc, ModelUnavailableError),
            on_error=note_error("model"),
        )
        # Timed in the model thread: a batch queued behind the one in the model is not charged the wait.
        metrics.model_batch_seconds.observe(result[1])
        return result[0]

    async def enrich_safely(
        mentions: list[Mention],
        ingested: list[datetime],
        events: Sequence[Event],
        dlq_sends: list[Awaitable[Any]],
    ) -> list[EnrichedMention]:
        try:
            return await model_call(mentions, ingested)
        except Exception as exc:
            # One poisonous text must not stop the batch: retry one by one, dead-letter what still fails.
            log.exception("model batch of %d failed (%r); retrying mention by mention", len(mentions), exc)
        by_id = {decode_id(e): e for e in events}
        out: list[EnrichedMention] = []
        for mention, at in zip(mentions, ingested, strict=True):
            try:
                out.extend(await model_call([mention], [at]))
            except Exception as exc:
                dedup.forget([mention.id])
                event = by_id.get(mention.id)
                if event is not None:
                    dlq_sends.append(await dead_letter(event, "model_error", repr(exc)))
        return out

    async def finish_in_order(
        queue: asyncio.Queue[InFlight], in_flight: list[InFlight], ahead: asyncio.Semaphore
    ) -> None:
        while True:
            batch = await queue.get()
            try:
                await finish_batch(batch)
            finally:
                in_flight.remove(batch)
                ahead.release()  # also on an error: the agent must wake up to see it

    @app.agent(raw_topic, name="enrich", concurrency=1)
    async def enrich_agent(stream: faust.StreamT[bytes]) -> None:
        # Up to ENRICH_AHEAD batches between the stream and the commit: while the model works on one, the next is
        # already queued for it and the previous one is being published, so the model does not wait on the broker.
        # Batches finish (publish, commit) in the order they were taken: offsets only ever move forward.
        ahead = asyncio.Semaphore(ENRICH_AHEAD)
        queue: asyncio.Queue[InFlight] = asyncio.Queue()
        in_flight: list[InFlight] = []
        finisher = asyncio.ensure_future(finish_in_order(queue, in_flight, ahead))
        try:
            async for events in cast(Any, stream).take_events(w.enrich_batch, within=w.enrich_within_s):
                await ahead.acquire()
                if finisher.done():
                    finisher.result()  # it failed: raise its error here, in the agent
                batch = await start_batch(events)
                in_flight.append(batch)
                queue.put_nowait(batch)
        finally:
            # Stopping (shutdown, agent restart): what is not finished is not committed, so it is read again.
            finisher.cancel()
            for batch in in_flight:
                if batch.model is not None:
                    batch.model.cancel()

    # -------------------------------------------------------------------------------------------- sink
    async def write_rows(pairs: Sequence[tuple[Event, EnrichedMention]], token: str) -> None:
        try:
            await run_blocking(db_pool, services.writer.write, [row for _, row in pairs], token)
        except Exception:
            metrics.write_errors.inc()
            raise

    async def insert_failed(exc: BaseException, attempt: int) -> None:
        delay = min(0.2 * 2**attempt, 30.0)
        log.error("ClickHouse insert failed (%r); retrying in %.1fs without committing", exc, delay)
        state.last_write_error = f"ClickHouse insert: {exc!r}"
        await asyncio.sleep(delay)

    async def handle_enriched(events: Sequence[Event]) -> None:
        pairs: list[tuple[Event, EnrichedMention]] = []
        dlq_sends: list[Awaitable[Any]] = []
        for event in events:
            try:
                pairs.append((event, EnrichedMention.model_validate_json(event.message.value or b"")))
            except ValidationError as exc:
                dlq_sends.append(await dead_letter(event, "enriched_schema", str(exc)[:500]))
        token = batch_token(events)
        rows = [row for _, row in pairs]
        if rows:
            started = time.perf_counter()
            # Transient failures retry the same batch forever; rows the database refuses for good are isolated.
            refused = await write_isolating(
                pairs, token, write_rows, is_permanent=is_permanent_write_error, on_transient=insert_failed
            )
            for (event, _row), error in refused:
                dlq_sends.append(await dead_letter(event, "write_refused", str(error)[:1000]))
            refused_ids = {id(row) for (_event, row), _exc in refused}
            rows = [row for row in rows if id(row) not in refused_ids]
            state.last_write_at, state.last_write_error = time.time(), None
            metrics.insert_seconds.observe(time.perf_counter() - started)
            metrics.insert_batch_size.observe(len(rows))
            metrics.written.inc(len(rows))
            state.written += len(rows)
            now = utcnow()
            for e in rows:
                metrics.stage_latency.labels("enriched_to_queryable").observe(
                    max((now - e.enrichment.enriched_at).total_seconds(), 0)
                )
                metrics.stage_latency.labels("ingested_to_queryable").observe(
                    max((now - e.ingested_at).total_seconds(), 0)
                )
                metrics.stage_latency.labels("created_to_queryable").observe(
                    max((now - e.mention.created_at).total_seconds(), 0)
                )
        if dlq_sends:
            await with_retry("dead-letter", lambda: deliver(dlq_sends, "dead letters"))
        committer.done(next_offsets([(e.message.topic, e.message.partition, e.message.offset) for e in events]))
        await committer.maybe_commit()

    @app.agent(enriched_topic, name="sink", concurrency=1)
    async def sink_agent(stream: faust.StreamT[bytes]) -> None:
        async for events in cast(Any, stream).take_events(w.insert_batch, within=w.insert_within_s):
            await handle_enriched(events)

    # ------------------------------------------------------------------------------------------ alerts
    add_alert_agent(
        app,
        alerts_topic,
        committer=committer,
        dead_letter=dead_letter,
        blocking=lambda fn, *args: run_blocking(db_pool, fn, *args),
        writer=services.incidents,
        notifier=services.notifier,
    )

    if services.detector is not None:
        add_detector_timer(
            app,
            services.detector,
            alerts_topic=alerts_topic,
            leader_topic=k.enriched_topic,
            interval_s=s.detect.interval_s,
            blocking=lambda fn, *args: run_blocking(db_pool, fn, *args),
        )

    # ------------------------------------------------------------------------------------ housekeeping
    @app.timer(1.0)
    async def commit_and_measure_lag() -> None:
        await committer.maybe_commit()
        consumer = app.consumer
        for tp in consumer.assignment():
            if tp.topic not in (k.raw_topic, k.enriched_topic):
                continue
            high = consumer.highwater(tp)
            done = committer.pending.get((tp.topic, tp.partition))
            if high is not None and done is not None:
                metrics.consumer_lag.labels(tp.topic, str(tp.partition)).set(max(high - done, 0))

    @app.task
    async def log_ready() -> None:
        log.info(
            "worker ready: web on http://%s:%d; stream buffer %d, fetch batch %d (%d partitions per topic)",
            w.web_host,
            app.conf.web_port,
            w.stream_buffer,
            fetch_batch,
            partitions,
        )

    # ------------------------------------------------------------------------------------------- pages
    @app.page("/health")
    class Health(View):
        async def get(self, request: Request) -> Response:
            degraded = state.invalid.alarming or state.last_write_error is not None
            body: dict[str, Any] = {
                "status": "degraded" if degraded else "ok",
                "uptime_s": round(time.time() - state.started_at, 1),
                "last_write_at": state.last_write_at,
                "last_error": state.last_write_error,
                "invalid_share": round(state.invalid.share, 4),
                # Cheap progress for scripts that poll (the benchmark): /metrics costs more to render.
                "enriched": state.enriched,
                "written": state.written,
                "committed": {f"{t}/{p}": o for (t, p), o in committer.committed.items()},
            }
            if services.extra_status is not None:
                body.update(services.extra_status())
            return self.json(body, status=200)

    @app.page("/metrics")
    class Metrics(View):
        async def get(self, request: Request) -> Response:
            # aiohttp takes the charset separately; Prometheus' text format is UTF-8.
            content_type = CONTENT_TYPE_LATEST.split(";")[0] + "; version=0.0.4"
            return self.bytes(generate_latest(metrics.registry), content_type=content_type)

    @app.page("/sql")
    class Sql(View):
        """Read-only SQL: ``GET /sql?q=SELECT…`` or ``POST`` with the query as the body.

        JSON ``{"columns", "types", "rows", "truncated"}``; with ``?format=parquet`` the same result as a Parquet
        file (header ``X-Luister-Truncated: 1`` when the row bound cut it).
        """

        async def get(self, request: Request) -> Response:
            return await self._run(request.query.get("q", ""), request.query.get("format", "json"))

        async def post(self, request: Request) -> Response:
            return await self._run(await request.text(), request.query.get("format", "json"))

        async def _run(self, sql: str, fmt: str) -> Response:
            if services.sql is None:
                return self.json({"error": "this worker has no SQL endpoint"}, status=404)
            if fmt not in ("json", "parquet"):
                return self.json({"error": f"unknown format {fmt!r}: json or parquet"}, status=400)
            if not sql.strip():
                return self.json({"error": "empty query: pass ?q=SELECT… or POST the query"}, status=400)
            from pipeline.storage.export import PARQUET_MEDIA_TYPE, parquet_bytes

            try:
                result = await run_blocking(db_pool, services.sql, sql)
                if fmt == "parquet":
                    body = await run_blocking(
                        db_pool, parquet_bytes, result["columns"], result["types"], result["rows"]
                    )
            except Exception as exc:
                return self.json({"error": str(exc)}, status=400)
            if fmt == "parquet":
                headers = {"X-Luister-Truncated": "1" if result.get("truncated") else "0"}
                return self.bytes(body, content_type=PARQUET_MEDIA_TYPE, headers=headers)
            return self.json(result)

    if services.sql is not None:
        from pipeline.wall.web import add_wall_pages

        add_wall_pages(app, services.sql, blocking=lambda fn, *args: run_blocking(db_pool, fn, *args))

    app.luister_committer = committer  # type: ignore[attr-defined]
    app.luister_state = state  # type: ignore[attr-defined]
    return app


class PublishError(RuntimeError):
    pass


def is_permanent_write_error(exc: BaseException) -> bool:
    """A writer error flagged permanent (``pipeline.storage.errors.WriteError.permanent``): the rows were refused."""
    return bool(getattr(exc, "permanent", False))


def decode_id(event: Event) -> str:
    key = event.message.key
    return key.decode("utf-8", "replace") if key else ""


def batch_token(events: Sequence[Event]) -> str:
    """Insert deduplication token of a batch: the same records read again in the same batch give the same token."""
    spans: dict[tuple[str, int], list[int]] = {}
    for e in events:
        spans.setdefault((e.message.topic, e.message.partition), []).append(e.message.offset)
    return ";".join(f"{t}/{p}/{min(o)}-{max(o)}" for (t, p), o in sorted(spans.items()))
