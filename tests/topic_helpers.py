"""Fresh topics on a test broker and reading them back: shared by the connector tests."""

from __future__ import annotations

import time
import uuid

from aiokafka import AIOKafkaConsumer, ConsumerRecord

from pipeline.broker import EmbeddedBroker
from pipeline.topics import TopicSpec, ensure_topics


async def new_topic(broker: EmbeddedBroker, partitions: int = 2, prefix: str = "test") -> str:
    """A topic with a unique name, created (and visible in metadata) before it returns."""
    topic = f"{prefix}-{uuid.uuid4().hex[:10]}"
    await ensure_topics(broker.bootstrap_servers, [TopicSpec(topic, partitions)])
    return topic


async def consume(broker: EmbeddedBroker, topic: str, count: int, timeout_s: float = 20.0) -> list[ConsumerRecord]:
    """Every record of ``topic``: at least ``count`` (or what came in ``timeout_s``), plus what follows in 0.5 s."""
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=broker.bootstrap_servers, auto_offset_reset="earliest")
    await consumer.start()
    records: list[ConsumerRecord] = []
    try:
        deadline = time.monotonic() + timeout_s
        while len(records) < count and time.monotonic() < deadline:
            for batch in (await consumer.getmany(timeout_ms=200)).values():
                records.extend(batch)
        for batch in (await consumer.getmany(timeout_ms=500)).values():
            records.extend(batch)
    finally:
        await consumer.stop()
    return records
