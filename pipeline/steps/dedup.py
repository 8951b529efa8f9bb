"""Step 2: drop exact duplicates (a connector re-fetching the same unchanged post).

This is an optimisation, not the correctness guarantee: it remembers a bounded window of recent ids per worker
and forgets on restart. Exactly-once *counts* come from idempotent writes (the mentions table collapses rows by
id; see docs/architecture.md). Because raw mentions are keyed by id, every copy of a mention reaches the same
partition and therefore the same worker.
"""

from __future__ import annotations

from collections import OrderedDict

from pipeline.schema import Mention


class RecentMentions:
    """An LRU of ``id → content hash`` holding at most ``capacity`` ids."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._seen: OrderedDict[str, str] = OrderedDict()

    def __len__(self) -> int:
        return len(self._seen)

    def is_duplicate(self, mention: Mention) -> bool:
        """True if this exact content was seen before; otherwise remember it and return False.

        A mention whose content changed (new engagement, edited text) is not a duplicate: it replaces the old row.
        """
        if self.capacity == 0:
            return False
        digest = mention.content_hash()
        previous = self._seen.get(mention.id)
        if previous == digest:
            self._seen.move_to_end(mention.id)
            return True
        self._seen[mention.id] = digest
        self._seen.move_to_end(mention.id)
        while len(self._seen) > self.capacity:
            self._seen.popitem(last=False)
        return False

    def forget(self, mention_ids: list[str]) -> None:
        """Undo :meth:`is_duplicate`'s memory for mentions whose processing failed, so their retry is not dropped."""
        for mention_id in mention_ids:
            self._seen.pop(mention_id, None)
