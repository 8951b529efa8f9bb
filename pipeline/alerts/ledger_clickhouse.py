"""The delivery ledger in ClickHouse table ``alert_deliveries`` (migrations/0003_alerts.sql).

A ReplacingMergeTree keyed on (incident_id, event_id, channel) with ``state`` as its version: an attempt is
written as state 1, the delivery as state 2 and wins. Reads use ``FINAL`` (the table holds a handful of rows per
incident), so they are exact before merges. The client is blocking: every call runs in a worker thread.
"""

from __future__ import annotations

import asyncio
from datetime import datetime

from clickhouse_connect.driver.client import Client

from pipeline.alerts.ledger import LedgerEntry
from pipeline.storage.sqltext import check_identifier

_COLUMNS = ("incident_id", "event_id", "channel", "state", "ts", "thread_ts", "how", "attempted_at", "delivered_at")
_TYPES = (
    "String",
    "String",
    "LowCardinality(String)",
    "UInt8",
    "String",
    "String",
    "LowCardinality(String)",
    "DateTime64(3, 'UTC')",
    "Nullable(DateTime64(3, 'UTC'))",
)
ATTEMPTED, DELIVERED = 1, 2


def _entry(row: tuple[object, ...]) -> LedgerEntry:
    incident_id, event_id, channel, _state, ts, thread_ts, how, attempted_at, delivered_at = row
    assert isinstance(attempted_at, datetime)
    assert delivered_at is None or isinstance(delivered_at, datetime)
    return LedgerEntry(
        incident_id=str(incident_id),
        event_id=str(event_id),
        channel=str(channel),
        attempted_at=attempted_at,
        ts=str(ts) or None,
        thread_ts=str(thread_ts) or None,
        delivered_at=delivered_at,
        how=str(how),
    )


class ClickHouseLedger:
    """:class:`pipeline.alerts.ledger.Ledger` on ``database.alert_deliveries`` (the database must be migrated)."""

    def __init__(self, client: Client, database: str) -> None:
        self.client = client
        self.table = f"`{check_identifier(database)}`.alert_deliveries"
        self.database = check_identifier(database)

    def _select(self, where: str, params: dict[str, str]) -> list[LedgerEntry]:
        rows = self.client.query(
            f"SELECT {', '.join(_COLUMNS)} FROM {self.table} FINAL WHERE {where}", parameters=params
        ).result_rows
        return [_entry(tuple(r)) for r in rows]

    def _get(self, event_id: str, channel: str) -> LedgerEntry | None:
        found = self._select(
            "event_id = {event_id:String} AND channel = {channel:String}", {"event_id": event_id, "channel": channel}
        )
        return found[0] if found else None

    def _put(self, entry: LedgerEntry) -> None:
        row = (
            entry.incident_id,
            entry.event_id,
            entry.channel,
            DELIVERED if entry.delivered else ATTEMPTED,
            entry.ts or "",
            entry.thread_ts or "",
            entry.how,
            entry.attempted_at,
            entry.delivered_at,
        )
        self.client.insert(
            "alert_deliveries",
            [row],
            column_names=_COLUMNS,
            column_type_names=_TYPES,
            database=self.database,
            settings={"async_insert": 0},
        )

    def _roots(self, incident_id: str) -> dict[str, LedgerEntry]:
        found: dict[str, LedgerEntry] = {}
        entries = self._select(
            f"incident_id = {{incident_id:String}} AND state = {DELIVERED} AND thread_ts = ''"
            " ORDER BY delivered_at DESC, event_id DESC",
            {"incident_id": incident_id},
        )
        for entry in entries:
            found.setdefault(entry.channel, entry)
        return found

    async def get(self, event_id: str, channel: str) -> LedgerEntry | None:
        return await asyncio.to_thread(self._get, event_id, channel)

    async def put(self, entry: LedgerEntry) -> None:
        await asyncio.to_thread(self._put, entry)

    async def roots(self, incident_id: str) -> dict[str, LedgerEntry]:
        return await asyncio.to_thread(self._roots, incident_id)
