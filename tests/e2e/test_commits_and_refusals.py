"""Two edges of the sink, with a real Tansu broker, real worker processes and the embedded engine:

- finished offsets are committed when the worker stops, not only by the periodic commit (so a restart redoes
  nothing that was already durable);
- a batch the database refuses for what it holds (more partitions than one insert may touch) is split until every
  part is accepted: nothing is lost, nothing is dead-lettered, the worker does not stall on it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from harness import Worker, committed_offsets, create_topics, make_mentions, produce_mentions, wait_for

from pipeline.broker import EmbeddedBroker

pytestmark = pytest.mark.slow

RAW = "mentions.raw"


def counts(worker: Worker) -> tuple[int, int]:
    rows = worker.sql("SELECT count(), uniqExact(id) FROM mentions_v")
    return int(rows[0][0]), int(rows[0][1])


def end_offsets(positions: list[tuple[int, int]]) -> dict[int, int]:
    out: dict[int, int] = {}
    for partition, offset in positions:
        out[partition] = max(out.get(partition, 0), offset + 1)
    return out


def test_stopping_commits_every_finished_offset(broker: EmbeddedBroker, new_worker: Any) -> None:
    """With the periodic commit at 10 minutes, only the first batch would be committed by it; a clean stop must
    commit the rest."""
    create_topics(broker.bootstrap_servers)
    worker: Worker = new_worker(LUISTER_WORKER__COMMIT_INTERVAL_S="600")
    first = make_mentions(10, prefix="first")
    produce_mentions(broker.bootstrap_servers, first)
    wait_for(lambda: counts(worker) == (10, 10), 90, "the first batch stored")
    positions = produce_mentions(broker.bootstrap_servers, make_mentions(400, prefix="rest"))
    wait_for(lambda: counts(worker) == (410, 410), 90, "every mention stored")
    assert worker.stop() == 0, worker.log_tail()
    want = end_offsets(positions)
    got = committed_offsets(broker.bootstrap_servers, RAW)
    assert got == want, f"committed {got}, want {want}"


def test_a_batch_spanning_too_many_partitions_is_written_in_parts(broker: EmbeddedBroker, new_worker: Any) -> None:
    """150 mentions, each in its own month (the table is partitioned by month; one insert may touch 100), reach
    the sink as one batch: ClickHouse refuses the block, the sink splits it, and every mention is stored."""
    create_topics(broker.bootstrap_servers)
    start = datetime(2012, 1, 15, tzinfo=UTC)
    mentions = [
        m.model_copy(
            update={"created_at": start + timedelta(days=31 * i), "fetched_at": start + timedelta(days=31 * i)}
        )
        for i, m in enumerate(make_mentions(150, prefix="month"))
    ]
    worker: Worker = new_worker(LUISTER_WORKER__INSERT_WITHIN_S="3", LUISTER_WORKER__ENRICH_BATCH="256")
    produce_mentions(broker.bootstrap_servers, mentions)
    wait_for(lambda: counts(worker) == (150, 150), 120, "all 150 mentions stored")
    months = worker.sql("SELECT uniqExact(toYYYYMM(created_at)) FROM mentions_v")[0][0]
    assert int(months) == 150
    assert worker.metric("luister_write_errors_total") >= 1, "the whole batch must have been refused first"
    assert worker.metric("luister_mentions_deadlettered_total", reason="write_refused") == 0
    assert worker.stop() == 0, worker.log_tail()
