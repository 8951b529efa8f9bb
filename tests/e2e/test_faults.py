"""Fault tests of the streaming spine: real Tansu broker, real `luister worker` processes, the real embedded engine.

Each test drives the product through a fault and then checks the end state against what was produced, so each can
fail: a lost or skipped offset leaves an id missing, a non-idempotent write leaves a duplicate, a stuck partition
times out, a crash on a record kills the worker. Worker logs are in each test's tmp dir (``worker-N.log``).
"""

from __future__ import annotations

import json
import random
import resource
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from harness import (
    REPO,
    Record,
    Worker,
    committed_offsets,
    create_topics,
    make_mentions,
    produce,
    produce_mentions,
    read_topic,
    wait_for,
)

from connectors.demo import DemoStream
from pipeline.broker import EmbeddedBroker
from pipeline.deadletter import DLQ_DETAIL, DLQ_ORIGIN, DLQ_REASON
from pipeline.schema import Mention

pytestmark = pytest.mark.slow

RAW = "mentions.raw"
DEADLETTER = "mentions.deadletter"
PARTITIONS = 4


# ------------------------------------------------------------------------------------------------------ helpers
def counts(worker: Worker) -> tuple[int, int]:
    """(rows, distinct ids) of ``mentions_v``: equal when no id is shown twice."""
    rows = worker.sql("SELECT count(), uniqExact(id) FROM mentions_v")
    return int(rows[0][0]), int(rows[0][1])


def stored_ids(worker: Worker) -> set[str]:
    return {str(r[0]) for r in worker.sql("SELECT id FROM mentions_v")}


def demo_mentions(n: int, seed: int) -> list[Mention]:
    """Realistic multilingual mentions, created over the last hour; ids checked unique (the tests rely on it)."""
    stream = DemoStream(seed=seed, start=datetime.now(UTC) - timedelta(hours=1), rate_per_s=4, crisis_after_s=240)
    mentions = stream.take(n)
    assert len({m.id for m in mentions}) == n
    return mentions


def rollup_vs_raw(worker: Worker) -> tuple[dict[tuple[str, str, str], int], dict[tuple[str, str, str], int]]:
    """Per (minute, brand, sentiment): the rollup's mention count, and the same count straight from the raw view.

    The raw side is ``mention_brands_v`` (one row per mention x brand) plus mentions without a brand, which the
    rollup files under brand ''.
    """
    rollup = worker.sql(
        "SELECT toString(minute), brand, toString(sentiment), sum(mentions) FROM sentiment_minute_v"
        " GROUP BY 1, 2, 3 HAVING sum(mentions) > 0"
    )
    raw = worker.sql(
        "SELECT toString(toStartOfMinute(created_at)), brand, toString(sentiment), count() FROM mention_brands_v"
        " GROUP BY 1, 2, 3"
        " UNION ALL "
        "SELECT toString(toStartOfMinute(created_at)), '', toString(sentiment), count() FROM mentions_v"
        " WHERE empty(`brands.brand`) GROUP BY 1, 2, 3"
    )
    return ({(r[0], r[1], r[2]): int(r[3]) for r in rollup}, {(r[0], r[1], r[2]): int(r[3]) for r in raw})


def assert_rollups_equal_counts(worker: Worker) -> None:
    rollup, raw = rollup_vs_raw(worker)
    diff = {k: (rollup.get(k), raw.get(k)) for k in rollup.keys() | raw.keys() if rollup.get(k) != raw.get(k)}
    assert not diff, (
        f"rollup != raw counts for {len(diff)} (minute, brand, sentiment) cells, e.g. {list(diff.items())[:5]}"
    )
    total_rollup = int(worker.sql("SELECT sum(mentions) FROM sentiment_minute_v WHERE brand != ''")[0][0])
    total_brands = int(worker.sql("SELECT count() FROM mention_brands_v")[0][0])
    assert total_rollup == total_brands


def committed_enriched(worker: Worker) -> dict[str, int]:
    return {k: int(v) for k, v in worker.health()["committed"].items() if k.startswith("mentions.enriched/")}


def end_offsets(positions: Sequence[tuple[int, int]]) -> dict[int, int]:
    """partition → next offset after the records we produced (Tansu's ListOffsets 'latest' cannot be trusted)."""
    out: dict[int, int] = {}
    for partition, offset in positions:
        out[partition] = max(out.get(partition, 0), offset + 1)
    return out


def wait_for_progress(measure: Any, target: int, stall_s: float, what: str, timeout: float = 600) -> None:
    """Wait until ``measure() >= target``; fail as soon as it has not grown for ``stall_s`` (a stuck pipeline)."""
    deadline = time.monotonic() + timeout
    last, since = -1, time.monotonic()
    while time.monotonic() < deadline:
        value = measure()
        if value >= target:
            return
        if value != last:
            last, since = value, time.monotonic()
        elif time.monotonic() - since > stall_s:
            raise AssertionError(f"stuck at {value} {what} (of {target}) for {stall_s:.0f}s")
        time.sleep(1)
    raise AssertionError(f"only {last} {what} (of {target}) after {timeout:.0f}s")


def missing_report(worker: Worker, mentions: Sequence[Mention], positions: Sequence[tuple[int, int]]) -> str:
    """Which produced mentions are not stored, with their partition/offset: the evidence for a skipped range."""
    try:
        have = stored_ids(worker)
    except Exception as exc:  # the report must not hide the original failure
        return f"(could not list stored ids: {exc!r})"
    gone = [(p, o, m.id) for m, (p, o) in zip(mentions, positions, strict=True) if m.id not in have]
    by_partition = Counter(p for p, _, _ in gone)
    return f"{len(gone)} missing, per partition {dict(by_partition)}; first: {sorted(gone)[:10]}"


# -------------------------------------------------------------------------------- 1. kill and restart, repeatedly
SEED = 20261123
N_MENTIONS = 10_000
INTERRUPTIONS = ("SIGTERM", "SIGKILL", "SIGTERM", "SIGKILL")


def test_ten_thousand_mentions_survive_repeated_sigterm_and_sigkill(broker: EmbeddedBroker, new_worker: Any) -> None:
    """10,000 demo mentions; the worker is stopped four times mid-stream (SIGTERM and SIGKILL, order shuffled by a
    seed), each once a seeded share of the mentions is stored and that incarnation has written at least one batch,
    plus a seeded sub-second delay so the stop lands at a different point of a batch each time. After each stop the
    test waits until the process is gone (chDB: one process per data dir) and restarts it on the same data dir.

    Proves: every mention is stored exactly once in ``mentions_v`` (no offset skipped across restarts, no row shown
    twice after a re-delivery), the group's raw-topic offsets end fully committed, every SIGTERM ends in a clean exit
    (no hang on shutdown), no valid mention is dead-lettered, and the per-minute rollups equal counts from the raw
    view (also after a SIGKILL between an insert and its rollup refresh).
    """
    rng = random.Random(SEED)
    plan = list(INTERRUPTIONS)
    rng.shuffle(plan)
    # Seeded thresholds, one in each interval of N / (len(plan) + 1), so each stop finds a backlog behind it.
    step = N_MENTIONS / (len(plan) + 1)
    thresholds = [round(step * (i + rng.uniform(0.3, 0.9))) for i in range(len(plan))]
    delays = [rng.uniform(0.0, 0.8) for _ in plan]

    mentions = demo_mentions(N_MENTIONS, SEED)
    create_topics(broker.bootstrap_servers, PARTITIONS)
    positions = produce_mentions(broker.bootstrap_servers, mentions)
    worker: Worker = new_worker()
    history: list[str] = []

    def ready_to_stop(threshold: int) -> bool:
        return worker.metric("luister_mentions_written_total") > 0 and counts(worker)[1] >= threshold

    for how, threshold, delay in zip(plan, thresholds, delays, strict=True):
        wait_for(lambda t=threshold: ready_to_stop(t), 180, f"{threshold} mentions stored", every=0.2)
        time.sleep(delay)
        before = counts(worker)[1]
        started = time.monotonic()
        code = worker.stop() if how == "SIGTERM" else worker.kill()
        history.append(f"{how} at {before} stored (exit {code} after {time.monotonic() - started:.1f}s)")
        assert before < N_MENTIONS, f"the worker finished before the {how}: not a mid-stream stop ({history})"
        if how == "SIGTERM":
            assert code == 0, f"SIGTERM did not end in a clean exit ({history}):\n{worker.log_tail()}"
        else:
            assert code == -signal.SIGKILL
        worker.start()
    try:
        wait_for_progress(lambda: counts(worker)[1], N_MENTIONS, stall_s=60, what="mentions stored")
    except AssertionError as exc:
        raise AssertionError(f"{exc}; {missing_report(worker, mentions, positions)}; history: {history}") from None

    rows, distinct = counts(worker)
    assert (rows, distinct) == (N_MENTIONS, N_MENTIONS), history
    assert stored_ids(worker) == {m.id for m in mentions}
    # Everything was read and committed by the group: a restart now would re-read nothing.
    want = end_offsets(positions)
    wait_for(lambda: committed_offsets(broker.bootstrap_servers, RAW) == want, 30, f"raw offsets {want} committed")
    assert_rollups_equal_counts(worker)
    assert worker.metric("luister_mentions_deadlettered_total") == 0
    stored_rows = int(worker.sql("SELECT count() FROM mentions")[0][0])  # unmerged copies of re-written mentions
    print(f"\n{'; '.join(history)}; {stored_rows - N_MENTIONS} extra stored row versions (not yet merged)")
    assert worker.stop() == 0, worker.log_tail()


# ------------------------------------------------------------------------------------------- 2. garbage on raw
def _bad_records(valid: list[Mention]) -> list[tuple[bytes | None, bytes | None, str]]:
    """(key, value, reason the worker must give) for every kind of broken record we know of."""
    sample = valid[0]
    good_json = sample.model_dump_json()
    as_dict = json.loads(good_json)
    big = b'{"text": "' + b"x" * (10 * 1024 * 1024) + b'"}'
    over_limit = json.dumps({**as_dict, "id": "test:over-limit", "text": "y" * 1_100_000}).encode()
    return [
        (b"bad:not-json", b"this is not json {", "not_json"),
        (b"bad:truncated", good_json.encode()[: len(good_json) // 2], "not_json"),
        (b"bad:array", b"[1, 2, 3]", "not_object"),
        (b"bad:null", b"null", "not_object"),
        (b"bad:schema", json.dumps({"id": "x", "text": 5}).encode(), "schema"),
        (b"bad:naive-time", json.dumps({**as_dict, "created_at": "2026-11-23T10:00:00"}).encode(), "schema"),
        (b"bad:future-schema", json.dumps({**as_dict, "schema_version": 99}).encode(), "schema"),
        # Schema-valid, but the rollups cannot hold them (their minute is a DateTime: 1970 to 2106). Before decode
        # refused them, the first made every rollup refresh of its batch fail, so the sink retried it forever and
        # stored nothing more; the second was stored but silently left out of the rollups.
        (
            b"test:moon-landing",
            json.dumps({**as_dict, "id": "test:moon-landing", "created_at": "1969-07-20T20:17:40Z"}).encode(),
            "schema",
        ),
        (
            b"test:far-future",
            json.dumps({**as_dict, "id": "test:far-future", "created_at": "2200-01-01T00:00:00Z"}).encode(),
            "schema",
        ),
        (b"bad:surrogate", good_json.replace("zonstroom", "zon\\ud800stroom", 1).encode(), "schema"),
        (b"bad:10mb", big, "too_large"),
        (b"test:over-limit", over_limit, "too_large"),
        (b"bad:latin1", good_json.encode().replace(b"zonstroom", "zönstroom".encode("latin-1"), 1), "not_utf8"),
        (b"bad:binary", bytes(range(256)) * 4, "not_utf8"),
        (b"bad:empty", b"", "empty"),
        (b"bad:tombstone", None, "empty"),
        (b"not-the-id", valid[1].model_dump_json().encode(), "key_mismatch"),
    ]


def _expect_dead_letters(
    records: Sequence[tuple[bytes | None, bytes | None, str]], positions: Sequence[tuple[int, int]], got: list[Record]
) -> None:
    """Every bad record is on the dead-letter topic exactly once: same key and bytes, its reason, its origin."""
    expected = Counter(
        (key, value or b"", reason, f"{RAW}/{p}/{o}")
        for (key, value, reason), (p, o) in zip(records, positions, strict=True)
    )
    seen = Counter(
        (r.key, r.value or b"", r.headers.get(DLQ_REASON, b"").decode(), r.headers.get(DLQ_ORIGIN, b"").decode())
        for r in got
    )
    short = {(k, len(v), reason, origin): n for (k, v, reason, origin), n in (seen - expected).items()}
    lost = {(k, len(v), reason, origin): n for (k, v, reason, origin), n in (expected - seen).items()}
    assert not short and not lost, f"unexpected dead letters {short}; missing dead letters {lost}"
    assert all(r.headers.get(DLQ_DETAIL) for r in got), "every dead letter carries a human detail"


def test_garbage_is_dead_lettered_with_its_bytes_and_reason_and_a_flood_is_loud(
    broker: EmbeddedBroker, new_worker: Any
) -> None:
    """Broken records interleaved with valid mentions: not JSON, truncated JSON, JSON that is not an object, wrong
    schema (missing fields, naive time, a future schema_version, a lone surrogate), a 10 MB record (Tansu accepts it;
    the worker's limit is 1 MB) and one just over the limit, invalid UTF-8, an empty value, a tombstone (no value),
    and a valid mention under a key that is not its id.

    Proves: every valid mention lands; every bad record is on ``mentions.deadletter`` exactly once with its original
    key and bytes, its reason and its origin (``topic/partition/offset``); the per-reason counter matches; the worker
    stays alive and ``ok``. Then a flood of mostly garbage: ``/health`` says ``degraded`` and the log says the
    invalid share is high, the valid mentions inside the flood still land, and once valid traffic is back the
    alarm clears.
    """
    create_topics(broker.bootstrap_servers, PARTITIONS)
    worker: Worker = new_worker()
    valid = make_mentions(600, prefix="garbage")
    bad = _bad_records(valid)
    # A valid mention close to (under) the 1 MB limit must land, not be dead-lettered.
    near_limit = valid[2].model_copy(update={"text": "z" * 90_000})
    valid[2] = near_limit
    rng = random.Random(SEED)
    slots = sorted(rng.sample(range(len(valid)), len(bad)))
    mixed: list[tuple[bytes | None, bytes | None, str | None]] = []
    b = 0
    for i, m in enumerate(valid):
        mixed.append((m.id.encode(), m.model_dump_json().encode(), None))
        while b < len(bad) and slots[b] == i:
            mixed.append(bad[b])
            b += 1
    positions = asyncio_produce(broker, [(k, v) for k, v, _ in mixed])
    bad_sent = [r for r in mixed if r[2] is not None]
    bad_positions = [p for r, p in zip(mixed, positions, strict=True) if r[2] is not None]
    assert len(bad_sent) == len(bad)

    wait_for(lambda: worker.metric("luister_mentions_consumed_total") >= len(mixed), 120, "all records consumed")
    expected_valid = {m.id for m in valid}
    wait_for(lambda: counts(worker) == (len(valid), len(valid)), 60, f"{len(valid)} valid mentions stored")
    assert stored_ids(worker) == expected_valid
    assert int(worker.sql(f"SELECT length(text) FROM mentions_v WHERE id = '{near_limit.id}'")[0][0]) == 90_000
    _expect_dead_letters(bad_sent, bad_positions, read_topic(broker.bootstrap_servers, DEADLETTER, len(bad_sent)))
    by_reason = Counter(reason for _, _, reason in bad_sent)
    for reason, n in by_reason.items():
        assert worker.metric("luister_mentions_deadlettered_total", reason=reason) == n, reason
    assert worker.metric("luister_mentions_deadlettered_total") == len(bad_sent)
    health = worker.health()
    assert health["status"] == "ok", health
    assert worker.alive

    # A flood: a broken producer sends mostly garbage, with a few valid mentions in between.
    flood_valid = make_mentions(60, prefix="flood")
    flood: list[tuple[bytes | None, bytes | None, str | None]] = []
    for i in range(1500):
        if i % 25 == 0:
            m = flood_valid[i // 25]
            flood.append((m.id.encode(), m.model_dump_json().encode(), None))
        else:
            flood.append((f"junk:{i}".encode(), f"<html>502 Bad Gateway #{i}</html>".encode(), "not_json"))
    flood_positions = asyncio_produce(broker, [(k, v) for k, v, _ in flood])
    total = len(mixed) + len(flood)
    wait_for(lambda: worker.metric("luister_mentions_consumed_total") >= total, 120, "the flood consumed")
    health = worker.health()
    assert health["status"] == "degraded" and health["invalid_share"] > 0.5, health
    assert "of the last raw records were invalid" in worker.log_text()
    wait_for(lambda: counts(worker)[1] == len(valid) + len(flood_valid), 60, "the valid mentions of the flood")
    flood_bad = [r for r in flood if r[2] is not None]
    flood_bad_positions = [p for r, p in zip(flood, flood_positions, strict=True) if r[2] is not None]
    assert worker.metric("luister_mentions_deadlettered_total", reason="not_json") == by_reason["not_json"] + len(
        flood_bad
    )
    dead = read_topic(broker.bootstrap_servers, DEADLETTER, len(bad_sent) + len(flood_bad))
    _expect_dead_letters(bad_sent + flood_bad, bad_positions + flood_bad_positions, dead)

    # It keeps going, and the alarm clears once valid traffic dominates the window again.
    after = make_mentions(900, prefix="after")
    produce_mentions(broker.bootstrap_servers, after)
    want = len(valid) + len(flood_valid) + len(after)
    wait_for(lambda: counts(worker) == (want, want), 90, "the mentions after the flood")
    wait_for(lambda: worker.health()["status"] == "ok", 10, "health back to ok")
    assert worker.alive
    assert worker.stop() == 0, worker.log_tail()


def asyncio_produce(broker: EmbeddedBroker, records: list[tuple[bytes | None, bytes | None]]) -> list[tuple[int, int]]:
    import asyncio

    return asyncio.run(produce(broker.bootstrap_servers, RAW, records))


# ----------------------------------------------------------------------------------- 3. two workers, one group
def partition_of(key: bytes, partitions: int = PARTITIONS) -> int:
    """The partition the Java/aiokafka default partitioner picks for ``key`` (murmur2)."""
    from aiokafka.partitioner import murmur2

    return (murmur2(key) & 0x7FFFFFFF) % partitions


def ids_in_engine(data_dir: Path, env: dict[str, str]) -> list[str]:
    """Every row's id in the ``mentions_v`` of a stopped worker's engine, read through ``luister sql``."""
    command = [sys.executable, "-c", "from pipeline.cli import main; main()", "sql", "--format", "json"]
    result = subprocess.run(
        [*command, "--data-dir", str(data_dir), "SELECT id FROM mentions_v"],
        env=env,
        cwd=REPO,
        capture_output=True,
        timeout=120,
        check=True,
    )
    return [json.loads(line)["id"] for line in result.stdout.decode().splitlines() if line.strip()]


@pytest.mark.parametrize("how", ["SIGTERM", "SIGKILL"])
def test_two_workers_in_one_group_hand_over_partitions_without_losing_mentions(
    broker: EmbeddedBroker, new_worker: Any, tmp_path: Path, how: str
) -> None:
    """Two workers in one consumer group, each with its OWN data dir (chDB allows one process per data dir, so two
    workers cannot share an embedded engine; with a ClickHouse server they would share one database). The group
    splits the partitions between them, each writes its share to its own engine. Mid-stream one is stopped (SIGTERM:
    it leaves the group; SIGKILL: the group notices when its session times out) and the other takes its partitions
    over (rebalance) from the last committed offsets.

    Proves: every mention is in the union of the two engines, each engine shows every id at most once, the survivor
    stored mentions of every partition (the takeover happened). Mentions in BOTH engines are legitimate: the stopped
    worker had written them but not yet committed their offsets (at-least-once delivery with writes idempotent per
    database); with one shared database they would collapse to one row. How many crossed over is printed.
    """
    create_topics(broker.bootstrap_servers, PARTITIONS)
    first: Worker = new_worker(start=False, LUISTER_DATA_DIR=str(tmp_path / "data-a"))
    second: Worker = new_worker(start=False, LUISTER_DATA_DIR=str(tmp_path / "data-b"))
    first.start(wait=False)
    second.start(wait=False)
    first.wait_healthy(120)
    second.wait_healthy(120)

    mentions = demo_mentions(6200, SEED + 3)
    # The last 200 go out only after the stop: the stopped worker may have finished its partitions' backlog
    # before it stopped, so these are what proves the survivor took its partitions over.
    mentions, after_stop = mentions[:6000], mentions[6000:]
    all_ids = {m.id for m in mentions} | {m.id for m in after_stop}
    # Trickle until both have stored something: then the group has split the partitions between them.
    sent = 0
    while sent < 600 and not (counts(first)[1] and counts(second)[1]):
        produce_mentions(broker.bootstrap_servers, mentions[sent : sent + 100])
        sent += 100
        time.sleep(1)
    wait_for(lambda: counts(first)[1] > 0 and counts(second)[1] > 0, 60, "both workers storing mentions")
    produce_mentions(broker.bootstrap_servers, mentions[sent:])
    wait_for(lambda: counts(first)[1] + counts(second)[1] >= 2500, 120, "2500 mentions stored", every=0.2)
    stopped_at = counts(first)[1]
    code = first.stop() if how == "SIGTERM" else first.kill()
    assert code == (0 if how == "SIGTERM" else -signal.SIGKILL), first.log_tail()
    ids_first = ids_in_engine(tmp_path / "data-a", second.env)
    assert len(ids_first) == len(set(ids_first)), "the stopped worker's engine shows an id twice"
    produce_mentions(broker.bootstrap_servers, after_stop)

    try:
        wait_for(lambda: all_ids <= set(ids_first) | stored_ids(second), 180, "every mention in one of the engines")
    except AssertionError as exc:
        gone = all_ids - set(ids_first) - stored_ids(second)
        per_partition = Counter(partition_of(i.encode()) for i in gone)
        raise AssertionError(f"{exc}: {len(gone)} missing, per partition {dict(per_partition)}") from None
    rows, distinct = counts(second)
    assert rows == distinct, "the surviving worker's engine shows an id twice"
    ids_second = stored_ids(second)
    assert {partition_of(i.encode()) for i in ids_second} == set(range(PARTITIONS)), "no takeover happened"
    assert set(ids_first) | ids_second == all_ids
    crossed = set(ids_first) & ids_second
    print(
        f"\n{how}: stopped worker stored {len(ids_first)} ({stopped_at} when stopped), survivor {len(ids_second)}, "
        f"{len(crossed)} in both (written by the stopped worker, offsets not yet committed)"
    )
    assert_rollups_equal_counts(second)
    assert second.stop() == 0, second.log_tail()


# --------------------------------------------------------------------------------------- 4. write failure
def test_inserts_that_fail_on_disk_are_retried_without_loss_and_recover(
    broker: EmbeddedBroker, new_worker: Any
) -> None:
    """A real insert failure, without mocking the writer: the worker process's file-size limit (RLIMIT_FSIZE, set
    from outside with prlimit(2)) is lowered to 0, so every file write of that process fails with EFBIG ("File too
    large"), as on a full disk; Python ignores SIGXFSZ, so the write just fails. Later the limit is restored.

    Where it fails: clickhouse-connect's chDB backend stages each insert in a temporary file and loads it with
    ``INSERT ... FROM INFILE``; that staging write is what fails first (a 1-row batch stages ~1.5 KB, more than any
    file the engine writes for it, so no limit lets staging pass and the engine's own part write fail). It is the
    real ``MentionWriter.write`` raising on a real I/O error, the same error a full /tmp gives; no ClickHouse error
    code is exercised. The worker's log goes through a pipe, not a file, so it is unaffected.

    Proves: while inserts fail the sink retries the same batch with backoff, stores and commits nothing, and
    ``/health`` says ``degraded`` with the error; the worker keeps serving SQL and keeps consuming; after recovery
    every mention is stored exactly once, every offset is committed, the rollups equal counts, and ``/health`` is
    ``ok`` again.
    """
    create_topics(broker.bootstrap_servers, PARTITIONS)
    worker: Worker = new_worker(log_via_pipe=True)
    before = make_mentions(500, prefix="before")
    produce_mentions(broker.bootstrap_servers, before)
    wait_for(lambda: counts(worker) == (500, 500), 90, "500 mentions stored")
    wait_for(lambda: sum(committed_enriched(worker).values()) == 500, 10, "the 500 enriched records committed")
    enriched_before = committed_enriched(worker)

    soft, hard = resource.prlimit(worker.pid, resource.RLIMIT_FSIZE)
    resource.prlimit(worker.pid, resource.RLIMIT_FSIZE, (0, hard))
    try:
        during = make_mentions(1500, prefix="during")
        produce_mentions(broker.bootstrap_servers, during)
        wait_for(lambda: worker.metric("luister_write_errors_total") >= 3, 60, "failing inserts being retried")
        wait_for(lambda: worker.metric("luister_mentions_consumed_total") >= 2000, 60, "the raw records consumed")
        health = worker.health()
        assert health["status"] == "degraded", health
        assert "File too large" in (health["last_error"] or ""), health
        assert counts(worker) == (500, 500), "nothing may be stored while every file write fails"
        assert committed_enriched(worker) == enriched_before, "offsets of unwritten mentions must stay uncommitted"
        assert worker.alive
    finally:
        resource.prlimit(worker.pid, resource.RLIMIT_FSIZE, (soft, hard))
    wait_for(lambda: counts(worker) == (2000, 2000), 90, "every mention stored after recovery")
    wait_for(lambda: sum(committed_enriched(worker).values()) == 2000, 10, "all 2000 enriched records committed")
    assert sum(committed_offsets(broker.bootstrap_servers, RAW).values()) == 2000
    assert stored_ids(worker) == {m.id for m in before + during}
    wait_for(lambda: worker.health()["status"] == "ok", 10, "health back to ok")
    assert_rollups_equal_counts(worker)
    assert "retrying in" in worker.log_text()
    assert worker.stop() == 0, worker.log_tail()
