"""KafkaMentionSink against a real (embedded Tansu) broker: what goes in comes out, keyed by mention id."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime

import pytest
from aiokafka.errors import MessageSizeTooLargeError
from topic_helpers import consume, new_topic

from connectors.demo import DemoStream
from connectors.sink import DeliveryError, KafkaMentionSink
from pipeline.broker import EmbeddedBroker
from pipeline.steps.decode import decode_mention

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize("compression", [None, "gzip"])
async def test_mentions_round_trip_keyed_by_id(embedded_broker: EmbeddedBroker, compression: str | None) -> None:
    topic = await new_topic(embedded_broker, 3)
    mentions = DemoStream(seed=21, start=START, duplicate_share=0.05).take(2000)
    async with KafkaMentionSink(embedded_broker.bootstrap_servers, topic, compression_type=compression) as sink:
        for mention in mentions:
            await sink.send(mention)
    assert (sink.sent, sink.failed, sink.in_flight) == (len(mentions), 0, 0)

    records = await consume(embedded_broker, topic, len(mentions))
    assert len(records) == len(mentions)
    sent_values = sorted(m.model_dump_json().encode() for m in mentions)
    assert sorted(r.value for r in records) == sent_values
    partitions_of: dict[str, set[int]] = defaultdict(set)
    for record in records:
        mention = decode_mention(record.value, record.key)  # what the worker's first step accepts
        assert record.key == mention.id.encode("utf-8")
        partitions_of[mention.id].add(record.partition)
    assert all(len(partitions) == 1 for partitions in partitions_of.values()), "every copy of an id: one partition"
    assert len({r.partition for r in records}) == 3
    position = {m.model_dump_json().encode(): i for i, m in enumerate(mentions)}
    for partition in range(3):
        order = [position[r.value] for r in records if r.partition == partition]
        assert order == sorted(order), "a partition keeps the send order"


async def test_send_raw_passes_any_bytes(embedded_broker: EmbeddedBroker) -> None:
    topic = await new_topic(embedded_broker, partitions=1)
    garbage = [(None, b"not json"), (b"key", b"\xff\xfe"), (b"\x00", b'{"id": 1}')]
    async with KafkaMentionSink(embedded_broker.bootstrap_servers, topic) as sink:
        for key, value in garbage:
            await sink.send_raw(key, value)
    records = await consume(embedded_broker, topic, len(garbage))
    assert [(r.key, r.value) for r in records] == garbage


async def test_in_flight_records_are_bounded(embedded_broker: EmbeddedBroker) -> None:
    topic = await new_topic(embedded_broker, 3)
    mentions = DemoStream(seed=22, start=START).take(300)
    peak = 0
    async with KafkaMentionSink(embedded_broker.bootstrap_servers, topic, max_in_flight=3) as sink:
        for mention in mentions:
            await sink.send(mention)
            peak = max(peak, sink.in_flight)
            assert sink.in_flight <= 3
        await sink.flush()
        assert sink.in_flight == 0 and sink.sent == len(mentions)
    assert peak == 3, "the bound is reached, so sends did wait"


async def test_unstarted_sink_refuses(embedded_broker: EmbeddedBroker) -> None:
    sink = KafkaMentionSink(embedded_broker.bootstrap_servers)
    with pytest.raises(RuntimeError, match="not started"):
        await sink.send_raw(None, b"x")
    with pytest.raises(ValueError, match="max_in_flight"):
        KafkaMentionSink(embedded_broker.bootstrap_servers, max_in_flight=0)


async def test_refused_record_raises_at_once_and_is_counted(embedded_broker: EmbeddedBroker) -> None:
    topic = await new_topic(embedded_broker, partitions=1)
    async with KafkaMentionSink(embedded_broker.bootstrap_servers, topic) as sink:
        with pytest.raises(MessageSizeTooLargeError):
            await sink.send_raw(b"big", b"x" * 2_000_000)
        await sink.send_raw(b"small", b"y")
        await sink.flush()  # the caller already saw the refusal: flush does not raise it again
    assert (sink.sent, sink.failed) == (1, 1)


async def test_undelivered_records_make_flush_raise(tmp_path_factory: pytest.TempPathFactory) -> None:
    # Tansu lingers on SIGTERM while a client is connected; this broker is meant to vanish, so kill it sooner.
    with EmbeddedBroker(log_dir=tmp_path_factory.mktemp("tansu-doomed"), stop_timeout_s=0.5) as broker:
        topic = await new_topic(broker, partitions=1)
        sink = KafkaMentionSink(broker.bootstrap_servers, topic, request_timeout_ms=1500)
        await sink.start()
        try:
            await sink.send_raw(b"a", b"delivered")
            await sink.flush()
            broker.stop()
            await sink.send_raw(b"b", b"lost")
            with pytest.raises(DeliveryError) as raised:
                await sink.flush()
            assert raised.value.failed == 1
            assert (sink.sent, sink.failed, sink.in_flight) == (1, 1, 0)
            await sink.flush()  # reported once
        finally:
            await sink.stop()
