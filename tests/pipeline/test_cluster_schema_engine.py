"""The generated cluster DDL is valid ClickHouse: run on the embedded engine with only its cluster parts undone.

chDB has no Keeper and no cluster, so the cluster-specific parts are rewritten back, each rule counted so a
change in the generator's shape fails here instead of silently skipping a rule:
``ON CLUSTER`` removed; ``Replicated<Kind>MergeTree(path, replica, args)`` → ``<Kind>MergeTree(args)``;
``replicated_deduplication_window`` → ``non_replicated_deduplication_window``; ``Distributed(cluster, db, local,
key)`` → a table over ``remote('127.0.0.1', db, local, key)``, which is a real Distributed storage with one local
shard (reads fan out through it, ``FINAL`` is pushed down, inserts are routed by the sharding key). Everything
else (column lists, codecs, ORDER BY, the views' SELECTs, the two-table layout) runs as generated. The demo data
set goes through the real writers into both this database and a normally migrated one, and every docs/schema.md
example must answer the same on both. Not a cluster test: replication, Keeper paths and multi-shard routing are
not exercised here.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from clickhouse_connect.driver.client import Client
from demo_dataset import cached_build, incidents, write

from pipeline.alerts.ledger import LedgerEntry
from pipeline.alerts.ledger_clickhouse import ClickHouseLedger
from pipeline.storage import IncidentWriter, run_readonly
from pipeline.storage.cluster_schema import cluster_script
from pipeline.storage.sqltext import split_statements

pytestmark = pytest.mark.slow

DOC = Path(__file__).resolve().parents[2] / "docs" / "schema.md"
SINGLE, CLUSTERED = "luister_single", "luister_cluster"
TABLES = ("mentions", "sentiment_minute", "incident_events", "alert_deliveries")
REPLICATED = re.compile(
    r"Replicated(\w*MergeTree)\('/clickhouse/tables/\{shard\}/\{database\}/\{table\}', '\{replica\}'(?:, )?"
)
DISTRIBUTED = re.compile(r"AS `\w+`\.\w+_local\nENGINE = Distributed\('c', (`\w+`), (\w+_local), (.+)\)$")


def on_one_node(script: str) -> list[str]:
    """The cluster script's statements with the cluster-only parts undone (see the module docstring)."""
    out, counts = [], {"on cluster": 0, "replicated": 0, "distributed": 0}
    for statement in split_statements(script):
        statement, n = re.subn(r" ON CLUSTER 'c'", "", statement)
        counts["on cluster"] += n
        statement, n = REPLICATED.subn(r"\1(", statement)
        counts["replicated"] += n
        statement = re.sub(r"\breplicated_deduplication_window\b", "non_replicated_deduplication_window", statement)
        statement, n = DISTRIBUTED.subn(r"AS remote('127.0.0.1', \1, \2, \3)", statement)
        counts["distributed"] += n
        out.append(statement)
    assert counts == {"on cluster": len(out), "replicated": len(TABLES), "distributed": len(TABLES)}, counts
    return out


def examples() -> list[tuple[str, str]]:
    body = DOC.read_text(encoding="utf-8").split("\n## Example questions\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^### (.+?)\n.*?```sql\n(.*?)```", body, flags=re.MULTILINE | re.DOTALL)


EXAMPLES = examples()


@pytest.fixture(scope="module")
def both(engine: Client) -> Iterator[Client]:
    """``SINGLE`` migrated as usual and ``CLUSTERED`` from the cluster script, the demo data set in each."""
    for statement in on_one_node(cluster_script("c", CLUSTERED)):
        engine.command(statement)
    data, firsts, again = cached_build()
    for database in (SINGLE, CLUSTERED):
        # write() runs apply_migrations first: over the cluster schema it must be a no-op (IF NOT EXISTS, the
        # same views), which is what a luister worker does when it starts against a cluster.
        write(engine, database, firsts, again)
        IncidentWriter(engine, database).write(incidents(engine, database, data))
    yield engine
    for database in (SINGLE, CLUSTERED):
        engine.command(f"DROP DATABASE IF EXISTS {database}")


def test_every_table_is_a_storage_table_behind_a_distributed_one(both: Client) -> None:
    rows = both.query(f"SELECT name, engine, create_table_query FROM system.tables WHERE database = '{CLUSTERED}'")
    engines = {name: engine for name, engine, _ in rows.result_rows}
    created = {name: query for name, _, query in rows.result_rows}
    for table in TABLES:
        assert engines[f"{table}_local"] == "ReplacingMergeTree"
        # a table over a table function shows as "Proxy" (StorageTableFunctionProxy around the Distributed)
        assert engines[table] == "Proxy"
        assert f"remote('127.0.0.1', '{CLUSTERED}', '{table}_local', cityHash64(" in created[table]
    for view in ("mentions_v", "mention_brands_v", "sentiment_minute_v", "incidents_v"):
        assert engines[view] == "View"


def test_columns_are_those_of_the_single_server_schema(both: Client) -> None:
    for name in (*TABLES, "mentions_v", "mention_brands_v", "sentiment_minute_v", "incidents_v"):
        single = both.query(f"DESCRIBE TABLE {SINGLE}.{name}").result_rows
        assert both.query(f"DESCRIBE TABLE {CLUSTERED}.{name}").result_rows == single, name
        if name in TABLES:
            assert both.query(f"DESCRIBE TABLE {CLUSTERED}.{name}_local").result_rows == single, name


def test_the_rows_went_through_the_distributed_tables_into_the_local_ones(both: Client) -> None:
    data, firsts, again = cached_build()
    count = lambda sql: int(both.query(sql).result_rows[0][0])  # noqa: E731
    assert count(f"SELECT count() FROM {CLUSTERED}.mentions_v") == len(data.mentions) == len(firsts)
    stored = count(f"SELECT count() FROM {CLUSTERED}.mentions_local")
    assert len(firsts) <= stored <= len(firsts) + len(again)  # re-fetches stored, some maybe merged away already
    assert count(f"SELECT count() FROM {CLUSTERED}.sentiment_minute_v") > 0
    assert count(f"SELECT count() FROM {CLUSTERED}.incident_events_local") == 5


def test_the_delivery_ledger_works_over_the_distributed_table(both: Client) -> None:
    ledger = ClickHouseLedger(both, CLUSTERED)
    at = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    attempt = LedgerEntry("demo-volume", "demo-volume/0", "#alerts", at)
    asyncio.run(ledger.put(attempt))
    asyncio.run(ledger.put(attempt.delivered_as("1.2", None, at, "posted")))
    assert asyncio.run(ledger.get("demo-volume/0", "#alerts")) == attempt.delivered_as("1.2", None, at, "posted")


def _answer(client: Client, database: str, sql: str) -> list[tuple[object, ...]]:
    return [tuple(row) for row in run_readonly(client, sql, database=database).rows]


@pytest.mark.parametrize(("heading", "sql"), EXAMPLES, ids=[h for h, _ in EXAMPLES])
def test_schema_examples_answer_the_same_on_the_cluster_schema(both: Client, heading: str, sql: str) -> None:
    before = _answer(both, SINGLE, sql)
    clustered = _answer(both, CLUSTERED, sql)
    if "stored_rows" in sql:  # example 14: stored copies depend on when background merges ran, mentions do not
        ((stored, mentions, _),) = clustered
        assert stored >= mentions == before[0][1]  # type: ignore[operator]
        return
    if "written_at" in sql:  # example 13: its last column measures when the test wrote the rows, a second apart
        before, clustered = [r[:-1] for r in before], [r[:-1] for r in clustered]
        assert clustered == before, heading
        return
    # A now()-relative query may straddle a second between the two runs: accept the single-server answer from
    # just before or just after.
    assert clustered and clustered in (before, _answer(both, SINGLE, sql)), heading
