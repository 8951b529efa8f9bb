"""A cursor for APIs whose time filter is inclusive (Bluesky ``since``, YouTube ``publishedAfter``). Pure.

Asking again from the newest time seen returns the items at exactly that time once more; asking from just after it
could skip an item with the same timestamp that the platform indexed later. So the cursor is that time plus the ids
already published at it, and the next walk leaves out only those: a poll that finds nothing new publishes nothing.

Saved as ``{"since": ISO time, "ids": [mention ids]}``; a bare ISO string (the earlier format) reads as a cursor
without ids (its boundary items are sent once more, then the new format takes over).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from connectors.sources.payloads import parse_time


@dataclass(frozen=True, slots=True)
class TimeCursor:
    since: datetime | None = None
    """The newest item time published so far (``None``: nothing yet)."""
    ids: frozenset[str] = frozenset()
    """The mention ids published with exactly that time."""

    @classmethod
    def load(cls, saved: Any) -> TimeCursor:
        """The cursor in a saved state value (``None`` or unreadable: an empty cursor)."""
        if isinstance(saved, dict):
            ids = saved.get("ids")
            kept = frozenset(i for i in ids if isinstance(i, str)) if isinstance(ids, list) else frozenset()
            since = parse_time(saved.get("since"))
            return cls(since, kept if since is not None else frozenset())
        return cls(parse_time(saved))

    def seen(self, mention_id: str) -> bool:
        """Published by an earlier walk (an item at the boundary time, returned again by the inclusive filter)."""
        return mention_id in self.ids

    def advanced(self, mention_id: str, at: datetime) -> TimeCursor:
        """The cursor after publishing ``mention_id`` created (or sorted) at ``at``."""
        if self.since is None or at > self.since:
            return TimeCursor(at, frozenset({mention_id}))
        if at == self.since and mention_id not in self.ids:
            return TimeCursor(at, self.ids | {mention_id})
        return self

    def dump(self) -> dict[str, Any]:
        """The state value; only for a cursor that has a time."""
        if self.since is None:
            raise ValueError("an empty time cursor is not saved")
        return {"since": self.since.isoformat().replace("+00:00", "Z"), "ids": sorted(self.ids)}
