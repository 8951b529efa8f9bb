"""How many records one fetch may hand the Faust consumer: few enough that delivering them never waits.

The worker's agents share one consumer, whose drain loop delivers a fetched batch record by record into each topic's
stream buffer. A record that finds its buffer full makes the loop wait until the agent takes from it, and the
other topics are not served meanwhile: with unbounded batches a raw backlog in front of the slow model stalled the
sink for minutes (docs/architecture.md, "Why the fetch batch is bounded"). The limit below keeps every buffer from
ever being full when a record arrives.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Collection, Iterable

from mode.utils.queues import FlowControlQueue


def pause_mark(buffer_size: int) -> int:
    """Buffer fill at which Faust stops fetching a partition (mode's ``FlowControlQueue.pressure_high_size``)."""
    return math.floor(buffer_size / FlowControlQueue.pressure_high_ratio)


def max_poll_records(buffer_size: int, partitions: int) -> int:
    """The largest fetch batch that never meets a full buffer of ``buffer_size`` events in front of an agent that
    reads up to ``partitions`` partitions of its topic.

    Invariant: ``pause_mark + partitions * batch <= buffer_size``. Faust pauses a partition only when one of its own
    records is put while the buffer is at or above the mark, and resumes it only once the buffer has drained to 40%.
    So from the moment the buffer reaches the mark, each of the topic's partitions can be in at most one more batch
    before it is paused: at most ``partitions`` batches of at most ``batch`` records each, on top of the mark.

    Raises ``ValueError`` when the buffer is too small to give each partition even one record of headroom.
    """
    if partitions < 1:
        raise ValueError(f"partitions must be >= 1, not {partitions}")
    limit = (buffer_size - pause_mark(buffer_size)) // partitions
    if limit < 1:
        raise ValueError(
            f"a stream buffer of {buffer_size} events is too small for {partitions} partitions per topic "
            f"({5 * partitions} is enough)"
        )
    return limit


def oversized_assignment(
    assigned: Iterable[tuple[str, int]], topics: Collection[str], partitions: int
) -> tuple[str, int] | None:
    """The topic of ``topics`` with the most assigned partitions and their count, when that count is more than the
    ``partitions`` the fetch batch was sized for (partitions added while the worker runs); else ``None``."""
    per_topic = Counter(topic for topic, _ in assigned if topic in topics)
    if not per_topic:
        return None
    topic, most = per_topic.most_common(1)[0]
    return (topic, most) if most > partitions else None
