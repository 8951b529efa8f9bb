"""Real-time pacing for simulated and replayed streams."""

from __future__ import annotations

import asyncio
from datetime import datetime


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

    async def wait_until(self, at: datetime) -> None:
        loop = asyncio.get_running_loop()
        if self._wall_origin is None:
            self._wall_origin = loop.time()
            if self._origin is None:
                self._origin = at
        assert self._origin is not None
        due = self._wall_origin + (at - self._origin).total_seconds() / self.speed
        delay = due - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
