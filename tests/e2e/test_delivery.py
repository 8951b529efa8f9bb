"""End to end through the real broker, a real `luister worker` process and the embedded engine."""

from __future__ import annotations

from typing import Any

from harness import make_mentions, produce_mentions, wait_for

from pipeline.broker import EmbeddedBroker


def counts(worker: Any) -> tuple[int, int]:
    rows = worker.sql("SELECT count(), uniqExact(id) FROM mentions_v")
    return int(rows[0][0]), int(rows[0][1])


def test_every_mention_lands_once_with_rollups_equal_to_counts(broker: EmbeddedBroker, new_worker: Any) -> None:
    worker = new_worker()
    mentions = make_mentions(2000)
    produce_mentions(broker.bootstrap_servers, mentions)
    produce_mentions(broker.bootstrap_servers, mentions[:300])  # a connector re-fetching: exact duplicates
    wait_for(lambda: worker.metric("luister_mentions_consumed_total") >= 2300, 120, "2300 records consumed")
    wait_for(lambda: counts(worker) == (2000, 2000), 60, "2000 mentions in mentions_v")
    rollup = worker.sql("SELECT sum(mentions) FROM sentiment_minute_v WHERE brand = 'zonstroom'")
    assert int(rollup[0][0]) == 2000
    assert worker.metric("luister_mentions_written_total") <= 2000 + 300
    # at-least-once: a rebalance under load may re-deliver, so "at least" the 300 re-fetches
    assert worker.metric("luister_mentions_duplicate_total") >= 300
