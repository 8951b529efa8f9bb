"""The connector runner against the real embedded Tansu broker, with a fake connector serving numbered mentions."""

from __future__ import annotations

import asyncio
import random
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from topic_helpers import consume, new_topic

from connectors.base import Batch, Connector, Rejected, State
from connectors.http import FetchError
from connectors.metrics import ConnectorMetrics
from connectors.runner import run_connector
from connectors.sink import DeliveryError, KafkaMentionSink
from connectors.state import KafkaStateStore, MemoryStateStore
from pipeline.broker import EmbeddedBroker
from pipeline.deadletter import DLQ_DETAIL, DLQ_ORIGIN, DLQ_REASON
from pipeline.schema import Author, Mention, mention_id

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def numbered(n: int) -> Mention:
    return Mention(
        id=mention_id("fake", str(n)),
        source="fake:test",
        platform="fake",
        author=Author(handle=f"user{n % 7}"),
        text=f"post number {n}",
        created_at=T0 + timedelta(seconds=n),
        fetched_at=T0 + timedelta(seconds=n + 1),
    )


def number_of(mention_id_: str) -> int:
    return int(mention_id_.rsplit(":", 1)[1])


class Numbers(Connector):
    """Serves mentions 0..total-1 in batches of ``size``; state = {"next": first number not yet served}.

    ``fail_at``: batch starts (numbers) that raise the given exception the first time they are reached.
    ``reject_every``: every n-th number is a reject (``bad_type``) instead of a mention.
    """

    source = "numbers"

    def __init__(
        self,
        name: str = "numbers",
        *,
        total: int = 100,
        size: int = 10,
        pause_s: float = 0.0,
        fail_at: Mapping[int, Exception] | None = None,
        reject_every: int = 0,
    ) -> None:
        super().__init__(name)
        self.total, self.size, self.pause_s = total, size, pause_s
        self.fail_at = dict(fail_at or {})
        self.reject_every = reject_every
        self.starts: list[dict[str, Any]] = []
        self.closed = 0

    async def batches(self, state: State) -> AsyncIterator[Batch]:
        self.starts.append(dict(state))
        n = int(state.get("next", 0))
        while n < self.total:
            if n in self.fail_at:
                raise self.fail_at.pop(n)
            await asyncio.sleep(self.pause_s)
            end = min(n + self.size, self.total)
            batch = Batch(state={"next": end}, fetched=end - n)
            for i in range(n, end):
                if self.reject_every and i % self.reject_every == 0:
                    batch.rejected.append(Rejected.of("bad_type", f"item {i}: text is a number", {"id": i, "text": 5}))
                else:
                    batch.mentions.append(numbered(i))
            yield batch
            n = end

    async def aclose(self) -> None:
        self.closed += 1


class Outlets:
    """A raw and a dead-letter KafkaMentionSink on fresh topics."""

    def __init__(self, broker: EmbeddedBroker, raw: str, dlq: str) -> None:
        self.raw_topic, self.dlq_topic = raw, dlq
        self.sink = KafkaMentionSink(broker.bootstrap_servers, raw)
        self.deadletters = KafkaMentionSink(broker.bootstrap_servers, dlq)

    async def __aenter__(self) -> Outlets:
        await self.sink.start()
        await self.deadletters.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.sink.stop()
        await self.deadletters.stop()


@pytest.fixture
async def outlets(embedded_broker: EmbeddedBroker) -> AsyncIterator[Outlets]:
    raw, dlq = await new_topic(embedded_broker), await new_topic(embedded_broker, 1)
    async with Outlets(embedded_broker, raw, dlq) as o:
        yield o


class CheckingStore(MemoryStateStore):
    """Fails the test if a cursor is saved while any record handed to the sinks is unacknowledged."""

    def __init__(self, sinks: Sequence[KafkaMentionSink]) -> None:
        super().__init__()
        self.sinks = sinks
        self.acked_at_save: list[int] = []

    async def save(self, name: str, state: Mapping[str, Any]) -> None:
        assert all(s.in_flight == 0 for s in self.sinks), "cursor saved before the flush"
        self.acked_at_save.append(self.sinks[0].sent)
        await super().save(name, state)


async def test_publishes_everything_and_saves_each_cursor_after_the_flush(
    embedded_broker: EmbeddedBroker, outlets: Outlets
) -> None:
    connector = Numbers(total=95, size=10)
    store = CheckingStore([outlets.sink, outlets.deadletters])
    metrics = ConnectorMetrics()
    await run_connector(connector, sink=outlets.sink, deadletters=outlets.deadletters, store=store, metrics=metrics)
    assert [s["next"] for _, s in store.saves] == [*range(10, 95, 10), 95]
    # at every save, the broker had acknowledged every mention of that batch and the ones before
    assert store.acked_at_save == [s["next"] for _, s in store.saves]
    assert connector.closed == 1
    records = await consume(embedded_broker, outlets.raw_topic, 95)
    assert sorted(number_of(r.key.decode()) for r in records) == list(range(95))
    totals = metrics.totals("numbers")
    assert (totals["fetched"], totals["published"], totals["errors"]) == (95, 95, 0)


async def test_on_durable_runs_after_the_save_and_a_failed_flush_saves_nothing(outlets: Outlets) -> None:
    order: list[str] = []

    class FlakyFlush:
        def __init__(self) -> None:
            self.failures = 1

        async def send(self, mention: Mention) -> None:
            await outlets.sink.send(mention)

        async def flush(self) -> None:
            await outlets.sink.flush()
            if self.failures:
                self.failures -= 1
                order.append("flush failed")
                raise DeliveryError(1, RuntimeError("broker said no"))

    class Recording(MemoryStateStore):
        async def save(self, name: str, state: Mapping[str, Any]) -> None:
            order.append(f"save {state['next']}")
            await super().save(name, state)

    class Durable(Numbers):
        async def batches(self, state: State) -> AsyncIterator[Batch]:
            async for batch in super().batches(state):
                number = batch.state["next"] if batch.state else -1
                batch.on_durable = lambda number=number: order.append(f"durable {number}")
                yield batch

    connector = Durable(total=30, size=10)
    metrics = ConnectorMetrics()
    await run_connector(
        connector,
        sink=FlakyFlush(),
        deadletters=outlets.deadletters,
        store=Recording(),
        metrics=metrics,
        backoff_base_s=0.01,
    )
    assert order == ["flush failed", "save 10", "durable 10", "save 20", "durable 20", "save 30", "durable 30"]
    assert connector.starts == [{}, {}], "after the failed flush it starts again from the last saved cursor"
    assert (
        metrics.registry.get_sample_value(
            "luister_connector_errors_total", {"connector": "numbers", "kind": "delivery"}
        )
        == 1
    )


async def test_connector_errors_do_not_stop_the_runner(embedded_broker: EmbeddedBroker, outlets: Outlets) -> None:
    connector = Numbers(
        total=60,
        size=10,
        fail_at={20: FetchError("https://example.invalid/x", "network", "ConnectError"), 40: KeyError("items")},
    )
    store = MemoryStateStore()
    metrics = ConnectorMetrics()
    await asyncio.wait_for(
        run_connector(
            connector,
            sink=outlets.sink,
            deadletters=outlets.deadletters,
            store=store,
            metrics=metrics,
            backoff_base_s=0.01,
        ),
        timeout=20,
    )
    assert connector.starts == [{}, {"next": 20}, {"next": 40}]
    assert connector.closed == 1
    records = await consume(embedded_broker, outlets.raw_topic, 60)
    assert sorted(number_of(r.key.decode()) for r in records) == list(range(60))
    get = metrics.registry.get_sample_value
    assert get("luister_connector_errors_total", {"connector": "numbers", "kind": "network"}) == 1
    assert get("luister_connector_errors_total", {"connector": "numbers", "kind": "connector"}) == 1


async def test_rejects_land_on_the_deadletter_topic(embedded_broker: EmbeddedBroker, outlets: Outlets) -> None:
    connector = Numbers("forum-x", total=20, size=10, reject_every=5)
    metrics = ConnectorMetrics()
    await run_connector(
        connector, sink=outlets.sink, deadletters=outlets.deadletters, store=MemoryStateStore(), metrics=metrics
    )
    dead = await consume(embedded_broker, outlets.dlq_topic, 4)
    expected = {Rejected.of("bad_type", "", {"id": i, "text": 5}).payload for i in (0, 5, 10, 15)}
    assert {r.value for r in dead} == expected and len(dead) == 4
    for record in dead:
        headers = dict(record.headers)
        assert headers[DLQ_REASON] == b"bad_type"
        assert headers[DLQ_ORIGIN] == b"connector/forum-x"
        assert b"text is a number" in headers[DLQ_DETAIL]
    raw = await consume(embedded_broker, outlets.raw_topic, 16)
    assert len(raw) == 16
    get = metrics.registry.get_sample_value
    assert get("luister_connector_rejected_total", {"connector": "forum-x", "reason": "bad_type"}) == 4
    assert get("luister_connector_published_total", {"connector": "forum-x"}) == 16


async def test_select_keeps_what_it_returns_and_counts_the_rest(
    embedded_broker: EmbeddedBroker, outlets: Outlets
) -> None:
    def even_only(mention: Mention) -> Mention | None:
        n = number_of(mention.id)
        if n == 13:
            raise ValueError("query engine bug")
        return mention.model_copy(update={"text": mention.text.upper()}) if n % 2 == 0 else None

    metrics = ConnectorMetrics()
    await run_connector(
        Numbers(total=20, size=10),
        sink=outlets.sink,
        deadletters=outlets.deadletters,
        store=MemoryStateStore(),
        select=even_only,
        metrics=metrics,
    )
    raw = await consume(embedded_broker, outlets.raw_topic, 10)
    assert sorted(number_of(r.key.decode()) for r in raw) == list(range(0, 20, 2))
    assert all(b"POST NUMBER" in r.value for r in raw), "the selected copy is sent, not the original"
    dead = await consume(embedded_broker, outlets.dlq_topic, 1)
    assert [dict(r.headers)[DLQ_REASON] for r in dead] == [b"filter_error"]
    assert Mention.model_validate_json(dead[0].value).id == mention_id("fake", "13")
    assert metrics.totals("numbers")["unmatched"] == 9


async def test_cancelled_mid_stream_then_restarted_resumes_without_gap(
    embedded_broker: EmbeddedBroker, outlets: Outlets
) -> None:
    servers = embedded_broker.bootstrap_servers
    state_topic = f"state-{uuid.uuid4().hex[:10]}"
    total, size = 400, 10

    async def run_once(cancel_after_sent: int | None) -> Numbers:
        connector = Numbers(total=total, size=size, pause_s=0.01)
        async with KafkaStateStore(servers, state_topic) as store:
            task = asyncio.create_task(
                run_connector(
                    connector,
                    sink=outlets.sink,
                    deadletters=outlets.deadletters,
                    store=store,
                    metrics=ConnectorMetrics(),
                )
            )
            if cancel_after_sent is None:
                await asyncio.wait_for(task, 30)
            else:
                while outlets.sink.sent < cancel_after_sent:
                    await asyncio.sleep(0.005)
                await asyncio.sleep(0.005 * random.random())  # anywhere in the next batch
                task.cancel()
                with pytest.raises(asyncio.CancelledError):
                    await task
        assert connector.closed == 1
        return connector

    first = await run_once(cancel_after_sent=total // 3)
    assert outlets.sink.in_flight == 0, "what was handed over is flushed on cancellation"
    second = await run_once(cancel_after_sent=None)
    resumed_at = second.starts[0]["next"]
    assert 0 < resumed_at < total, "the first run was cancelled mid-stream, after saving some cursors"
    assert first.starts == [{}]
    records = await consume(embedded_broker, outlets.raw_topic, total)
    seen = Counter(number_of(r.key.decode()) for r in records)
    assert set(seen) == set(range(total)), "no gap"
    resent = sorted(n for n, c in seen.items() if c > 1)
    assert all(c <= 2 for c in seen.values())
    assert len(resent) <= size, f"at most one batch re-sent, got {resent}"
    assert all(resumed_at <= n < resumed_at + size for n in resent), "only the batch after the saved cursor"


async def test_waits_and_lag_metrics() -> None:
    now = [T0.timestamp() + 100]
    metrics = ConnectorMetrics(clock=lambda: now[0])

    class Waiting(Numbers):
        async def batches(self, state: State) -> AsyncIterator[Batch]:
            self.report_wait("rate_limit", 2.5)
            self.report_wait("backoff", 0.5)
            async for batch in super().batches(state):
                batch.newest = T0 + timedelta(seconds=50)  # the platform showed a newer, unmatched item
                yield batch

    class Discard:
        async def send(self, mention: Mention) -> None:
            return None

        async def send_raw(self, key: bytes | None, value: bytes, *, headers: Any = None) -> None:
            return None

        async def flush(self) -> None:
            return None

    await run_connector(
        Waiting("w", total=20, size=10),
        sink=Discard(),
        deadletters=Discard(),
        store=MemoryStateStore(),
        metrics=metrics,
    )
    get = metrics.registry.get_sample_value
    assert get("luister_connector_waits_total", {"connector": "w", "kind": "rate_limit"}) == 1
    assert get("luister_connector_wait_seconds_total", {"connector": "w", "kind": "rate_limit"}) == 2.5
    assert get("luister_connector_wait_seconds_total", {"connector": "w", "kind": "backoff"}) == 0.5
    assert get("luister_connector_lag_seconds", {"connector": "w"}) == 50
    now[0] += 30
    assert get("luister_connector_lag_seconds", {"connector": "w"}) == 80, "lag grows while nothing new arrives"
