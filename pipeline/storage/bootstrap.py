"""Start-up in one call: open the database, migrate it, make it the client's default, heal recent rollups."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

from clickhouse_connect.driver.client import Client

from pipeline.settings import ClickHouseSettings
from pipeline.storage.client import open_client
from pipeline.storage.migrate import apply_migrations
from pipeline.storage.rollups import repair_rollups

log = logging.getLogger(__name__)

DEFAULT_REPAIR_HOURS = 6.0


def open_database(
    settings: ClickHouseSettings, data_dir: Path, *, repair_hours: float = DEFAULT_REPAIR_HOURS
) -> Client:
    """A client on a migrated ``settings.database`` (its default database, so analysts' SQL can say ``mentions_v``).

    Recomputes the rollups of the last ``repair_hours`` (0: skip), which heals a process killed between a write
    and its rollup refresh. Raises ``StorageUnavailableError`` or ``MigrationError``; closes the client on failure.
    """
    client = open_client(settings, data_dir)
    try:
        apply_migrations(client, settings.database, settings.ttl_days)
        client.database = settings.database
        if repair_hours > 0:
            since = datetime.now(UTC) - timedelta(hours=repair_hours)
            minutes = repair_rollups(client, settings.database, since)
            log.info("recomputed %d rollup minutes of the last %.1f h", minutes, repair_hours)
    except BaseException:
        client.close()
        raise
    return client
