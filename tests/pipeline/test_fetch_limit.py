"""The fetch limit against the real stream buffer (mode's ``FlowControlQueue``) and a model of Faust's consumer:
per-partition pause at the pressure mark, resume when the buffer drains, batches delivered record by record."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence

import pytest
from mode.utils.queues import FlowControlEvent, FlowControlQueue

from pipeline.fetch_limit import max_poll_records, oversized_assignment, pause_mark


class Consumer:
    """What Faust's conductor and consumer do with one topic's stream buffer (faust/transport/conductor.py)."""

    def __init__(self, buffer_size: int, partitions: int) -> None:
        self.queue: FlowControlQueue[int] = FlowControlQueue(
            maxsize=buffer_size, flow_control=FlowControlEvent(initially_suspended=False)
        )
        self.active = set(range(partitions))
        self.callbacks = {p: self._callbacks(p) for p in range(partitions)}
        self.found_full = False

    def _callbacks(self, partition: int) -> tuple[Callable[[], None], Callable[[], None]]:
        return (lambda: self.active.discard(partition)), (lambda: self.active.add(partition))

    def deliver(self, batch: Sequence[int]) -> None:
        """One fetched batch (each item: its record's partition), put record by record as the drain loop does."""
        for partition in batch:
            if self.queue.full():
                self.found_full = True  # Faust would now wait here for the agent, serving no other topic
                return
            high, drop = self.callbacks[partition]
            self.queue.put_nowait_enhanced(partition, on_pressure_high=high, on_pressure_drop=drop)

    def take(self, n: int) -> None:
        for _ in range(min(n, self.queue.qsize())):
            self.queue.get_nowait()


def worst_case(buffer_size: int, partitions: int, batch: int) -> Consumer:
    """Fill exactly to the pause mark without pausing anything, then one full batch from each partition in turn,
    with the agent taking nothing."""
    consumer = Consumer(buffer_size, partitions)
    mark = pause_mark(buffer_size)
    while consumer.queue.qsize() < mark:
        consumer.deliver([0] * min(batch, mark - consumer.queue.qsize()))
    assert consumer.active == set(range(partitions))
    for partition in range(partitions):
        consumer.deliver([partition] * batch)
    return consumer


@pytest.mark.parametrize(("buffer_size", "partitions"), [(4096, 4), (4096, 1), (4096, 12), (10_000, 7), (20, 4)])
def test_a_batch_of_the_limit_never_meets_a_full_buffer_and_one_more_record_can(
    buffer_size: int, partitions: int
) -> None:
    limit = max_poll_records(buffer_size, partitions)
    at_limit = worst_case(buffer_size, partitions, limit)
    assert not at_limit.found_full
    assert not at_limit.active, "every partition ends paused, so the next fetch serves the other topic"
    assert worst_case(buffer_size, partitions, limit + 1).found_full


def test_the_default_buffer_gives_four_partitions_batches_of_205() -> None:
    assert pause_mark(4096) == 3276
    assert max_poll_records(4096, 4) == (4096 - 3276) // 4 == 205


@pytest.mark.parametrize("seed", range(20))
def test_random_batches_and_takes_never_meet_a_full_buffer(seed: int) -> None:
    rng = random.Random(seed)
    buffer_size, partitions = rng.choice([(4096, 4), (4096, 8), (1000, 3), (50, 2)])
    limit = max_poll_records(buffer_size, partitions)
    consumer = Consumer(buffer_size, partitions)
    paused_at_some_point = False
    for _ in range(3000):
        if consumer.active:
            # A fetch returns records of the active partitions only, up to the limit, interleaved.
            active = sorted(consumer.active)
            consumer.deliver([rng.choice(active) for _ in range(rng.randint(1, limit))])
        paused_at_some_point |= len(consumer.active) < partitions
        consumer.take(rng.choice([0, 0, 0, 1, rng.randint(1, limit)]))
        assert not consumer.found_full
    assert paused_at_some_point, "the schedule never reached the pause mark: it tested nothing"


@pytest.mark.parametrize(("buffer_size", "partitions"), [(8, 3), (4096, 821), (15, 4)])
def test_a_buffer_too_small_for_the_partitions_is_refused(buffer_size: int, partitions: int) -> None:
    with pytest.raises(ValueError, match="too small"):
        max_poll_records(buffer_size, partitions)
    assert max_poll_records(5 * partitions, partitions) >= 1


def test_an_assignment_beyond_the_sized_partitions_is_reported() -> None:
    topics = ("raw", "enriched")
    four = [("raw", p) for p in range(4)] + [("enriched", p) for p in range(4)] + [("other", p) for p in range(9)]
    assert oversized_assignment(four, topics, 4) is None
    assert oversized_assignment([*four, ("enriched", 4)], topics, 4) == ("enriched", 5)
    assert oversized_assignment([], topics, 4) is None
