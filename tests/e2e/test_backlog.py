"""A raw backlog far larger than the stream buffer, drained by a worker whose enrichment is slower than fetching.

Both agents share one Faust consumer. When the drain loop delivered a fetched batch into a full stream buffer it
waited there for the slow enricher, and the enriched partitions were not served for as long as that batch took:
``written`` stayed flat while ``enriched`` rose (docs/architecture.md, "Why the fetch batch is bounded").
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import pytest
from harness import Worker, create_topics, make_mentions, produce_mentions, wait_for

from pipeline.broker import EmbeddedBroker

pytestmark = pytest.mark.slow

BACKLOG = 16_000
"""Raw mentions waiting before the worker starts: about four times the default stream buffer (4096)."""
ENRICH_BATCH = "8"
"""Mentions per model call: so small that the per-call cost (model thread, publish, broker acknowledgement)
dominates and the tiny test model enriches far slower than the consumer fetches, as the real model does in a crisis."""
BUFFER = 4096
"""The worker's stream buffer (``LUISTER_WORKER__STREAM_BUFFER``, Faust's default size)."""


@dataclass(frozen=True)
class Sample:
    at: float
    enriched: int
    written: int


def worst_flat_spell(samples: list[Sample]) -> tuple[int, float]:
    """Of the spans in which ``written`` did not move, the one in which the most mentions were enriched:
    (mentions enriched, seconds)."""
    worst = (0, 0.0)
    start = samples[0]
    for s in samples[1:]:
        if s.written != start.written:
            start = s
            continue
        worst = max(worst, (s.enriched - start.enriched, s.at - start.at))
    return worst


def sample_until_written(worker: Worker, target: int, timeout: float) -> list[Sample]:
    samples: list[Sample] = []
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        health = worker.health()
        samples.append(Sample(time.monotonic() - started, int(health["enriched"]), int(health["written"])))
        if samples[-1].written >= target:
            break
        time.sleep(0.5)
    return samples


def stored(worker: Worker) -> tuple[int, int]:
    rows = worker.sql("SELECT count(), uniqExact(id) FROM mentions_v")
    return int(rows[0][0]), int(rows[0][1])


def test_the_sink_keeps_writing_while_a_raw_backlog_drains(broker: EmbeddedBroker, new_worker: Any) -> None:
    """16,000 raw mentions are waiting when the worker starts; it enriches eight mentions per model call.

    Proves: while the backlog drains, ``written`` (from ``/health``, sampled twice a second) keeps up with
    ``enriched``: the enriched-but-unwritten mentions never exceed one stream buffer, nor do the mentions enriched
    while ``written`` stays flat. A healthy sink inserts every 0.5 s here, so it trails by about a second of
    enrichment (hundreds); a starved one by a fetched batch of the backlog (thousands). In the end every mention is
    stored exactly once.
    """
    create_topics(broker.bootstrap_servers)
    mentions = make_mentions(BACKLOG, prefix="backlog")
    produce_mentions(broker.bootstrap_servers, mentions)
    worker: Worker = new_worker(LUISTER_WORKER__ENRICH_BATCH=ENRICH_BATCH, LUISTER_WORKER__STREAM_BUFFER=str(BUFFER))

    samples = sample_until_written(worker, BACKLOG, timeout=600)
    stalled_enriched, stall_s = worst_flat_spell(samples)
    max_lag = max(s.enriched - s.written for s in samples)
    last = samples[-1]
    print(
        f"\n{len(samples)} samples over {last.at:.0f}s: enriched {last.enriched}, written {last.written}; "
        f"written flat for {stall_s:.1f}s while {stalled_enriched} were enriched; "
        f"max enriched-written lag {max_lag}"
    )
    assert last.written >= BACKLOG, f"only {last.written} of {BACKLOG} written after {last.at:.0f}s"
    assert max_lag <= BUFFER, f"{max_lag} mentions enriched but not yet written at one time"
    assert stalled_enriched <= BUFFER, (
        f"written stayed at one value for {stall_s:.1f}s while {stalled_enriched} mentions were enriched"
    )
    wait_for(lambda: stored(worker) == (BACKLOG, BACKLOG), 30, f"{BACKLOG} mentions in mentions_v, once each")
    assert worker.stop() == 0, worker.log_tail()
