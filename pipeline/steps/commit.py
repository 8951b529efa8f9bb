"""The last step: commit offsets, and only offsets whose records are durably handled.

Agents report ``(topic, partition) → next offset`` after a batch is written (sink) or published and
acknowledged (enricher); this class merges them and commits at most once per ``interval``
(:meth:`commit_now` forces one: the worker calls it when partitions are revoked and before it shuts down).
It never commits an offset it was not given, so a crash anywhere before :meth:`done` means the batch is read
again, which idempotent writes make harmless.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping

TopicPartition = tuple[str, int]


class OffsetCommitter:
    def __init__(
        self, commit: Callable[[Mapping[TopicPartition, int]], Awaitable[bool]], interval: float = 1.0
    ) -> None:
        self._commit = commit
        self.interval = interval
        self._pending: dict[TopicPartition, int] = {}
        self._committed: dict[TopicPartition, int] = {}
        self._last = 0.0
        self._lock = asyncio.Lock()

    def done(self, offsets: Mapping[TopicPartition, int]) -> None:
        """Mark everything below each ``next offset`` as durably handled."""
        for tp, nxt in offsets.items():
            if nxt > self._pending.get(tp, -1):
                self._pending[tp] = nxt

    @property
    def pending(self) -> dict[TopicPartition, int]:
        return dict(self._pending)

    @property
    def committed(self) -> dict[TopicPartition, int]:
        return dict(self._committed)

    async def maybe_commit(self) -> bool:
        if time.monotonic() - self._last < self.interval:
            return False
        return await self.commit_now()

    async def commit_now(self) -> bool:
        async with self._lock:
            batch = {tp: off for tp, off in self._pending.items() if self._committed.get(tp) != off}
            self._last = time.monotonic()
            if not batch:
                return False
            ok = await self._commit(batch)
            if ok:
                self._committed.update(batch)
            return ok


def next_offsets(positions: list[tuple[str, int, int]]) -> dict[TopicPartition, int]:
    """``[(topic, partition, offset), ...]`` of handled records → ``{(topic, partition): max offset + 1}``."""
    out: dict[TopicPartition, int] = {}
    for topic, partition, offset in positions:
        if offset + 1 > out.get((topic, partition), -1):
            out[(topic, partition)] = offset + 1
    return out
