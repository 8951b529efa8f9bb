"""Incident events → ``incident_events`` (migrations/0003), read back per incident through ``incidents_v``.

``IncidentWriter.write(events)`` is one idempotent insert: the insert deduplication token is derived from the
events' ids, so a retried batch is dropped by ClickHouse, and a re-emitted event under another token collapses in
the ReplacingMergeTree (``incidents_v`` is exact either way). Call it from a thread (it blocks); raises
``WriteError`` like ``MentionWriter`` (retry the same batch on a transient one).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

from clickhouse_connect.driver.client import Client

from pipeline.incidents import IncidentEvent
from pipeline.storage.errors import WriteError, is_permanent
from pipeline.storage.sqltext import check_identifier

COLUMNS: tuple[tuple[str, str], ...] = (
    ("event_id", "String"),
    ("incident_id", "String"),
    ("seq", "UInt32"),
    ("schema_version", "UInt16"),
    ("stage", "LowCardinality(String)"),
    ("brand", "LowCardinality(String)"),
    ("platform", "LowCardinality(Nullable(String))"),
    ("signal", "LowCardinality(String)"),
    ("severity", "Enum8('low' = 0, 'medium' = 1, 'high' = 2, 'critical' = 3)"),
    ("opened_at", "DateTime64(3, 'UTC')"),
    ("at", "DateTime64(3, 'UTC')"),
    ("observed", "Float64"),
    ("expected", "Float64"),
    ("upper", "Nullable(Float64)"),
    ("score", "Float32"),
    ("summary", "String"),
    ("top_posts.mention_id", "Array(String)"),
    ("top_posts.platform", "Array(LowCardinality(String))"),
    ("top_posts.url", "Array(Nullable(String))"),
    ("top_posts.author_handle", "Array(String)"),
    ("top_posts.author_followers", "Array(Nullable(UInt64))"),
    ("top_posts.text", "Array(String)"),
    ("top_posts.created_at", "Array(DateTime64(3, 'UTC'))"),
    ("top_posts.lang", "Array(LowCardinality(Nullable(String)))"),
    ("top_posts.sentiment", "Array(LowCardinality(Nullable(String)))"),
    ("top_posts.intent", "Array(LowCardinality(Nullable(String)))"),
    ("top_posts.reach", "Array(UInt64)"),
    ("top_topics.name", "Array(String)"),
    ("top_topics.count", "Array(UInt32)"),
    ("top_intents.name", "Array(String)"),
    ("top_intents.count", "Array(UInt32)"),
    ("languages.name", "Array(String)"),
    ("languages.count", "Array(UInt32)"),
    ("terms", "Array(String)"),
    ("dashboard_url", "Nullable(String)"),
)
COLUMN_NAMES: tuple[str, ...] = tuple(name for name, _ in COLUMNS)
COLUMN_TYPES: tuple[str, ...] = tuple(type_ for _, type_ in COLUMNS)

_INSERT_SETTINGS = {"insert_deduplicate": 1, "async_insert": 0}


def incident_row(event: IncidentEvent) -> tuple[Any, ...]:
    """One event's values in ``COLUMN_NAMES`` order (pure)."""
    posts = event.top_posts
    return (
        event.event_id,
        event.incident_id,
        event.seq,
        event.schema_version,
        event.stage,
        event.brand,
        event.platform,
        event.signal,
        event.severity,
        event.opened_at,
        event.at,
        event.observed,
        event.expected,
        event.upper,
        event.score,
        event.summary,
        [p.mention_id for p in posts],
        [p.platform for p in posts],
        [p.url for p in posts],
        [p.author_handle for p in posts],
        [p.author_followers for p in posts],
        [p.text for p in posts],
        [p.created_at for p in posts],
        [p.lang for p in posts],
        [p.sentiment for p in posts],
        [p.intent for p in posts],
        [p.reach for p in posts],
        [c.name for c in event.top_topics],
        [c.count for c in event.top_topics],
        [c.name for c in event.top_intents],
        [c.count for c in event.top_intents],
        [c.name for c in event.languages],
        [c.count for c in event.languages],
        list(event.terms),
        event.dashboard_url,
    )


def dedup_token(events: Sequence[IncidentEvent]) -> str:
    """The insert deduplication token of a batch: a digest of its event ids in order."""
    digest = hashlib.sha256("\n".join(e.event_id for e in events).encode()).hexdigest()
    return f"incidents:{digest[:32]}"


class IncidentWriter:
    """Writes incident events to ``database`` (already migrated). Thread-safe if the client is."""

    def __init__(self, client: Client, database: str) -> None:
        self.client = client
        self.database = check_identifier(database)

    def write(self, events: Sequence[IncidentEvent]) -> int:
        """Insert ``events`` (one insert, deduplicated by their ids); returns the rows sent. Empty: no-op."""
        if not events:
            return 0
        try:
            self.client.insert(
                "incident_events",
                [incident_row(e) for e in events],
                column_names=COLUMN_NAMES,
                column_type_names=COLUMN_TYPES,
                database=self.database,
                settings={**_INSERT_SETTINGS, "insert_deduplication_token": dedup_token(events)},
            )
        except Exception as exc:
            message = f"insert of {len(events)} incident events into {self.database}.incident_events failed: {exc}"
            raise WriteError(message, "insert", permanent=is_permanent(exc)) from exc
        return len(events)
