"""The sink: one idempotent insert per batch into ``mentions``, then a refresh of the rollup minutes it touched.

Contract for the caller (the worker): call ``write`` from a thread (it blocks); commit the batch's offsets only
after it returns. On a ``WriteError`` with ``permanent`` set, the rows themselves were refused: split the batch
(``pipeline.steps.isolate``) and dead-letter the rows that fail alone. On any other ``WriteError`` commit nothing
and retry the SAME batch with the SAME ``dedup_token``:

- ClickHouse drops an insert whose token it has seen in the last ``non_replicated_deduplication_window`` (10,000)
  blocks of the table, so a batch that was committed but not acknowledged is not stored twice;
- a retry with different batch boundaries (e.g. after a restart) gets a new token and re-inserts some mentions;
  that is harmless: ``mentions_v`` shows one row per id, and the refresh recomputes rollups from it.

A token must identify the batch's content, e.g. ``"<topic>:<partition>:<first offset>-<last offset>"``.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

from clickhouse_connect.driver.client import Client

from pipeline.schema import EnrichedMention
from pipeline.storage.errors import WriteError, is_permanent
from pipeline.storage.rollups import refresh_rollups
from pipeline.storage.rows import COLUMN_NAMES, COLUMN_TYPES, mention_columns, touched_minutes
from pipeline.storage.sqltext import check_identifier

_INSERT_SETTINGS = {
    "insert_deduplicate": 1,
    # Async inserts would acknowledge before the rows are visible to the rollup refresh, and dedup differently.
    "async_insert": 0,
}


@dataclass(frozen=True, slots=True)
class WriteResult:
    rows: int
    """Rows sent (a deduplicated retry reports them too: ClickHouse does not say it dropped them)."""
    minutes: int
    """Rollup minutes recomputed."""
    insert_s: float
    rollup_s: float

    @property
    def duration_s(self) -> float:
        return self.insert_s + self.rollup_s


class MentionWriter:
    """Writes batches of enriched mentions to ``database`` (already migrated). Thread-safe if the client is."""

    def __init__(self, client: Client, database: str) -> None:
        self.client = client
        self.database = check_identifier(database)

    def write(self, batch: Sequence[EnrichedMention], dedup_token: str) -> WriteResult:
        """Insert ``batch`` (one insert, deduplicated by ``dedup_token``) and refresh its minutes' rollups.

        Raises ``WriteError`` when either step fails; ``ValueError`` for an empty token. An empty batch is a no-op.
        """
        if not dedup_token:
            raise ValueError("dedup_token must be non-empty: it is what makes a retried insert safe")
        if not batch:
            return WriteResult(rows=0, minutes=0, insert_s=0.0, rollup_s=0.0)
        columns = mention_columns(batch)
        started = time.perf_counter()
        try:
            self.client.insert(
                "mentions",
                columns,
                column_names=COLUMN_NAMES,
                column_type_names=COLUMN_TYPES,
                database=self.database,
                column_oriented=True,
                settings={**_INSERT_SETTINGS, "insert_deduplication_token": dedup_token},
            )
        except Exception as exc:
            message = f"insert of {len(batch)} mentions into {self.database}.mentions failed: {exc}"
            raise WriteError(message, "insert", permanent=is_permanent(exc)) from exc
        inserted = time.perf_counter()
        try:
            minutes = refresh_rollups(self.client, self.database, touched_minutes(batch))
        except Exception as exc:
            raise WriteError(f"rollup refresh after inserting {len(batch)} mentions failed: {exc}", "rollup") from exc
        return WriteResult(
            rows=len(batch), minutes=minutes, insert_s=inserted - started, rollup_s=time.perf_counter() - inserted
        )


def count_mentions(client: Client, database: str, *, raw: bool = False) -> int:
    """Distinct mentions as analysts see them (``mentions_v``), or stored rows including unmerged copies (raw)."""
    table = "mentions" if raw else "mentions_v"
    result = client.query(f"SELECT count() FROM `{check_identifier(database)}`.{table}")
    return int(result.result_rows[0][0])
