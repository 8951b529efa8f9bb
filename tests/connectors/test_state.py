"""Connector state stores: the Kafka one against the real embedded Tansu broker, and the in-memory one."""

from __future__ import annotations

import time
import uuid

import pytest

from connectors.state import KafkaStateStore, MemoryStateStore
from pipeline.broker import EmbeddedBroker


def new_topic() -> str:
    return f"state-{uuid.uuid4().hex[:10]}"


async def test_first_load_of_an_empty_topic_is_empty(embedded_broker: EmbeddedBroker) -> None:
    async with KafkaStateStore(embedded_broker.bootstrap_servers, new_topic()) as store:
        started = time.monotonic()
        assert await store.load("hn-veloxa") == {}
        assert time.monotonic() - started < 5


async def test_round_trip_and_last_value_wins_across_instances(embedded_broker: EmbeddedBroker) -> None:
    topic = new_topic()
    servers = embedded_broker.bootstrap_servers
    async with KafkaStateStore(servers, topic) as first:
        for n in range(30):
            await first.save("hn-veloxa", {"cursor": n, "seen": ["a", "ü"]})
        await first.save("rss-news", {"etag": "W/1"})
    async with KafkaStateStore(servers, topic) as second:
        assert await second.load("hn-veloxa") == {"cursor": 29, "seen": ["a", "ü"]}
        await second.save("hn-veloxa", {"cursor": 30})
    async with KafkaStateStore(servers, topic) as third:
        assert await third.load_all() == {"hn-veloxa": {"cursor": 30}, "rss-news": {"etag": "W/1"}}
        assert await third.load("unknown") == {}


async def test_topic_is_created_compacted_with_one_partition(embedded_broker: EmbeddedBroker) -> None:
    from aiokafka.admin import AIOKafkaAdminClient
    from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

    topic = new_topic()
    async with KafkaStateStore(embedded_broker.bootstrap_servers, topic):
        pass
    admin = AIOKafkaAdminClient(bootstrap_servers=embedded_broker.bootstrap_servers)
    await admin.start()
    try:
        described = await admin.describe_topics([topic])
        configs = await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic)])
    finally:
        await admin.close()
    assert len(described[0]["partitions"]) == 1
    entries = {name: value for name, value, *_ in configs[0].resources[0][4]}
    assert entries.get("cleanup.policy") == "compact"


async def test_memory_store_copies_and_records_saves() -> None:
    store = MemoryStateStore({"a": {"n": 1}})
    state = await store.load("a")
    state["n"] = 99  # the caller's copy, not the stored one
    assert await store.load("a") == {"n": 1}
    await store.save("a", {"n": 2})
    assert (await store.load("a"), store.saves) == ({"n": 2}, [("a", {"n": 2})])
    with pytest.raises(TypeError):
        await store.save("a", {"n": object()})
