"""Versioned schema migrations: ``migrations/NNNN_name.sql`` applied in order, once, and never silently edited.

Contract of a migration file: statements separated by ``;``, each idempotent (``IF NOT EXISTS``, ``OR REPLACE``,
``ADD COLUMN IF NOT EXISTS``) so a migration interrupted half-way is simply applied again; ``${database}`` is the
only placeholder. Its checksum (sha256 of the file with ``\\r\\n`` normalised) is recorded in
``<database>.schema_migrations``; a recorded checksum that no longer matches the file stops start-up: write a new
migration instead of editing an applied one. Several processes may migrate at once (all statements idempotent;
a version recorded twice is harmless). Recorded versions this code does not know (a newer luister migrated the
database) are left alone, so a rolling upgrade keeps older workers running.

The raw-mention TTL is configuration, not schema: it is synchronised after the migrations on every call.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from importlib.resources import files
from importlib.resources.abc import Traversable
from string import Template

from clickhouse_connect.driver.client import Client

from pipeline.storage.errors import MigrationError
from pipeline.storage.sqltext import check_identifier, split_statements

log = logging.getLogger(__name__)

_FILE_NAME = re.compile(r"(\d{4})_([a-z0-9_]+)\.sql")
_TTL_DAYS = re.compile(r"\bTTL\b.*?toIntervalDay\((\d+)\)")


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    template: str
    checksum: str

    def statements(self, database: str) -> list[str]:
        """The SQL statements of this migration for ``database`` (a checked identifier, backquoted)."""
        sql = Template(self.template).substitute(database=f"`{check_identifier(database)}`")
        return split_statements(sql)


def load_migrations(directory: Traversable | None = None) -> list[Migration]:
    """The migration files in ``directory`` (default: the packaged ones), sorted by version.

    Raises ``MigrationError`` for a ``.sql`` file not named ``NNNN_name.sql`` or a version used twice.
    """
    folder = directory if directory is not None else files("pipeline.storage").joinpath("migrations")
    found: dict[int, Migration] = {}
    for entry in folder.iterdir():
        if not entry.name.endswith(".sql"):
            continue
        match = _FILE_NAME.fullmatch(entry.name)
        if not match:
            raise MigrationError(f"migration file {entry.name!r} is not named NNNN_lower_snake.sql")
        text = entry.read_text(encoding="utf-8").replace("\r\n", "\n")
        version = int(match.group(1))
        if version in found:
            raise MigrationError(f"migration version {version} is used by two files")
        found[version] = Migration(version, match.group(2), text, hashlib.sha256(text.encode()).hexdigest())
    return [found[v] for v in sorted(found)]


def apply_migrations(
    client: Client, database: str, ttl_days: int | None = None, migrations: list[Migration] | None = None
) -> list[int]:
    """Create ``database`` if needed, apply the pending migrations in order, then set the raw-mention TTL.

    Returns the versions applied by this call (empty when up to date). Raises ``MigrationError`` if a recorded
    migration's checksum differs from its file, before applying anything.
    """
    db = f"`{check_identifier(database)}`"
    client.command(f"CREATE DATABASE IF NOT EXISTS {db}")
    client.command(
        f"CREATE TABLE IF NOT EXISTS {db}.schema_migrations (version UInt32, name String, checksum String,"
        " applied_at DateTime64(3, 'UTC') DEFAULT now64(3)) ENGINE = MergeTree ORDER BY version"
    )
    recorded: dict[int, set[str]] = {}
    for version, checksum in client.query(f"SELECT version, checksum FROM {db}.schema_migrations").result_rows:
        recorded.setdefault(int(version), set()).add(str(checksum))

    wanted = load_migrations() if migrations is None else migrations
    for migration in wanted:
        if recorded.get(migration.version, {migration.checksum}) != {migration.checksum}:
            raise MigrationError(
                f"migration {migration.version:04d}_{migration.name} was edited after it was applied to {database}"
                " (checksum differs); add a new migration instead"
            )
    unknown = sorted(set(recorded) - {m.version for m in wanted})
    if unknown:
        log.warning("database %s has migrations %s that this luister does not know (newer version?)", database, unknown)

    applied: list[int] = []
    for migration in wanted:
        if migration.version in recorded:
            continue
        for statement in migration.statements(database):
            client.command(statement)
        client.insert(
            f"{db}.schema_migrations",
            [[migration.version, migration.name, migration.checksum]],
            column_names=["version", "name", "checksum"],
        )
        log.info("applied migration %04d_%s to %s", migration.version, migration.name, database)
        applied.append(migration.version)
    sync_ttl(client, database, ttl_days)
    return applied


def current_ttl_days(client: Client, database: str) -> int | None:
    """The TTL in days currently set on ``database.mentions``, or None when it has none."""
    result = client.query(
        "SELECT engine_full FROM system.tables WHERE database = {db:String} AND name = 'mentions'",
        parameters={"db": database},
    )
    if not result.result_rows:
        raise MigrationError(f"{database}.mentions does not exist; apply the migrations first")
    match = _TTL_DAYS.search(str(result.result_rows[0][0]))
    return int(match.group(1)) if match else None


def sync_ttl(client: Client, database: str, ttl_days: int | None) -> None:
    """Make ``database.mentions`` drop rows ``ttl_days`` after ``created_at`` (None: keep forever); no-op if set.

    Rollups keep no TTL: they hold no personal data and stay useful for long-term trends after raw rows expire.
    """
    if ttl_days is not None and (not isinstance(ttl_days, int) or ttl_days < 1):
        raise ValueError(f"ttl_days must be a positive int or None, not {ttl_days!r}")
    if current_ttl_days(client, database) == ttl_days:
        return
    table = f"`{check_identifier(database)}`.mentions"
    if ttl_days is None:
        client.command(f"ALTER TABLE {table} REMOVE TTL")
    else:
        client.command(f"ALTER TABLE {table} MODIFY TTL toDateTime(created_at) + INTERVAL {ttl_days:d} DAY")
    log.info("set the TTL of %s to %s days", table, ttl_days)
