"""The ClickHouse cluster form of the migrations: Replicated storage tables, Distributed tables, ON CLUSTER DDL.

Pure text in, text out (no database): :func:`cluster_script` turns the packaged migrations into one script for
``clickhouse-client --multiquery`` on any node of a cluster. Per statement of a migration:

- ``CREATE TABLE x (...) ENGINE = <Kind>MergeTree(args) ...`` becomes two tables: ``x_local`` with
  ``Replicated<Kind>MergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}', args)`` (the data, one
  copy per replica of each shard) and ``x`` with ``ENGINE = Distributed(cluster, db, x_local, <sharding key>)``
  (no data; reads fan out to every shard, inserts are routed by the key). Every reader and writer keeps using
  ``x``: the views, the pipeline and the dashboards need no change. ``non_replicated_deduplication_window``
  becomes ``replicated_deduplication_window`` (the same insert-token window, for replicated tables).
- ``CREATE [OR REPLACE] VIEW`` is emitted unchanged but ``ON CLUSTER``: its ``SELECT`` reads the Distributed
  tables (they keep the original names), so a view answers over all shards.
- ``CREATE MATERIALIZED VIEW ... TO t AS SELECT ... FROM s`` (none in the migrations today) watches ``s_local``
  and writes ``t_local``: a materialized view is an insert trigger, and on a cluster the inserts happen in the
  local tables of each shard. Only a SELECT with exactly one ``FROM`` of a table is accepted.
- ``ALTER TABLE x`` with column actions (ADD/DROP/MODIFY/RENAME/COMMENT COLUMN) goes to ``x_local`` and ``x``
  (the Distributed table must keep the same columns); with table-only actions (TTL, settings) to ``x_local``.

Anything else (another engine, ``CREATE TABLE ... AS``, an existing ``ON CLUSTER``, INSERT, DROP, ...) raises
:class:`ClusterSchemaError` naming the statement: a refusal is better than DDL that is subtly wrong on a cluster.

Sharding keys (:data:`SHARDING_KEYS`) are declared per table. For a ReplacingMergeTree (or any collapsing
engine) the key must be a function of sorting-key columns only: rows collapse only with rows of the same
sorting key *in the same table on the same server* (merges and ``FINAL`` run per shard), so every copy of a
row must reach the same shard. ``cityHash64(id)`` sends all copies of a mention (same ``(created_at, id)``) to
one shard while spreading mentions evenly; the transformer refuses a key that uses any other column.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from pipeline.storage.errors import MigrationError
from pipeline.storage.migrate import Migration, load_migrations
from pipeline.storage.sqltext import Token, check_identifier, tokens

#: The sharding key of each table's Distributed table; a table missing here is refused (see module docstring).
SHARDING_KEYS: dict[str, str] = {
    "mentions": "cityHash64(id)",  # all copies of a mention on one shard; dedup key (created_at, id)
    "sentiment_minute": "cityHash64(minute)",  # all versions of a minute on one shard; dedup key minute
    "incident_events": "cityHash64(incident_id)",  # an incident's steps together; dedup key (incident_id, event_id)
    "alert_deliveries": "cityHash64(incident_id)",  # dedup key (incident_id, event_id, channel)
}

ZOOKEEPER_PATH = "/clickhouse/tables/{shard}/{database}/{table}"
REPLICA_NAME = "{replica}"
LOCAL_SUFFIX = "_local"

_MERGE_TREES = (
    "MergeTree",
    "ReplacingMergeTree",
    "SummingMergeTree",
    "AggregatingMergeTree",
    "CollapsingMergeTree",
    "VersionedCollapsingMergeTree",
)
#: Engines that drop or fold rows with equal sorting keys: their sharding key must come from the sorting key.
_COLLAPSING = frozenset(_MERGE_TREES) - {"MergeTree"}
_CLUSTER_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|\{[A-Za-z_][A-Za-z0-9_]*\}")
_TABLE_CLAUSES = frozenset({"PARTITION", "ORDER", "PRIMARY", "SAMPLE", "TTL", "SETTINGS", "COMMENT"})
_COLUMN_ACTIONS = frozenset({"ADD", "DROP", "MODIFY", "RENAME", "COMMENT", "CLEAR"})
_TABLE_ACTIONS = {("MODIFY", "TTL"), ("REMOVE", "TTL"), ("MODIFY", "SETTING"), ("RESET", "SETTING")}


class ClusterSchemaError(MigrationError):
    """A migration statement has no cluster form this module knows how to write."""


@dataclass(frozen=True, slots=True)
class ClusterTable:
    """One table of the cluster schema: its replicated storage table and its Distributed table."""

    name: str
    engine: str  # the single-server engine, e.g. "ReplacingMergeTree"
    sorting_key: tuple[str, ...]  # the column names the ORDER BY uses
    sharding_key: str


@dataclass
class ClusterSchema:
    """The state of the transformation: the tables created so far (ALTER and views refer back to them)."""

    cluster: str
    database: str
    sharding_keys: Mapping[str, str] = field(default_factory=lambda: dict(SHARDING_KEYS))
    tables: dict[str, ClusterTable] = field(default_factory=dict)

    @property
    def on_cluster(self) -> str:
        return f"ON CLUSTER '{self.cluster}'"


class _Cursor:
    """The significant tokens (no spaces, no comments) of one statement, with the full token list to splice."""

    def __init__(self, statement: str) -> None:
        self.all = list(tokens(statement))
        self.sig = [i for i, t in enumerate(self.all) if t.kind not in ("space", "comment")]
        self.pos = 0
        self.statement = statement

    def fail(self, why: str) -> ClusterSchemaError:
        head = " ".join(self.statement.split())[:120]
        return ClusterSchemaError(f"no cluster form for this statement ({why}): {head}")

    def peek(self, ahead: int = 0) -> Token | None:
        at = self.pos + ahead
        return self.all[self.sig[at]] if at < len(self.sig) else None

    def word(self, ahead: int = 0) -> str:
        token = self.peek(ahead)
        return token.text.upper() if token is not None and token.kind == "word" else ""

    def accept(self, *keywords: str) -> bool:
        if all(self.word(i) == k for i, k in enumerate(keywords)):
            self.pos += len(keywords)
            return True
        return False

    def expect(self, *keywords: str) -> None:
        if not self.accept(*keywords):
            raise self.fail(f"expected {' '.join(keywords)}")

    def text_from(self, start: int, end: int | None = None) -> str:
        """Original text of significant tokens ``start`` .. ``end`` (exclusive; None: to the end), as written."""
        first = self.sig[start]
        last = self.sig[end - 1] if end is not None else self.sig[-1]
        return "".join(t.text for t in self.all[first : last + 1])

    def refuse_on_cluster(self) -> None:
        if self.word() == "ON" and self.word(1) == "CLUSTER":
            raise self.fail("it already says ON CLUSTER: migrations are written for a single server")

    def qualified_name(self) -> tuple[str, str]:
        """``db.name`` (each part bare or backquoted) → (db, name); the database is mandatory."""
        parts: list[str] = []
        index = self.sig[self.pos] if self.pos < len(self.sig) else len(self.all)
        text = ""
        while index < len(self.all) and self.all[index].kind in ("word", "quoted"):
            text += self.all[index].text
            index += 1
        for piece in re.findall(r"`([^`]*)`|([^.`]+)", text):
            parts.append(piece[0] or piece[1])
        if len(parts) != 2 or not all(_is_identifier(p) for p in parts):
            raise self.fail(f"expected a database-qualified table name, found {text!r}")
        while self.pos < len(self.sig) and self.sig[self.pos] < index:
            self.pos += 1
        self.refuse_on_cluster()
        return parts[0], parts[1]

    def balanced(self) -> int:
        """At ``(``: move past its matching ``)``; return the position of the ``(``."""
        start = self.pos
        depth = 0
        while self.pos < len(self.sig):
            token = self.all[self.sig[self.pos]]
            self.pos += 1
            if token == Token("punct", "("):
                depth += 1
            elif token == Token("punct", ")"):
                depth -= 1
                if depth == 0:
                    return start
        raise self.fail("unbalanced parentheses")

    def at_punct(self, char: str) -> bool:
        return self.peek() == Token("punct", char)


def _is_identifier(name: str) -> bool:
    try:
        check_identifier(name)
    except ValueError:
        return False
    return True


def _name(database: str, table: str) -> str:
    return f"`{database}`.{table}"


def _column_names(expression: str) -> set[str]:
    """Bare names in an expression that are not function calls (``cityHash64(id)`` → ``{"id"}``)."""
    toks = [t for t in tokens(expression) if t.kind not in ("space", "comment")]
    names = set()
    for i, token in enumerate(toks):
        following = toks[i + 1] if i + 1 < len(toks) else None
        if token.kind == "quoted" and token.text.startswith("`"):
            names.add(token.text[1:-1])
        elif token.kind == "word" and following != Token("punct", "(") and not token.text[0].isdigit():
            names.add(token.text)
    return names


def check_sharding_key(table: ClusterTable) -> None:
    """Raise unless a collapsing engine's sharding key only uses sorting-key columns (see module docstring)."""
    used = _column_names(table.sharding_key)
    if not used:
        raise ClusterSchemaError(f"sharding key {table.sharding_key!r} of {table.name} uses no column")
    if table.engine in _COLLAPSING and not used <= set(table.sorting_key):
        raise ClusterSchemaError(
            f"sharding key {table.sharding_key!r} of {table.name} uses {sorted(used - set(table.sorting_key))},"
            f" which are not in its sorting key {table.sorting_key}: copies of one row could land on different"
            f" shards and {table.engine} would never collapse them"
        )


def _create_table(cursor: _Cursor, schema: ClusterSchema) -> list[str]:
    if_not_exists = " IF NOT EXISTS" if cursor.accept("IF", "NOT", "EXISTS") else ""
    database, name = cursor.qualified_name()
    if name.endswith(LOCAL_SUFFIX):
        raise cursor.fail(f"table names ending in {LOCAL_SUFFIX} are reserved for the storage tables")
    if not cursor.at_punct("("):
        raise cursor.fail("only CREATE TABLE with a column list is supported")
    columns_at = cursor.balanced()
    columns = cursor.text_from(columns_at, cursor.pos)
    cursor.expect("ENGINE")
    if not cursor.at_punct("="):
        raise cursor.fail("expected ENGINE =")
    cursor.pos += 1
    engine = cursor.peek()
    if engine is None or engine.kind != "word" or engine.text not in _MERGE_TREES:
        raise cursor.fail(f"engine {engine.text if engine else None!r} is not a MergeTree-family engine")
    cursor.pos += 1
    args = ""
    if cursor.at_punct("("):
        args_at = cursor.balanced()
        args = cursor.text_from(args_at + 1, cursor.pos - 1).strip()
    clauses_at = cursor.pos
    sorting: list[str] = []
    settings_replaced = []
    while cursor.peek() is not None:
        if cursor.accept("ORDER", "BY"):
            start = cursor.pos
            while cursor.peek() is not None and cursor.word() not in _TABLE_CLAUSES:
                if cursor.at_punct("("):
                    cursor.balanced()
                else:
                    cursor.pos += 1
            sorting = sorted(_column_names(cursor.text_from(start, cursor.pos)))
        elif cursor.word() == "NON_REPLICATED_DEDUPLICATION_WINDOW":
            settings_replaced.append(cursor.sig[cursor.pos])
            cursor.pos += 1
        elif cursor.at_punct("("):
            cursor.balanced()
        else:
            cursor.pos += 1
    if not sorting:
        raise cursor.fail("a MergeTree table needs ORDER BY")
    for index in settings_replaced:
        cursor.all[index] = Token("word", "replicated_deduplication_window")
    clauses = cursor.text_from(clauses_at) if clauses_at < len(cursor.sig) else ""
    if name not in schema.sharding_keys:
        raise cursor.fail(f"no sharding key is declared for table {name!r} (add it to SHARDING_KEYS)")
    table = ClusterTable(name, engine.text, tuple(sorting), schema.sharding_keys[name])
    check_sharding_key(table)
    schema.tables[name] = table
    local = name + LOCAL_SUFFIX
    replicated_args = ", ".join(a for a in (f"'{ZOOKEEPER_PATH}'", f"'{REPLICA_NAME}'", args) if a)
    return [
        f"CREATE TABLE{if_not_exists} {_name(database, local)} {schema.on_cluster}\n{columns}\n"
        f"ENGINE = Replicated{engine.text}({replicated_args})\n{clauses}",
        f"CREATE TABLE{if_not_exists} {_name(database, name)} {schema.on_cluster}\n"
        f"AS {_name(database, local)}\n"
        f"ENGINE = Distributed('{schema.cluster}', `{database}`, {local}, {table.sharding_key})",
    ]


def _create_view(cursor: _Cursor, schema: ClusterSchema, head: str) -> list[str]:
    if_not_exists = " IF NOT EXISTS" if cursor.accept("IF", "NOT", "EXISTS") else ""
    database, name = cursor.qualified_name()
    if cursor.word() != "AS":
        raise cursor.fail("expected AS SELECT after the view's name")
    body = cursor.text_from(cursor.pos)
    return [f"{head}{if_not_exists} {_name(database, name)} {schema.on_cluster} {body}"]


def _create_materialized_view(cursor: _Cursor, schema: ClusterSchema) -> list[str]:
    if_not_exists = " IF NOT EXISTS" if cursor.accept("IF", "NOT", "EXISTS") else ""
    database, name = cursor.qualified_name()
    if not cursor.accept("TO"):
        raise cursor.fail("only materialized views with TO <table> are supported")
    target_db, target = cursor.qualified_name()
    if target not in schema.tables:
        raise cursor.fail(f"the target {target!r} is not a table created by an earlier migration")
    if cursor.at_punct("("):
        raise cursor.fail("a column list on a materialized view is not supported")
    cursor.expect("AS", "SELECT")
    select_at = cursor.pos - 1
    froms = [i for i in range(cursor.pos, len(cursor.sig)) if cursor.word(i - cursor.pos) == "FROM"]
    if len(froms) != 1 or any(cursor.word(i - cursor.pos) == "JOIN" for i in range(cursor.pos, len(cursor.sig))):
        raise cursor.fail("a materialized view must read exactly one table (one FROM, no JOIN)")
    cursor.pos = froms[0] + 1
    source_db, source = cursor.qualified_name()
    if source not in schema.tables:
        raise cursor.fail(f"the source {source!r} is not a table created by an earlier migration")
    rest = cursor.text_from(cursor.pos) if cursor.pos < len(cursor.sig) else ""
    select = cursor.text_from(select_at, froms[0] + 1)
    head = f"CREATE MATERIALIZED VIEW{if_not_exists} {_name(database, name)} {schema.on_cluster}"
    body = f"AS {select} {_name(source_db, source + LOCAL_SUFFIX)} {rest}".rstrip()
    return [f"{head}\nTO {_name(target_db, target + LOCAL_SUFFIX)}\n{body}"]


def _alter_table(cursor: _Cursor, schema: ClusterSchema) -> list[str]:
    database, name = cursor.qualified_name()
    if name not in schema.tables:
        raise cursor.fail(f"{name!r} is not a table created by an earlier migration")
    actions_at = cursor.pos
    if cursor.peek() is None:
        raise cursor.fail("ALTER TABLE without an action")
    kinds: set[str] = set()
    expect_action = True
    while cursor.peek() is not None:
        if expect_action:
            pair = (cursor.word(), cursor.word(1))
            if pair in _TABLE_ACTIONS:
                kinds.add("table")
            elif pair[0] in _COLUMN_ACTIONS and pair[1] == "COLUMN":
                kinds.add("column")
            else:
                raise cursor.fail(f"ALTER action {' '.join(pair).strip()!r} is not supported")
            expect_action = False
        if cursor.at_punct("("):
            cursor.balanced()
            continue
        if cursor.at_punct(","):
            expect_action = True
        cursor.pos += 1
    if kinds == {"column", "table"}:
        raise cursor.fail("mixing column and table actions in one ALTER is not supported; split it")
    actions = cursor.text_from(actions_at)
    targets = [name + LOCAL_SUFFIX] + ([name] if kinds == {"column"} else [])
    return [f"ALTER TABLE {_name(database, t)} {schema.on_cluster} {actions}" for t in targets]


def cluster_statements(statement: str, schema: ClusterSchema) -> list[str]:
    """The cluster form of one single-server statement (see the module docstring); updates ``schema``."""
    cursor = _Cursor(statement)
    if cursor.accept("CREATE", "TABLE"):
        return _create_table(cursor, schema)
    if cursor.accept("CREATE", "OR", "REPLACE", "VIEW"):
        return _create_view(cursor, schema, "CREATE OR REPLACE VIEW")
    if cursor.accept("CREATE", "VIEW"):
        return _create_view(cursor, schema, "CREATE VIEW")
    if cursor.accept("CREATE", "MATERIALIZED", "VIEW"):
        return _create_materialized_view(cursor, schema)
    if cursor.accept("ALTER", "TABLE"):
        return _alter_table(cursor, schema)
    raise cursor.fail("only CREATE TABLE, CREATE [OR REPLACE] VIEW, CREATE MATERIALIZED VIEW and ALTER TABLE are known")


def check_cluster_name(cluster: str) -> str:
    """``cluster`` unchanged if it is a plain identifier or a ``{macro}``, else ValueError."""
    if not _CLUSTER_NAME.fullmatch(cluster):
        raise ValueError(f"{cluster!r} is not a cluster name (a plain identifier, or a macro such as '{{cluster}}')")
    return cluster


def cluster_script(
    cluster: str,
    database: str,
    migrations: Sequence[Migration] | None = None,
    ttl_days: int | None = None,
    sharding_keys: Mapping[str, str] = SHARDING_KEYS,
) -> str:
    """The whole cluster schema as one ``;``-separated script, every statement ``ON CLUSTER '<cluster>'``.

    ``ttl_days`` adds the raw-mention TTL (on a server, ``apply_migrations`` sets it at start-up; on a cluster it
    belongs to the storage table ``mentions_local``, which the start-up sync does not know about).
    """
    schema = ClusterSchema(check_cluster_name(cluster), check_identifier(database), sharding_keys)
    wanted = load_migrations() if migrations is None else migrations
    parts = [
        f"-- luister schema for ClickHouse cluster '{cluster}', database {database} (luister schema --cluster).\n"
        "-- Generated from pipeline/storage/migrations; apply with clickhouse-client --multiquery on one node.",
        f"CREATE DATABASE IF NOT EXISTS `{database}` {schema.on_cluster};",
    ]
    for migration in wanted:
        parts.append(f"-- {migration.version:04d}_{migration.name}")
        parts.extend(s + ";" for s in _statements(migration.statements(database), schema))
    if ttl_days is not None:
        if ttl_days < 1:
            raise ValueError(f"ttl_days must be positive, not {ttl_days}")
        parts.append("-- raw-mention TTL (LUISTER_CLICKHOUSE__TTL_DAYS)")
        ttl = f"ALTER TABLE `{database}`.mentions MODIFY TTL toDateTime(created_at) + INTERVAL {ttl_days:d} DAY"
        parts.extend(s + ";" for s in cluster_statements(ttl, schema))
    return "\n\n".join(parts) + "\n"


def single_server_script(database: str, migrations: Sequence[Migration] | None = None) -> str:
    """The migrations as one script for a single server (what ``apply_migrations`` runs, without its ledger)."""
    wanted = load_migrations() if migrations is None else migrations
    parts = [f"CREATE DATABASE IF NOT EXISTS `{check_identifier(database)}`;"]
    for migration in wanted:
        parts.append(f"-- {migration.version:04d}_{migration.name}")
        parts.extend(_strip_leading_comments(s) + ";" for s in migration.statements(database))
    return "\n\n".join(parts) + "\n"


def _statements(statements: Iterable[str], schema: ClusterSchema) -> list[str]:
    return [out for statement in statements for out in cluster_statements(statement, schema)]


def _strip_leading_comments(statement: str) -> str:
    toks = list(tokens(statement))
    first = next(i for i, t in enumerate(toks) if t.kind not in ("space", "comment"))
    return "".join(t.text for t in toks[first:])
