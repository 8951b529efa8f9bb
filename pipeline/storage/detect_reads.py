"""The detector's input read from ClickHouse: one :class:`~pipeline.detect.buckets.Bucket` per brand × minute.

Counts come from the per-minute rollups (``sentiment_minute_v``, recomputed from the deduplicated table, so a
re-written mention never counts twice); the negative posts a bucket carries for the near-duplicate and theme
signals come from ``mentions_v`` (text and embedding), at most ``max_posts`` per brand × minute. History replayed
after a restart is read without posts (counts only): days of embeddings would not fit in memory, and the detector
treats such buckets as "no data" for the post-based signals.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta

from clickhouse_connect.driver.client import Client

from pipeline.detect.buckets import Bucket, NegativePost, PlatformCounts
from pipeline.storage.sqltext import check_identifier

MINUTE = timedelta(minutes=1)
MAX_POSTS = 200

_COUNTS_SQL = """
SELECT minute, brand, platform, sum(mentions), sumIf(mentions, sentiment = 'negative'),
    sumIf(reach + likes + shares + replies, sentiment = 'negative')
FROM {db}.sentiment_minute_v
WHERE brand != '' AND minute >= {{since:DateTime}} AND minute < {{until:DateTime}}
GROUP BY minute, brand, platform
ORDER BY minute, brand, platform
"""

_POSTS_SQL = """
SELECT toStartOfMinute(created_at) AS minute, brand, id, text, created_at, platform, author_handle, embedding, url,
    author_followers, coalesce(author_followers, 0) + likes + shares + replies, lang, intent
FROM {db}.mentions_v ARRAY JOIN `brands.brand` AS brand
WHERE sentiment = 'negative' AND brand != ''
    AND created_at >= {{since:DateTime64(3)}} AND created_at < {{until:DateTime64(3)}}
ORDER BY minute, brand, created_at, id
LIMIT {limit} BY minute, brand
"""


def minute_floor(at: datetime) -> datetime:
    return at.replace(second=0, microsecond=0)


def read_buckets(
    client: Client,
    database: str,
    since: datetime,
    until: datetime,
    *,
    brands: Iterable[str] = (),
    posts: bool = True,
    max_posts: int = MAX_POSTS,
) -> list[Bucket]:
    """Buckets for every minute in [since, until) (both whole minutes, aware) and every brand that has data in
    the range or is listed in ``brands``, in time order. A brand's minutes before its first data in the range are
    left out unless the brand is listed (a brand the detector already follows gets its quiet minutes as zeros)."""
    db = check_identifier(database)
    rows = client.query(_COUNTS_SQL.format(db=db), parameters={"since": since, "until": until}).result_rows
    totals: dict[tuple[datetime, str], list[float]] = {}
    platforms: dict[tuple[datetime, str], dict[str, PlatformCounts]] = defaultdict(dict)
    first_seen: dict[str, datetime] = {b: since for b in brands}
    for minute, brand, platform, mentions, negative, negative_reach in rows:
        minute = minute.astimezone(since.tzinfo)
        t = totals.setdefault((minute, brand), [0, 0, 0.0])
        t[0] += int(mentions)
        t[1] += int(negative)
        t[2] += float(negative_reach)
        platforms[(minute, brand)][str(platform)] = PlatformCounts(int(mentions), int(negative), float(negative_reach))
        first_seen.setdefault(brand, minute)
        first_seen[brand] = min(first_seen[brand], minute)
    negatives = _read_posts(client, db, since, until, max_posts) if posts and totals else {}
    out: list[Bucket] = []
    minute = since
    while minute < until:
        for brand in sorted(b for b, first in first_seen.items() if first <= minute):
            mentions, negative, reach = totals.get((minute, brand), (0, 0, 0.0))
            out.append(
                Bucket(
                    brand=brand,
                    start=minute,
                    mentions=int(mentions),
                    negative=int(negative),
                    negative_reach=float(reach),
                    platforms=platforms.get((minute, brand), {}),
                    negative_posts=tuple(negatives.get((minute, brand), ())),
                )
            )
        minute += MINUTE
    return out


def _read_posts(
    client: Client, db: str, since: datetime, until: datetime, limit: int
) -> dict[tuple[datetime, str], list[NegativePost]]:
    rows = client.query(
        _POSTS_SQL.format(db=db, limit=int(limit)), parameters={"since": since, "until": until}
    ).result_rows
    out: dict[tuple[datetime, str], list[NegativePost]] = defaultdict(list)
    for minute, brand, mid, text, created, platform, handle, embedding, url, followers, reach, lang, intent in rows:
        out[(minute.astimezone(since.tzinfo), brand)].append(
            NegativePost(
                mention_id=mid,
                text=text,
                created_at=created,
                platform=platform,
                author_handle=handle,
                embedding=list(embedding) or None,
                url=url,
                author_followers=followers,
                reach=int(reach),
                lang=lang,
                intent=intent,
            )
        )
    return out
