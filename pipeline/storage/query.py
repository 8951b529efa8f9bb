"""Read-only SQL for people (``luister sql``, the worker's HTTP SQL endpoint): one statement, bounded output.

Two independent guards:

1. ``check_readonly`` (pure) accepts a single SELECT / WITH / SHOW / DESC[RIBE] / EXPLAIN statement and refuses
   ``INTO OUTFILE`` (chDB writes the file even under ``readonly=1``) and ``WITH ... INSERT``.
2. The engine runs it with ``readonly=1``, which also refuses table functions (``file()``, ``url()``, ``s3()``)
   and any attempt to change settings from inside the query.

chDB quirk: clickhouse-connect applies some per-call settings with ``SET`` and restores them afterwards, and a
``SET readonly=0`` restore is itself refused in readonly mode, so a refused statement can leave the handle
read-only for good. The query therefore never runs on the caller's chDB handle: it gets its own short-lived
handle on the same engine (~20 ms), set read-only for its whole life. Over HTTP, settings are per request.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

from clickhouse_connect.driver._chdbclient import ChdbClient
from clickhouse_connect.driver.client import Client
from clickhouse_connect.driver.exceptions import ClickHouseError

from pipeline.storage.errors import QueryError, ReadOnlyViolation
from pipeline.storage.sqltext import SqlSyntaxError, split_statements, tokens, words

ALLOWED_FIRST_WORDS = frozenset({"SELECT", "WITH", "SHOW", "DESCRIBE", "DESC", "EXPLAIN"})
DEFAULT_MAX_ROWS = 10_000


@dataclass(frozen=True, slots=True)
class QueryResult:
    columns: tuple[str, ...]
    types: tuple[str, ...]
    """ClickHouse type names, e.g. ``DateTime64(3, 'UTC')``."""
    rows: list[tuple[Any, ...]]
    truncated: bool
    """True when the statement had more than ``max_rows`` rows; ``rows`` holds the first ``max_rows``."""
    elapsed_s: float


def check_readonly(sql: str) -> str:
    """The single statement in ``sql`` (without trailing ``;``) if it may run read-only, else ``ReadOnlyViolation``."""
    try:
        statements = split_statements(sql)
    except SqlSyntaxError as exc:
        raise ReadOnlyViolation(str(exc)) from exc
    if len(statements) != 1:
        raise ReadOnlyViolation(f"expected exactly one statement, got {len(statements)}")
    statement = statements[0]
    first = next((t for t in tokens(statement) if t.kind not in ("space", "comment")), None)
    keywords = words(statement)
    if first is None or first.kind != "word" or first.text.upper() not in ALLOWED_FIRST_WORDS:
        allowed = ", ".join(sorted(ALLOWED_FIRST_WORDS))
        raise ReadOnlyViolation(f"only {allowed} statements are allowed")
    pairs = set(pairwise(keywords))
    if ("INTO", "OUTFILE") in pairs:
        raise ReadOnlyViolation("INTO OUTFILE is not allowed")
    if ("INSERT", "INTO") in pairs:
        raise ReadOnlyViolation("INSERT is not allowed")
    return statement


def _engine_settings(max_rows: int, timeout_s: float) -> dict[str, Any]:
    # readonly last: once it applies (SET on a chDB handle), no other setting can change.
    return {
        "max_result_rows": max_rows + 1,
        "result_overflow_mode": "break",
        "max_execution_time": max(1, int(timeout_s)),
        "readonly": 1,
    }


def run_readonly(
    client: Client,
    sql: str,
    params: Mapping[str, Any] | None = None,
    *,
    max_rows: int = DEFAULT_MAX_ROWS,
    timeout_s: float = 30.0,
    database: str | None = None,
) -> QueryResult:
    """Run one read-only statement and return at most ``max_rows`` rows.

    ``params`` fill ClickHouse placeholders (``{name:Type}``). Unqualified table names resolve in ``database``
    (default: the client's, ``client.database``); the client itself is left unchanged. Raises
    ``ReadOnlyViolation`` before anything runs if the text is not one read-only statement, and ``QueryError``
    (with ClickHouse's message) if the engine rejects or aborts it.
    """
    if max_rows < 1:
        raise ValueError("max_rows must be at least 1")
    statement = check_readonly(sql)
    settings = _engine_settings(max_rows, timeout_s)
    default_db = database or client.database
    started = time.perf_counter()
    try:
        if isinstance(client, ChdbClient):
            # A sibling handle on the engine this process already runs (same path), read-only for its whole life.
            reader = ChdbClient(path=client.path, database=default_db, settings=settings, tz_mode=client.tz_mode)
            try:
                result = reader.query(statement, parameters=dict(params or {}))
            finally:
                reader.close()
        else:
            # "database" is an HTTP transport parameter: per request, it overrides the client's default.
            http_settings = {"database": default_db, **settings} if default_db else settings
            result = client.query(statement, parameters=dict(params or {}), settings=http_settings)
    except ClickHouseError as exc:
        raise QueryError(str(exc)) from exc
    rows = [tuple(row) for row in result.result_rows]
    return QueryResult(
        columns=tuple(result.column_names),
        types=tuple(t.name for t in result.column_types),
        rows=rows[:max_rows],
        truncated=len(rows) > max_rows,
        elapsed_s=time.perf_counter() - started,
    )
