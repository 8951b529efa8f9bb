"""At most one message per interval per Slack channel (Slack: about one message per second per channel)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable


class ChannelPacer:
    """Hands out send slots per channel ``interval_s`` apart; ``hold`` pushes a channel's next slot back (429).

    Slots are reserved without awaiting, so concurrent senders on one channel queue up in order.
    """

    def __init__(
        self,
        interval_s: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.interval_s = interval_s
        self.clock = clock
        self.sleep = sleep
        self._next: dict[str, float] = {}

    async def wait(self, channel: str) -> None:
        now = self.clock()
        start = max(now, self._next.get(channel, now))
        self._next[channel] = start + self.interval_s
        if start > now:
            await self.sleep(start - now)

    def hold(self, channel: str, seconds: float) -> None:
        """No slot for ``channel`` before ``seconds`` from now (Retry-After)."""
        until = self.clock() + max(seconds, 0.0)
        self._next[channel] = max(self._next.get(channel, until), until)
