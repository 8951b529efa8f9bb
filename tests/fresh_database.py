"""A freshly migrated, throw-away database on any ClickHouse client (embedded or server), dropped afterwards."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from clickhouse_connect.driver.client import Client

from pipeline.storage import apply_migrations


@contextmanager
def fresh_database(client: Client) -> Iterator[str]:
    name = f"luister_test_{uuid.uuid4().hex[:12]}"
    apply_migrations(client, name)
    try:
        yield name
    finally:
        client.command(f"DROP DATABASE IF EXISTS {name}")
