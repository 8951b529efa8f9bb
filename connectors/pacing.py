"""Real-time pacing for simulated and replayed streams."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from connectors.sink import MentionSink
    from pipeline.schema import Mention


class Pacer:
    """Holds each record until its timestamp comes round on a clock running ``speed`` times faster than real time.

    The record clock reads ``origin`` when pacing starts (the first :meth:`wait_until`; ``origin`` None: the first
    timestamp waited for). A timestamp already passed returns at once, so a stream that starts in the past first
    catches up as fast as its sink allows, then follows the clock.
    """

    def __init__(self, speed: float = 1.0, origin: datetime | None = None) -> None:
        if not speed > 0:
            raise ValueError(f"speed must be positive, got {speed}")
        self.speed = speed
        self._origin = origin
        self._wall_origin: float | None = None

    def delay(self, at: datetime) -> float:
        """Seconds until ``at`` comes round (0 when it has passed); starts the clock on the first call."""
        loop = asyncio.get_running_loop()
        if self._wall_origin is None:
            self._wall_origin = loop.time()
            if self._origin is None:
                self._origin = at
        assert self._origin is not None
        due = self._wall_origin + (at - self._origin).total_seconds() / self.speed
        return max(due - loop.time(), 0.0)

    async def wait_until(self, at: datetime) -> None:
        delay = self.delay(at)
        if delay > 0:
            await asyncio.sleep(delay)


async def send_paced(mentions: Iterable[Mention], sink: MentionSink, pacer: Pacer | None, limit: int | None) -> int:
    """Send ``mentions`` to ``sink``, each held until ``pacer`` reaches its ``fetched_at`` (None: as fast as the sink
    accepts them), at most ``limit``; returns how many were sent."""
    if limit is not None and limit <= 0:
        return 0
    sent = 0
    for mention in mentions:
        if pacer is not None:
            await pacer.wait_until(mention.fetched_at)
        await sink.send(mention)
        sent += 1
        if limit is not None and sent >= limit:
            break
        if pacer is None and sent % 256 == 0:
            await asyncio.sleep(0)  # let the sink's and others' tasks run
    return sent
