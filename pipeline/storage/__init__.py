"""luister's ClickHouse storage: the same code on the embedded engine (chDB) and on a ClickHouse server.

Public API: ``open_database`` / ``open_client`` (client.py, bootstrap.py), ``apply_migrations`` (migrate.py),
``MentionWriter`` (writer.py), ``IncidentWriter`` (incidents.py), ``refresh_rollups`` / ``repair_rollups``
(rollups.py), ``run_readonly`` (query.py).

Schema decisions (migrations/*.sql):

- ``mentions`` keeps every write of a mention: ReplacingMergeTree(written_at) ordered by ``(created_at, id)``,
  partitioned by month of ``created_at``. Time-first order because every dashboard, refresh and repair reads a
  created_at range; the id makes the key unique per mention. This relies on a mention id keeping its
  ``created_at`` (platform event time) across re-fetches: copies with different keys would not collapse.
  Author and engagement are flat columns; brands are a Nested (parallel arrays: brand, match_type, competitor),
  one entry per brand (rows.merge_brands), not one row per brand: a mention is stored, deduplicated and counted
  once, and ``mention_brands_v`` ARRAY JOINs it for share of voice. Optional fields stay Nullable (unknown is
  not 0). Sentiment is an Enum8 (three fixed values, ordered); open vocabularies (kind, match type, intent,
  platform, lang) are LowCardinality(String) so new values need no ALTER. The 384-float embedding is
  Array(Float32) with ZSTD; text with ZSTD; timestamps DateTime64(3, 'UTC') with Delta+ZSTD.
- Idempotence: inserts carry ``insert_deduplication_token`` (table setting ``non_replicated_deduplication_window``),
  so a retried batch is dropped; a re-written mention under another token is collapsed by ``mentions_v``, which
  reads ``FINAL`` so analysts never have to (and a merge that has not happened yet never shows).
- Rollups are recomputed from ``mentions_v`` for the minutes a batch touched, not maintained by a materialized
  view: see rollups.py for why and how (one versioned row per minute, ``sentiment_minute_v`` hides versions).
- TTL (``ClickHouseSettings.ttl_days``) applies to ``mentions`` only and is synchronised on every start-up.
"""

from pipeline.storage.bootstrap import open_database
from pipeline.storage.client import open_client
from pipeline.storage.errors import (
    MigrationError,
    QueryError,
    ReadOnlyViolation,
    StorageError,
    StorageUnavailableError,
    WriteError,
)
from pipeline.storage.incidents import IncidentWriter
from pipeline.storage.migrate import apply_migrations
from pipeline.storage.query import QueryResult, run_readonly
from pipeline.storage.rollups import refresh_rollups, repair_rollups
from pipeline.storage.writer import MentionWriter, WriteResult, count_mentions

__all__ = [
    "IncidentWriter",
    "MentionWriter",
    "MigrationError",
    "QueryError",
    "QueryResult",
    "ReadOnlyViolation",
    "StorageError",
    "StorageUnavailableError",
    "WriteError",
    "WriteResult",
    "apply_migrations",
    "count_mentions",
    "open_client",
    "open_database",
    "refresh_rollups",
    "repair_rollups",
    "run_readonly",
]
