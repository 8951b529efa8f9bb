"""luister's Kafka topics and their idempotent creation.

Create topics before any producer or consumer touches them: Tansu, like Kafka with ``auto.create.topics.enable``,
creates an unknown topic on the first metadata request that names it (aiokafka's clients ask with
``allow_auto_topic_creation=True``), with the broker's default partition count (4 on Tansu 0.6) and no config.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import for_code

from pipeline.settings import KafkaSettings

log = logging.getLogger(__name__)

DAY_MS = 24 * 3_600_000
DEADLETTER_RETENTION_MS = 30 * DAY_MS
ALERTS_RETENTION_MS = 30 * DAY_MS
_TOPIC_ALREADY_EXISTS = 36
_INVALID_CONFIG = 40


class TopicError(RuntimeError):
    """The broker refused to create a topic, or a topic did not show up in its metadata in time."""


@dataclass(frozen=True)
class TopicSpec:
    """A topic as luister wants it. ``config`` holds Kafka topic configs (``retention.ms`` ...) as strings."""

    name: str
    partitions: int = 1
    replication: int = 1
    config: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # Tansu accepts 0 partitions and then has a topic nobody can write to; refuse it here.
        if not self.name:
            raise ValueError("a topic needs a name")
        if self.partitions < 1 or self.replication < 1:
            raise ValueError(f"topic {self.name!r}: partitions and replication must be >= 1")


def luister_topics(settings: KafkaSettings) -> list[TopicSpec]:
    """The four luister topics: raw and enriched mentions (retention from settings), dead letters (at least 30
    days, so a bad deploy can be replayed) and alerts (30 days). All with the configured partitions/replication."""
    retention_ms = round(settings.retention_hours * 3_600_000)

    def spec(name: str, retention: int) -> TopicSpec:
        return TopicSpec(name, settings.partitions, settings.replication_factor, {"retention.ms": str(retention)})

    return [
        spec(settings.raw_topic, retention_ms),
        spec(settings.enriched_topic, retention_ms),
        spec(settings.deadletter_topic, max(retention_ms, DEADLETTER_RETENTION_MS)),
        spec(settings.alerts_topic, ALERTS_RETENTION_MS),
    ]


async def ensure_topics(
    bootstrap_servers: str, specs: Sequence[TopicSpec], *, timeout_s: float = 30.0
) -> dict[str, int]:
    """Create the topics in ``specs`` that do not exist yet and wait until the broker's metadata lists all of them.

    Idempotent: an existing topic is left exactly as it is (a partition count that differs from its spec is logged
    as a warning, never changed: that would move keys between partitions), and losing a creation race to another
    client is fine. A broker that rejects a topic's config (INVALID_CONFIG) gets the topic without it and a
    warning; Tansu 0.6 accepts and stores configs such as ``retention.ms`` but its memory storage never deletes
    records. Any other refusal raises :class:`TopicError`, as does a timeout.

    Returns each topic's partition count as the broker lists it.
    """
    if not specs:
        return {}
    deadline = time.monotonic() + timeout_s
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, request_timeout_ms=int(timeout_s * 1000))
    await asyncio.wait_for(admin.start(), timeout_s)
    try:
        # list_topics asks for all topics, so unlike describe_topics it never auto-creates a missing one.
        existing = set(await admin.list_topics())
        missing = [spec for spec in specs if spec.name not in existing]
        if missing:
            await _create(admin, missing)
        return await _wait_listed(admin, specs, deadline)
    finally:
        await admin.close()


async def _create(admin: AIOKafkaAdminClient, specs: Sequence[TopicSpec]) -> None:
    by_name = {spec.name: spec for spec in specs}
    response = await admin.create_topics([_new_topic(spec) for spec in specs])
    failures: list[str] = []
    without_config: list[TopicSpec] = []
    for name, code, message in _topic_errors(response):
        if code in (0, _TOPIC_ALREADY_EXISTS):
            continue
        spec = by_name[name]
        if code == _INVALID_CONFIG and spec.config:
            log.warning(
                "broker rejected config %s of topic %r (%s); creating it without", dict(spec.config), name, message
            )
            without_config.append(TopicSpec(spec.name, spec.partitions, spec.replication))
        else:
            failures.append(f"{name}: {for_code(code).__name__} {message or ''}".rstrip())
    if without_config:
        await _create(admin, without_config)
    if failures:
        raise TopicError("could not create topics: " + "; ".join(failures))


def _new_topic(spec: TopicSpec) -> NewTopic:
    return NewTopic(spec.name, spec.partitions, spec.replication, topic_configs=dict(spec.config))


def _topic_errors(response: Any) -> list[tuple[str, int, str | None]]:
    # CreateTopics v0 answers (topic, code); v1 and later add a message.
    return [(entry[0], entry[1], entry[2] if len(entry) > 2 else None) for entry in response.topic_errors]


async def _wait_listed(admin: AIOKafkaAdminClient, specs: Sequence[TopicSpec], deadline: float) -> dict[str, int]:
    wanted = {spec.name: spec for spec in specs}
    while True:
        listed = set(await admin.list_topics())
        if listed >= wanted.keys():
            described: list[dict[str, Any]] = await admin.describe_topics(list(wanted))
            if all(_ready(topic) for topic in described):
                for topic in described:
                    spec = wanted[topic["topic"]]
                    if len(topic["partitions"]) != spec.partitions:
                        log.warning(
                            "topic %r exists with %d partitions, not %d; left as it is",
                            spec.name,
                            len(topic["partitions"]),
                            spec.partitions,
                        )
                return {topic["topic"]: len(topic["partitions"]) for topic in described}
        if time.monotonic() > deadline:
            raise TopicError(
                f"topics not in broker metadata in time: {sorted(wanted.keys() - listed) or sorted(wanted)}"
            )
        await asyncio.sleep(0.1)


def _ready(topic: Mapping[str, Any]) -> bool:
    partitions: list[Mapping[str, Any]] = topic["partitions"]
    return topic["error_code"] == 0 and bool(partitions) and all(p["error_code"] == 0 for p in partitions)
