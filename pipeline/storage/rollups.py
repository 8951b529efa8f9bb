"""Per-minute sentiment rollups, recomputed from the deduplicated raw rows (``mentions_v``), never incremented.

Why recompute instead of a materialized view: a materialized view is not atomic with its source (after a kill -9
the raw batch can be committed while the rollup misses it) and it counts every inserted copy, so a retried batch
under a new dedup token would double count. Recomputing a minute from ``mentions_v`` is idempotent: running it
twice, or after a crash, or concurrently from several workers, leaves the same answer.

How: ``sentiment_minute`` holds ONE row per minute carrying all of that minute's groups (Nested arrays), with
``version`` = the server's clock in nanoseconds when the recomputing query started. The query reads its snapshot
after taking that timestamp, so a higher version never saw less data; ReplacingMergeTree(version) plus FINAL in
``sentiment_minute_v`` keep the latest recomputation per minute, and groups that disappeared (a mention
re-enriched from negative to neutral) vanish with the older row instead of lingering as stale counts.

Minutes with no mentions left are written as empty rows, so the rollup equals ``GROUP BY`` over ``mentions_v``
for every refreshed minute, with nothing stale.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from clickhouse_connect.driver.client import Client

from pipeline.storage.rows import minute_of
from pipeline.storage.sqltext import check_identifier

MAX_CHUNK_SPAN = timedelta(days=1)
"""Minutes further apart are refreshed by separate statements, so each one reads a narrow created_at range."""
MAX_CHUNK_MINUTES = 2000

_GROUP_FIELDS = (
    "brand",
    "competitor",
    "platform",
    "lang",
    "sentiment",
    "mentions",
    "tagged",
    "likes",
    "shares",
    "replies",
    "views",
    "reach",
    "p_negative",
    "p_positive",
)
_SENTIMENT = "Enum8('negative' = -1, 'neutral' = 0, 'positive' = 1)"

_REFRESH_SQL = f"""
INSERT INTO {{db}}.sentiment_minute (minute, version, {", ".join(f"`groups.{f}`" for f in _GROUP_FIELDS)})
SELECT minute, toUInt64(toUnixTimestamp64Nano(now64(9))),
    {", ".join(f"arrayMap(g -> g.{i}, groups)" for i in range(1, len(_GROUP_FIELDS) + 1))}
FROM (
    SELECT minute, arraySort(groupArrayIf(({", ".join(_GROUP_FIELDS)}), mentions > 0)) AS groups
    FROM (
        SELECT toDateTime(m, 'UTC') AS minute, '' AS brand, false AS competitor, '' AS platform, '' AS lang,
            CAST('neutral' AS {_SENTIMENT}) AS sentiment, toUInt32(0) AS mentions, toUInt32(0) AS tagged,
            toUInt64(0) AS likes, toUInt64(0) AS shares, toUInt64(0) AS replies, toUInt64(0) AS views,
            toUInt64(0) AS reach, toFloat64(0) AS p_negative, toFloat64(0) AS p_positive
        FROM (SELECT arrayJoin({{minutes:Array(UInt32)}}) AS m)
        UNION ALL
        SELECT toStartOfMinute(created_at) AS minute, toString(b_brand) AS brand, b_competitor AS competitor,
            toString(platform) AS platform, toString(lang) AS lang, sentiment, toUInt32(count()) AS mentions,
            toUInt32(countIf(b_match_type = 'tagged')) AS tagged, sum(toUInt64(likes)) AS likes,
            sum(toUInt64(shares)) AS shares, sum(toUInt64(replies)) AS replies, sum(ifNull(views, 0)) AS views,
            sum(ifNull(author_followers, 0)) AS reach, sum(toFloat64(p_negative)) AS p_negative,
            sum(toFloat64(p_positive)) AS p_positive
        FROM {{db}}.mentions_v
        LEFT ARRAY JOIN `brands.brand` AS b_brand, `brands.match_type` AS b_match_type,
            `brands.competitor` AS b_competitor
        WHERE created_at >= fromUnixTimestamp64Milli({{lo_ms:Int64}}, 'UTC')
            AND created_at < fromUnixTimestamp64Milli({{hi_ms:Int64}}, 'UTC')
            AND has({{minutes:Array(UInt32)}}, toUInt32(toUnixTimestamp(toStartOfMinute(created_at))))
        GROUP BY minute, brand, competitor, platform, lang, sentiment
    )
    GROUP BY minute
)
"""


def _chunks(minutes: list[datetime]) -> Iterable[list[datetime]]:
    chunk: list[datetime] = []
    for minute in minutes:
        if chunk and (minute - chunk[0] > MAX_CHUNK_SPAN or len(chunk) >= MAX_CHUNK_MINUTES):
            yield chunk
            chunk = []
        chunk.append(minute)
    if chunk:
        yield chunk


def refresh_rollups(client: Client, database: str, minutes: Iterable[datetime]) -> int:
    """Recompute ``sentiment_minute`` for each given minute (any aware datetime inside it) from ``mentions_v``.

    Idempotent and safe to run concurrently with writes and with other refreshes. Returns the number of distinct
    minutes recomputed. Raises the client's exception on failure (the caller decides about retries).
    """
    distinct = sorted({minute_of(m) for m in minutes})
    sql = _REFRESH_SQL.replace("{db}", f"`{check_identifier(database)}`")
    for chunk in _chunks(distinct):
        client.command(
            sql,
            parameters={
                "minutes": [int(m.timestamp()) for m in chunk],
                "lo_ms": int(chunk[0].timestamp()) * 1000,
                "hi_ms": (int(chunk[-1].timestamp()) + 60) * 1000,
            },
        )
    return len(distinct)


def repair_rollups(client: Client, database: str, since: datetime, until: datetime | None = None) -> int:
    """Recompute every minute in ``[since, until)`` (default: until now) that has mentions or a rollup row.

    For start-up: a process killed between a write and its refresh (or rows written by another path, or a
    rollup definition that changed) heals here. Returns the number of minutes recomputed.
    """
    end = until if until is not None else datetime.now(UTC) + timedelta(minutes=1)
    db = f"`{check_identifier(database)}`"
    params = {"lo_ms": int(since.timestamp() * 1000), "hi_ms": int(end.timestamp() * 1000)}
    rows = client.query(
        f"""
        SELECT DISTINCT toUInt32(toUnixTimestamp(toStartOfMinute(created_at))) FROM {db}.mentions
        WHERE created_at >= fromUnixTimestamp64Milli({{lo_ms:Int64}}, 'UTC')
            AND created_at < fromUnixTimestamp64Milli({{hi_ms:Int64}}, 'UTC')
        UNION DISTINCT
        SELECT DISTINCT toUInt32(toUnixTimestamp(minute)) FROM {db}.sentiment_minute
        WHERE minute >= toDateTime(intDiv({{lo_ms:Int64}}, 1000), 'UTC')
            AND minute < toDateTime(intDiv({{hi_ms:Int64}}, 1000), 'UTC')
        """,
        parameters=params,
    ).result_rows
    return refresh_rollups(client, database, (datetime.fromtimestamp(r[0], UTC) for r in rows))
