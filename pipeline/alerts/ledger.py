"""The delivery ledger: which notification (event × channel) was attempted and delivered, with Slack's ts.

It is what makes delivery exactly-once across restarts where Slack allows it: the notifier skips what the ledger
says is delivered, threads replies under the channel's root message recorded here, and looks up (instead of
re-posting) a notification the ledger says was attempted but not delivered. Implementations: :class:`MemoryLedger`
(tests, and a process that accepts duplicates after a restart) and ``ClickHouseLedger`` (ledger_clickhouse.py).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class LedgerEntry:
    """One notification: event ``event_id`` in channel ``channel`` (a name in ``alerts.channels``)."""

    incident_id: str
    event_id: str
    channel: str
    attempted_at: datetime
    """When the first post was attempted (recorded before it was sent)."""
    ts: str | None = None
    """Slack's ts of the message (None: incoming webhooks do not say)."""
    thread_ts: str | None = None
    """The root message this one was posted under; None: it is the incident's root in this channel."""
    delivered_at: datetime | None = None
    how: str = ""
    """'posted', or 'adopted' (found already posted after an uncertain attempt)."""

    @property
    def delivered(self) -> bool:
        return self.delivered_at is not None

    def delivered_as(self, ts: str | None, thread_ts: str | None, at: datetime, how: str) -> LedgerEntry:
        return replace(self, ts=ts, thread_ts=thread_ts, delivered_at=at, how=how)


class Ledger(Protocol):
    """Async so a database-backed ledger can run its blocking client in a thread. Every method may raise on
    storage errors; the notifier retries them (a delivery is not finished until the ledger has recorded it)."""

    async def get(self, event_id: str, channel: str) -> LedgerEntry | None:
        """The entry of this notification (delivered wins over attempted), None if never attempted."""
        ...

    async def put(self, entry: LedgerEntry) -> None:
        """Record an attempt or a delivery; a delivery replaces the attempt, never the reverse."""
        ...

    async def roots(self, incident_id: str) -> dict[str, LedgerEntry]:
        """Per channel, the incident's latest delivered root message there (its thread holds the later steps; a
        new root replaces one whose thread was deleted)."""
        ...


class MemoryLedger:
    """A ledger in a dict: exact within one process, forgotten on exit."""

    def __init__(self) -> None:
        self.entries: dict[tuple[str, str], LedgerEntry] = {}

    async def get(self, event_id: str, channel: str) -> LedgerEntry | None:
        return self.entries.get((event_id, channel))

    async def put(self, entry: LedgerEntry) -> None:
        key = (entry.event_id, entry.channel)
        seen = self.entries.get(key)
        if seen is not None and seen.delivered and not entry.delivered:
            return
        self.entries[key] = entry

    async def roots(self, incident_id: str) -> dict[str, LedgerEntry]:
        found: dict[str, LedgerEntry] = {}
        for entry in self.entries.values():
            if entry.incident_id != incident_id or not entry.delivered or entry.thread_ts is not None:
                continue
            seen = found.get(entry.channel)
            if seen is None or _delivered_key(entry) > _delivered_key(seen):
                found[entry.channel] = entry
        return found


def _delivered_key(entry: LedgerEntry) -> tuple[datetime, str]:
    assert entry.delivered_at is not None
    return entry.delivered_at, entry.event_id
