"""Where connectors' cursors live between runs (see docs/architecture.md, "Connector state").

A :class:`StateStore` maps a connector's name to its last saved state (a JSON object). The runner loads it once
at start and saves it after every batch the broker acknowledged. :class:`KafkaStateStore` keeps it on a compacted
topic next to the data; :class:`MemoryStateStore` is for tests and dry runs.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Mapping
from typing import Any, Protocol

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from pipeline.topics import TopicSpec, ensure_topics

STATE_TOPIC = "luister.connector-state"


class StateError(RuntimeError):
    """The state topic could not be read to its end in time."""


class StateStore(Protocol):
    """Cursor storage keyed by connector name. ``load`` of an unknown name returns ``{}`` (a first run)."""

    async def load(self, name: str) -> dict[str, Any]: ...

    async def save(self, name: str, state: Mapping[str, Any]) -> None: ...


class MemoryStateStore:
    """States in a dict (JSON round-tripped, so what is not serialisable fails here as it would on Kafka).
    ``saves`` records every save in order, for tests."""

    def __init__(self, initial: Mapping[str, Mapping[str, Any]] | None = None) -> None:
        self._states: dict[str, str] = {name: json.dumps(dict(s)) for name, s in (initial or {}).items()}
        self.saves: list[tuple[str, dict[str, Any]]] = []

    async def load(self, name: str) -> dict[str, Any]:
        raw = self._states.get(name)
        return {} if raw is None else dict(json.loads(raw))

    async def save(self, name: str, state: Mapping[str, Any]) -> None:
        raw = json.dumps(dict(state))
        self._states[name] = raw
        self.saves.append((name, json.loads(raw)))


def state_topic_spec(topic: str = STATE_TOPIC, replication: int = 1) -> TopicSpec:
    """One partition (every save of a name in order), compacted (the broker keeps the last value per name)."""
    return TopicSpec(topic, 1, replication, {"cleanup.policy": "compact"})


class KafkaStateStore:
    """Cursors on a compacted topic: key = connector name (UTF-8), value = the state as JSON.

    ``load`` reads the whole topic from the beginning to its end and keeps the last value per key, so it is right
    also on brokers that never compact (the embedded Tansu). The end is the high watermark that fetch responses
    report, not ``end_offsets()``, which Tansu answers too low (platform facts). ``save`` returns once the broker
    acknowledged the record (acks=all). Use as ``async with KafkaStateStore(servers) as store``; ``start`` creates
    the topic if needed.
    """

    def __init__(
        self,
        bootstrap_servers: str,
        topic: str = STATE_TOPIC,
        *,
        replication: int = 1,
        load_timeout_s: float = 30.0,
    ) -> None:
        self.bootstrap_servers = bootstrap_servers
        self.topic = topic
        self.replication = replication
        self.load_timeout_s = load_timeout_s
        self._producer: AIOKafkaProducer | None = None

    async def start(self) -> None:
        if self._producer is not None:
            return
        await ensure_topics(self.bootstrap_servers, [state_topic_spec(self.topic, self.replication)])
        producer = AIOKafkaProducer(
            bootstrap_servers=self.bootstrap_servers,
            client_id="luister-connector-state",
            acks="all",
            enable_idempotence=False,
        )
        await producer.start()
        self._producer = producer

    async def stop(self) -> None:
        producer, self._producer = self._producer, None
        if producer is not None:
            await producer.stop()

    async def __aenter__(self) -> KafkaStateStore:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def save(self, name: str, state: Mapping[str, Any]) -> None:
        if self._producer is None:
            raise RuntimeError("KafkaStateStore is not started: use 'async with' or call start()")
        value = json.dumps(dict(state), separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        await self._producer.send_and_wait(self.topic, value=value, key=name.encode("utf-8"))

    async def load(self, name: str) -> dict[str, Any]:
        return (await self.load_all()).get(name, {})

    async def load_all(self) -> dict[str, dict[str, Any]]:
        """Every name's last saved state (a tombstone, i.e. a null value, forgets the name)."""
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap_servers,
            client_id="luister-connector-state",
            enable_auto_commit=False,
            auto_offset_reset="earliest",
        )
        await consumer.start()
        try:
            partitions = consumer.partitions_for_topic(self.topic)
            if partitions is None:
                await consumer.force_metadata_update()
                partitions = consumer.partitions_for_topic(self.topic) or set()
            tps = [TopicPartition(self.topic, p) for p in sorted(partitions)]
            if not tps:
                return {}
            consumer.assign(tps)
            await consumer.seek_to_beginning(*tps)
            states: dict[str, dict[str, Any]] = {}
            deadline = time.monotonic() + self.load_timeout_s
            while True:
                for records in (await consumer.getmany(*tps, timeout_ms=100)).values():
                    for record in records:
                        key = (record.key or b"").decode("utf-8", "replace")
                        if record.value is None:
                            states.pop(key, None)
                        else:
                            states[key] = dict(json.loads(record.value))
                if await _at_end(consumer, tps):
                    return states
                if time.monotonic() > deadline:
                    raise StateError(f"could not read {self.topic!r} to its end in {self.load_timeout_s:g}s")
                await asyncio.sleep(0)
        finally:
            await consumer.stop()


async def _at_end(consumer: AIOKafkaConsumer, tps: list[TopicPartition]) -> bool:
    for tp in tps:
        # highwater() is None until a fetch response for the partition arrived; then it is the true end.
        high = consumer.highwater(tp)
        if high is None or await consumer.position(tp) < high:
            return False
    return True
