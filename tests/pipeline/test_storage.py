"""The ClickHouse storage layer against the real embedded engine (chDB), no mocks.

Every test that takes the ``client`` fixture also runs against a real ClickHouse server when
``LUISTER_TEST_CLICKHOUSE_URL`` is set (e.g. ``http://default:@127.0.0.1:8123``), in a throw-away database.

chDB allows one engine path per process, so the embedded client is module-scoped and closed when this module
ends; other test modules may then open their own path.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from clickhouse_connect.driver._chdbclient import ChdbClient
from clickhouse_connect.driver.client import Client

from pipeline.schema import Author, BrandMatch, Engagement, EnrichedMention, Enrichment, Mention, Sentiment
from pipeline.settings import ClickHouseSettings
from pipeline.storage import (
    MentionWriter,
    MigrationError,
    QueryError,
    ReadOnlyViolation,
    StorageUnavailableError,
    WriteError,
    apply_migrations,
    count_mentions,
    open_client,
    open_database,
    refresh_rollups,
    repair_rollups,
    run_readonly,
)
from pipeline.storage.client import lock_holder, redact_url
from pipeline.storage.errors import is_permanent
from pipeline.storage.migrate import Migration, current_ttl_days, load_migrations
from pipeline.storage.query import check_readonly
from pipeline.storage.rows import COLUMN_NAMES, COLUMNS, mention_columns, merge_brands, touched_minutes
from pipeline.storage.sqltext import split_statements

SERVER_ENV = "LUISTER_TEST_CLICKHOUSE_URL"
REPO = Path(__file__).resolve().parents[2]
T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


# ---------------------------------------------------------------- fixtures


def enriched(
    n: int,
    *,
    minute: int = 0,
    sentiment: Sentiment = "negative",
    brands: tuple[tuple[str, str, bool], ...] = (("acme", "tagged", False),),
    platform: str = "mastodon",
    lang: str = "nl",
    embedding: int = 8,
) -> EnrichedMention:
    """Mention number ``n``, created ``minute`` minutes after T0 (plus n % 60 seconds), with a fixed enrichment."""
    created = T0 + timedelta(minutes=minute, seconds=n % 60, milliseconds=n % 1000)
    mention = Mention(
        id=f"{platform}:{n}",
        source=f"{platform}:test",
        platform=platform,
        url=f"https://example.org/{n}",
        author=Author(handle=f"user{n % 7}", display_name=None if n % 2 else f"User {n}", followers=10 * n),
        text=f"post {n}: waar blijft mijn pakket?",
        created_at=created,
        fetched_at=created + timedelta(seconds=5),
        engagement=Engagement(likes=n % 5, shares=1, replies=2, views=None if n % 2 else 100),
        brands=[BrandMatch.model_validate({"brand": b, "match_type": t, "competitor": c}) for b, t, c in brands],
        lang_hint=lang,
    )
    scores: dict[Sentiment, float] = {"negative": 0.25, "neutral": 0.25, "positive": 0.25}
    scores[sentiment] = 0.5
    enrichment = Enrichment(
        lang=lang,
        lang_confidence=0.75,
        sentiment=sentiment,
        sentiment_scores=scores,
        intent="complaint",
        intent_score=0.5,
        topics=["delivery", "price"],
        topic_scores=[0.5, 0.25],
        embedding=[i / 8 for i in range(embedding)] if embedding else None,
        model="e5-small",
        model_version="1",
        enriched_at=created + timedelta(seconds=7),
    )
    return EnrichedMention(mention=mention, enrichment=enrichment, ingested_at=created + timedelta(seconds=6))


def batch(first: int, count: int, **kwargs: Any) -> list[EnrichedMention]:
    """``count`` mentions numbered from ``first``, spread over minutes (10 per minute)."""
    return [enriched(n, minute=n // 10, **kwargs) for n in range(first, first + count)]


@pytest.fixture(scope="module")
def chdb_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChdbClient]:
    client = open_client(ClickHouseSettings(), tmp_path_factory.mktemp("luister-data"))
    assert isinstance(client, ChdbClient)
    yield client
    client.close()


@pytest.fixture(scope="module")
def server_client() -> Iterator[Client]:
    url = os.environ.get(SERVER_ENV)
    if not url:
        pytest.skip(f"{SERVER_ENV} is not set: no real ClickHouse server to run the contract tests against")
    client = open_client(ClickHouseSettings(url=url), Path("unused"))
    yield client
    client.close()


@pytest.fixture(params=["chdb", "server"])
def client(request: pytest.FixtureRequest) -> Client:
    backend: Client = request.getfixturevalue(f"{request.param}_client")
    return backend


@pytest.fixture
def database(client: Client) -> Iterator[str]:
    # imported here: the kill tests' child processes import this module without tests/ on their path
    from fresh_database import fresh_database

    with fresh_database(client) as name:
        yield name


def rollup(client: Client, db: str) -> Sequence[Sequence[Any]]:
    return client.query(
        f"""SELECT minute, brand, competitor, platform, lang, sentiment, mentions, tagged, likes, shares, replies,
            views, reach, round(p_negative, 4), round(p_positive, 4)
        FROM {db}.sentiment_minute_v ORDER BY ALL"""
    ).result_rows


def rollup_from_scratch(client: Client, db: str) -> Sequence[Sequence[Any]]:
    """What the rollup must equal: a plain GROUP BY over the deduplicated view, written independently here."""
    return client.query(
        f"""SELECT toStartOfMinute(created_at) AS minute, b AS brand, c AS competitor, toString(platform),
            toString(lang), sentiment, count(), countIf(t = 'tagged'), sum(likes), sum(shares), sum(replies),
            sum(ifNull(views, 0)), sum(ifNull(author_followers, 0)), round(sum(toFloat64(p_negative)), 4),
            round(sum(toFloat64(p_positive)), 4)
        FROM {db}.mentions_v LEFT ARRAY JOIN brands.brand AS b, brands.match_type AS t, brands.competitor AS c
        GROUP BY ALL ORDER BY ALL"""
    ).result_rows


# ---------------------------------------------------------------- rows (pure)


def test_rows_map_every_field_in_column_order() -> None:
    item = enriched(4, brands=(("acme", "untagged", False), ("acme", "tagged", False), ("rival", "hashtag", True)))
    columns = mention_columns([item, enriched(5, embedding=0)])
    assert len(columns) == len(COLUMNS) and all(len(c) == 2 for c in columns)
    row = {name: column[0] for name, column in zip(COLUMN_NAMES, columns, strict=True)}
    assert row["id"] == "mastodon:4" and row["author_handle"] == "user4" and row["author_display_name"] == "User 4"
    assert row["created_at"] == T0 + timedelta(seconds=4, milliseconds=4) and row["created_at"].tzinfo is not None
    assert row["brands.brand"] == ["acme", "rival"]
    assert row["brands.match_type"] == ["tagged", "hashtag"]
    assert row["brands.competitor"] == [False, True]
    assert (row["p_negative"], row["p_neutral"], row["p_positive"]) == (0.5, 0.25, 0.25)
    assert row["views"] == 100 and row["topics"] == ["delivery", "price"] and len(row["embedding"]) == 8
    odd = {name: column[1] for name, column in zip(COLUMN_NAMES, columns, strict=True)}
    assert odd["views"] is None and odd["author_display_name"] is None and odd["embedding"] == []
    assert mention_columns([]) == [[] for _ in COLUMNS]


def test_merge_brands_keeps_one_match_per_brand() -> None:
    merged = merge_brands(
        [
            BrandMatch(brand="b", match_type="untagged"),
            BrandMatch(brand="a", match_type="hashtag", competitor=True),
            BrandMatch(brand="b", match_type="hashtag"),
            BrandMatch(brand="a", match_type="untagged"),
        ]
    )
    assert [(m.brand, m.match_type, m.competitor) for m in merged] == [("b", "hashtag", False), ("a", "hashtag", True)]


def test_touched_minutes_are_distinct_utc_minutes() -> None:
    items = [enriched(1, minute=3), enriched(2, minute=0), enriched(3, minute=3)]
    assert touched_minutes(items) == [T0, T0 + timedelta(minutes=3)]
    assert all(m.tzinfo is not None for m in touched_minutes(items))


# ---------------------------------------------------------------- SQL text and the read-only guard (pure)


def test_split_statements_respects_strings_and_comments() -> None:
    script = "SELECT ';' AS a; -- a comment; with semicolons\nSELECT `x;y` /* ; */ FROM t;\n;  "
    assert split_statements(script) == ["SELECT ';' AS a", "-- a comment; with semicolons\nSELECT `x;y` /* ; */ FROM t"]


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT 1",
        "select 1;",
        "  -- why\n WITH 1 AS x SELECT x",
        "SHOW TABLES",
        "DESCRIBE TABLE mentions_v",
        "desc mentions_v",
        "EXPLAIN SELECT 1",
        "SELECT 'INSERT INTO x; DROP TABLE y' AS s",
    ],
)
def test_check_readonly_accepts_single_read_statements(sql: str) -> None:
    assert check_readonly(sql).strip().upper().startswith(("SELECT", "WITH", "SHOW", "DESC", "EXPLAIN", "--"))


@pytest.mark.parametrize(
    "sql",
    [
        "INSERT INTO mentions SELECT * FROM mentions",
        "DROP TABLE mentions",
        "/* SELECT */ DROP TABLE mentions",
        "SELECT 1; DROP TABLE mentions",
        "SELECT 1 INTO OUTFILE '/tmp/x'",
        "WITH 1 AS x INSERT INTO t SELECT x",
        "SET readonly = 0",
        "SYSTEM STOP MERGES",
        "ALTER TABLE mentions DELETE WHERE 1",
        "(SELECT 1)",
        "SELECT 'unterminated",
        "",
    ],
)
def test_check_readonly_refuses_everything_else(sql: str) -> None:
    with pytest.raises(ReadOnlyViolation):
        check_readonly(sql)


# ---------------------------------------------------------------- migrations


def test_migrations_are_idempotent_and_recorded(client: Client, database: str) -> None:
    assert apply_migrations(client, database) == []
    recorded = client.query(f"SELECT version, name FROM {database}.schema_migrations ORDER BY version").result_rows
    assert recorded == [(m.version, m.name) for m in load_migrations()]
    tables = {r[0] for r in client.query(f"SHOW TABLES FROM {database}").result_rows}
    assert {"mentions", "mentions_v", "mention_brands_v", "sentiment_minute", "sentiment_minute_v"} <= tables


def test_insert_columns_match_the_table(client: Client, database: str) -> None:
    described = {r[0]: r[1] for r in client.query(f"DESCRIBE TABLE {database}.mentions").result_rows}
    assert dict(COLUMNS) == {name: type_ for name, type_ in described.items() if name != "written_at"}


def test_edited_migration_is_refused(client: Client, database: str) -> None:
    first, *rest = load_migrations()
    edited = Migration(first.version, first.name, first.template + "\n-- edited", "0" * 64)
    with pytest.raises(MigrationError, match="edited after it was applied"):
        apply_migrations(client, database, migrations=[edited, *rest])


def test_new_migration_applies_once_and_half_applied_ones_rerun(client: Client, database: str) -> None:
    extra = Migration(
        99,
        "note",
        "CREATE TABLE IF NOT EXISTS ${database}.note (x UInt8) ENGINE = MergeTree ORDER BY x;\n"
        "ALTER TABLE ${database}.note ADD COLUMN IF NOT EXISTS y UInt8;",
        "f" * 64,
    )
    client.command(extra.statements(database)[0])  # a crash after the first statement: not recorded
    assert apply_migrations(client, database, migrations=[*load_migrations(), extra]) == [99]
    assert apply_migrations(client, database, migrations=[*load_migrations(), extra]) == []
    assert [r[0] for r in client.query(f"DESCRIBE TABLE {database}.note").result_rows] == ["x", "y"]


def test_ttl_follows_the_setting(client: Client, database: str) -> None:
    assert current_ttl_days(client, database) is None
    apply_migrations(client, database, ttl_days=30)
    assert current_ttl_days(client, database) == 30
    apply_migrations(client, database, ttl_days=7)
    assert current_ttl_days(client, database) == 7
    apply_migrations(client, database, ttl_days=None)
    assert current_ttl_days(client, database) is None


def test_database_names_cannot_inject_sql(client: Client) -> None:
    with pytest.raises(ValueError, match="not a plain identifier"):
        apply_migrations(client, "x; DROP DATABASE default")
    with pytest.raises(ValueError, match="not a plain identifier"):
        MentionWriter(client, "db`.evil")


# ---------------------------------------------------------------- writer: idempotence


def test_mentions_round_trip_through_the_view(client: Client, database: str) -> None:
    item = enriched(2, brands=(("acme", "tagged", False), ("rival", "untagged", True)))
    MentionWriter(client, database).write([item], "t-roundtrip")
    result = client.query(f"SELECT * FROM {database}.mentions_v")
    row = dict(zip(result.column_names, result.result_rows[0], strict=True))
    m, e = item.mention, item.enrichment
    assert row["id"] == m.id and row["text"] == m.text and row["url"] == m.url and row["kind"] == "post"
    assert row["created_at"] == m.created_at and row["created_at"].tzinfo is not None
    assert row["ingested_at"] == item.ingested_at and row["enriched_at"] == e.enriched_at
    assert row["author_followers"] == 20 and row["views"] == 100 and row["in_reply_to"] is None
    assert row["brands.brand"] == ["acme", "rival"] and row["brands.competitor"] == [False, True]
    assert row["sentiment"] == "negative" and row["topics"] == ["delivery", "price"]
    assert row["embedding"] == pytest.approx(e.embedding)
    brands = client.query(f"SELECT id, brand, match_type, competitor FROM {database}.mention_brands_v ORDER BY brand")
    assert brands.result_rows == [(m.id, "acme", "tagged", False), (m.id, "rival", "untagged", True)]


def test_same_token_twice_is_stored_once(client: Client, database: str) -> None:
    writer = MentionWriter(client, database)
    items = batch(0, 50)
    writer.write(items, "mentions.enriched:0:0-49")
    first_written = client.query(f"SELECT max(written_at) FROM {database}.mentions").result_rows[0][0]
    time.sleep(0.01)
    result = writer.write(items, "mentions.enriched:0:0-49")  # committed but unacknowledged: the retry
    assert result.rows == 50 and result.minutes == 5
    # Raw storage, not just the view: the retry never landed (a merge would have kept the newer written_at).
    assert count_mentions(client, database, raw=True) == 50
    assert client.query(f"SELECT max(written_at) FROM {database}.mentions").result_rows[0][0] == first_written
    assert count_mentions(client, database) == 50
    assert rollup(client, database) == rollup_from_scratch(client, database)


def test_overlapping_rewrite_under_new_token_counts_once(client: Client, database: str) -> None:
    writer = MentionWriter(client, database)
    client.command(f"SYSTEM STOP MERGES {database}.mentions")  # keep the raw duplicates visible
    writer.write(batch(0, 60), "p0:0-59")
    writer.write(batch(30, 60), "p0:30-89")  # restart with other batch boundaries: 30 mentions written twice
    assert count_mentions(client, database, raw=True) == 120
    assert count_mentions(client, database) == 90
    per_brand = client.query(f"SELECT brand, count() FROM {database}.mention_brands_v GROUP BY brand").result_rows
    assert per_brand == [("acme", 90)]
    assert rollup(client, database) == rollup_from_scratch(client, database)
    minutes = client.query(f"SELECT minute, sum(mentions) FROM {database}.sentiment_minute_v GROUP BY ALL ORDER BY ALL")
    expected = Counter(T0 + timedelta(minutes=n // 10) for n in range(90))
    assert minutes.result_rows == sorted(expected.items())


def test_rollups_group_by_brand_platform_lang_sentiment(client: Client, database: str) -> None:
    items = [
        enriched(1, brands=(("acme", "tagged", False), ("rival", "untagged", True))),
        enriched(2, sentiment="positive", platform="bluesky", lang="en"),
        enriched(3, brands=()),
        enriched(4, brands=(("acme", "hashtag", False),)),
    ]
    MentionWriter(client, database).write(items, "mixed")
    groups = client.query(
        f"SELECT brand, competitor, platform, lang, sentiment, mentions, tagged FROM {database}.sentiment_minute_v"
        " ORDER BY ALL"
    ).result_rows
    assert groups == [
        ("", False, "mastodon", "nl", "negative", 1, 0),
        ("acme", False, "bluesky", "en", "positive", 1, 1),
        ("acme", False, "mastodon", "nl", "negative", 2, 1),
        ("rival", True, "mastodon", "nl", "negative", 1, 0),
    ]
    assert rollup(client, database) == rollup_from_scratch(client, database)


def test_write_validates_its_arguments(client: Client, database: str) -> None:
    writer = MentionWriter(client, database)
    assert writer.write([], "empty").rows == 0
    with pytest.raises(ValueError, match="dedup_token"):
        writer.write(batch(0, 1), "")


def test_write_failure_is_a_typed_error(client: Client, database: str) -> None:
    with pytest.raises(WriteError) as failure:
        MentionWriter(client, f"{database}_missing").write(batch(0, 3), "t")
    assert failure.value.stage == "insert"


# ---------------------------------------------------------------- rollups: recompute, crash, repair


def test_refresh_is_idempotent(client: Client, database: str) -> None:
    MentionWriter(client, database).write(batch(0, 40), "t")
    before = rollup(client, database)
    minutes = [T0 + timedelta(minutes=k) for k in range(4)]
    assert refresh_rollups(client, database, minutes) == 4
    assert refresh_rollups(client, database, minutes + minutes) == 4
    assert rollup(client, database) == before == rollup_from_scratch(client, database)
    # One row per minute survives in the view however many recomputations are stored.
    assert client.query(f"SELECT count() FROM {database}.sentiment_minute FINAL").result_rows[0][0] == 4


def test_reenriched_mention_moves_group_without_stale_counts(client: Client, database: str) -> None:
    writer = MentionWriter(client, database)
    writer.write([enriched(1), enriched(2)], "first")
    writer.write([enriched(1, sentiment="neutral")], "re-enriched")  # same id, newer model output
    sentiments = client.query(
        f"SELECT sentiment, mentions FROM {database}.sentiment_minute_v ORDER BY sentiment"
    ).result_rows
    assert sentiments == [("negative", 1), ("neutral", 1)]
    assert rollup(client, database) == rollup_from_scratch(client, database)


def test_repair_heals_a_crash_between_insert_and_refresh(client: Client, database: str) -> None:
    writer = MentionWriter(client, database)
    writer.write(batch(0, 20), "before-crash")
    # The process dies after the raw insert of the next batch commits and before its rollup refresh runs.
    client.insert(f"{database}.mentions", mention_columns(batch(20, 30)), column_names=COLUMN_NAMES,
                  column_oriented=True)  # fmt: skip
    assert rollup(client, database) != rollup_from_scratch(client, database)
    assert repair_rollups(client, database, T0 - timedelta(hours=1), T0 + timedelta(hours=1)) == 5
    assert rollup(client, database) == rollup_from_scratch(client, database)


def test_refresh_of_an_empty_minute_clears_it(client: Client, database: str) -> None:
    MentionWriter(client, database).write(batch(0, 10), "t")
    client.command(f"TRUNCATE TABLE {database}.mentions")  # e.g. rows removed by hand
    assert repair_rollups(client, database, T0, T0 + timedelta(minutes=5)) == 1
    assert rollup(client, database) == []


def test_concurrent_writers_on_shared_minutes_leave_exact_rollups(client: Client, database: str) -> None:
    # Two workers (partitions) write interleaved mentions of the same minutes at once, each refreshing them.
    handles = [client, ChdbClient(path=client.path) if isinstance(client, ChdbClient) else client]
    errors: list[BaseException] = []

    def work(worker: int) -> None:
        writer = MentionWriter(handles[worker], database)
        try:
            for k in range(8):
                items = [enriched(n, minute=n % 3) for n in range(1000 * worker + 20 * k, 1000 * worker + 20 * k + 20)]
                writer.write(items, f"w{worker}:{k}")
        except BaseException as exc:  # surfaced by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(w,)) for w in (0, 1)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
    finally:
        if handles[1] is not client:
            handles[1].close()
    assert not errors
    assert count_mentions(client, database) == 320
    assert rollup(client, database) == rollup_from_scratch(client, database)


# ---------------------------------------------------------------- read-only queries


def test_run_readonly_returns_columns_rows_and_truncates(client: Client, database: str) -> None:
    MentionWriter(client, database).write(batch(0, 30), "t")
    result = run_readonly(client, f"SELECT id, created_at FROM {database}.mentions_v ORDER BY id", max_rows=10)
    assert result.columns == ("id", "created_at") and result.types == ("String", "DateTime64(3, 'UTC')")
    assert len(result.rows) == 10 and result.truncated
    counted = run_readonly(client, f"SELECT count() FROM {database}.mentions_v WHERE id != {{x:String}}", {"x": "?"})
    assert counted.rows == [(30,)] and not counted.truncated
    assert run_readonly(client, f"SHOW TABLES FROM {database}").rows
    assert run_readonly(client, f"DESCRIBE TABLE {database}.mentions_v").rows
    assert run_readonly(client, f"EXPLAIN SELECT * FROM {database}.mentions_v").rows


def test_run_readonly_refuses_writes_before_and_inside_the_engine(client: Client, database: str) -> None:
    for sql in (f"INSERT INTO {database}.mentions (id) VALUES ('x')", f"DROP TABLE {database}.mentions"):
        with pytest.raises(ReadOnlyViolation):
            run_readonly(client, sql)
    # Statements the text guard lets through still run with readonly=1: no table functions, no setting changes.
    with pytest.raises(QueryError, match=r"(?i)readonly"):
        run_readonly(client, "SELECT * FROM file('/etc/hostname', 'LineAsString')")
    with pytest.raises(QueryError, match=r"(?i)readonly"):
        run_readonly(client, "SELECT 1 SETTINGS readonly = 0")
    with pytest.raises(QueryError):
        run_readonly(client, "SELECT * FROM no_such_table_anywhere")
    # The writer's client is still writable afterwards (chDB: refused queries ran on their own handle).
    assert MentionWriter(client, database).write(batch(0, 5), "after").rows == 5
    assert count_mentions(client, database) == 5


def test_run_readonly_resolves_names_in_the_given_or_client_database(client: Client, database: str) -> None:
    previous = client.database
    assert run_readonly(client, "SELECT count() FROM mentions_v", database=database).rows == [(0,)]
    assert client.database == previous
    client.database = database
    try:
        assert run_readonly(client, "SELECT count() FROM mentions_v").rows == [(0,)]
    finally:
        client.database = previous


# ---------------------------------------------------------------- opening the embedded engine (chDB only)


def test_second_process_gets_a_clear_lock_error(chdb_client: ChdbClient) -> None:
    data_dir = Path(chdb_client.path).parent
    child = f"""
from pathlib import Path
from pipeline.settings import ClickHouseSettings
from pipeline.storage import StorageUnavailableError, open_client
try:
    open_client(ClickHouseSettings(), Path({str(data_dir)!r}))
except StorageUnavailableError as exc:
    print("REFUSED", exc)
"""
    result = subprocess.run([sys.executable, "-c", child], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert f"REFUSED another luister process (pid {os.getpid()}) holds {chdb_client.path}" in result.stdout, result
    assert "luister sql" in result.stdout
    assert lock_holder(Path(chdb_client.path)) == f"pid {os.getpid()}"  # a probe from the holder conflicts too


def test_second_path_in_one_process_is_refused_clearly(chdb_client: ChdbClient, tmp_path: Path) -> None:
    with pytest.raises(StorageUnavailableError, match="already has the embedded engine open at"):
        open_client(ClickHouseSettings(), tmp_path)


def test_open_database_migrates_sets_default_and_repairs(chdb_client: ChdbClient) -> None:
    name = f"luister_test_{uuid.uuid4().hex[:12]}"
    settings = ClickHouseSettings(database=name, ttl_days=90)
    client = open_database(settings, Path(chdb_client.path).parent)  # the engine this process already runs
    try:
        assert client.database == name and current_ttl_days(client, name) == 90
        MentionWriter(client, name).write([enriched(1)], "t")
        assert run_readonly(client, "SELECT count() FROM mentions_v").rows == [(1,)]
    finally:
        client.command(f"DROP DATABASE IF EXISTS {name}")
        client.close()


def test_unreachable_server_is_reported_without_password() -> None:
    with pytest.raises(StorageUnavailableError) as failure:
        open_client(ClickHouseSettings(url="http://luister:s3cret@127.0.0.1:1"), Path("unused"))
    assert "127.0.0.1:1" in str(failure.value) and "s3cret" not in str(failure.value)
    assert redact_url("https://u:p@h:8443/db") == "https://u:***@h:8443/db"


# ---------------------------------------------------------------- kill -9 and throughput (subprocesses, slow)

_CHILD_PRELUDE = """
import json, sys
from datetime import UTC, datetime
from pathlib import Path
sys.path.insert(0, {tests!r})
from test_storage import batch
from pipeline.settings import ClickHouseSettings
from pipeline.storage import MentionWriter, count_mentions, open_database
client = open_database(ClickHouseSettings(), Path({data_dir!r}), repair_hours=24 * 365 * 10)
writer = MentionWriter(client, "luister")
"""


def _child(data_dir: Path, body: str) -> str:
    prelude = _CHILD_PRELUDE.format(tests=str(Path(__file__).parent), data_dir=str(data_dir))
    return prelude + textwrap.dedent(body)


@pytest.mark.slow
def test_kill_9_during_writes_then_restart_retry_is_exact(tmp_path: Path) -> None:
    writer_code = _child(
        tmp_path,
        """
        print("ready", flush=True)
        for k in range(1000):
            writer.write(batch(100 * k, 100), f"t{k}")
            print(k, flush=True)
        """,
    )
    proc = subprocess.Popen([sys.executable, "-c", writer_code], cwd=REPO, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    acknowledged = -1
    for line in proc.stdout:
        if line.strip().isdigit():
            acknowledged = int(line)
            if acknowledged >= 12:
                break
    proc.send_signal(signal.SIGKILL)
    rest = proc.stdout.read()  # the child may have acknowledged more batches before the signal landed
    proc.wait(timeout=30)
    acknowledged = max([acknowledged, *(int(x) for x in rest.split() if x.isdigit())])
    # Restart: start-up repair, then replay from the last acknowledged batch with the same tokens (as a worker
    # that had committed offsets up to `acknowledged` would), plus the same mentions under new batch boundaries.
    verify_code = _child(
        tmp_path,
        f"""
        for k in range({acknowledged + 1}, {acknowledged + 4}):
            writer.write(batch(100 * k, 100), f"t{{k}}")
        writer.write(batch(0, 250), "replay-other-boundaries")
        db = "luister"
        rollup = client.query(f"SELECT sum(mentions) FROM {{db}}.sentiment_minute_v").result_rows[0][0]
        scratch = client.query(f"SELECT count() FROM {{db}}.mentions_v").result_rows[0][0]
        print(json.dumps({{"distinct": count_mentions(client, db), "rollup": rollup, "scratch": scratch}}))
        """,
    )
    result = subprocess.run([sys.executable, "-c", verify_code], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    counts = json.loads(result.stdout.strip().splitlines()[-1])
    expected = 100 * (acknowledged + 4)
    assert counts == {"distinct": expected, "rollup": expected, "scratch": expected}


@pytest.mark.slow
def test_print_insert_throughput_for_10k_batches(tmp_path: Path) -> None:
    """Not a timed assertion: prints rows/s of ``MentionWriter.write`` (insert + rollup refresh) on chDB."""
    code = _child(
        tmp_path,
        """
        from test_storage import enriched
        for embedding in (384, 0):  # e5-small's 384 floats per mention, and none
            batches = [[enriched(n, minute=n // 1000, embedding=embedding, platform=f"p{embedding}")
                        for n in range(10_000 * k, 10_000 * (k + 1))] for k in range(3)]  # 10 minutes per batch
            for k, items in enumerate(batches):
                r = writer.write(items, f"bench-{embedding}-{k}")
                print(f"embedding={embedding} rows=10000 insert={r.insert_s:.3f}s rollup={r.rollup_s:.3f}s "
                      f"minutes={r.minutes} -> {10_000 / r.duration_s:,.0f} rows/s")
        """,
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    print(result.stdout)


def test_refused_rows_are_permanent_and_outages_are_not(client: Client, database: str) -> None:
    """A batch over ``max_partitions_per_insert_block`` (one month each) is refused for what it holds: permanent,
    and each half of it is accepted. Disk and network errors stay transient."""
    writer = MentionWriter(client, database)
    months = [enriched(n, minute=n * 31 * 24 * 60) for n in range(110)]
    with pytest.raises(WriteError) as refused:
        writer.write(months, "months")
    assert refused.value.permanent, refused.value
    writer.write(months[:55], "months/a")
    writer.write(months[55:], "months/b")
    assert count_mentions(client, database) == 110

    assert is_permanent(refused.value)
    outage = WriteError("insert failed", "insert")
    outage.__cause__ = OSError(27, "File too large")
    assert not is_permanent(outage)
    assert not is_permanent(ConnectionRefusedError("refused"))
    assert is_permanent(OverflowError("int too big to convert"))
    assert not is_permanent(RuntimeError("Code: 252. DB::Exception: Too many parts (300). Merges are processing"))
