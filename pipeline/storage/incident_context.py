"""What an incident is about, read from ClickHouse: the posts, topics, intents and languages behind a time window.

The detector decides *that* something is wrong from counts; a human needs to see *what*: the highest-reach posts
with links, and what the window's mentions are mostly about. One function per question, each a single query on
``mention_brands_v`` (deduplicated, one row per mention × brand), so a re-written mention never shows twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from clickhouse_connect.driver.client import Client

from pipeline.incidents import Count, ExamplePost
from pipeline.storage.sqltext import check_identifier

TEXT_CHARS = 2_000


@dataclass(frozen=True)
class Window:
    """Mentions of ``brand`` created in [since, until), optionally one platform, optionally negative ones only."""

    brand: str
    since: datetime
    until: datetime
    platform: str | None = None
    negative_only: bool = True

    def where(self) -> tuple[str, dict[str, object]]:
        clauses = [
            "brand = {brand:String}",
            "created_at >= {since:DateTime64(3)}",
            "created_at < {until:DateTime64(3)}",
        ]
        params: dict[str, object] = {"brand": self.brand, "since": self.since, "until": self.until}
        if self.platform is not None:
            clauses.append("platform = {platform:String}")
            params["platform"] = self.platform
        if self.negative_only:
            clauses.append("sentiment = 'negative'")
        return " AND ".join(clauses), params


@dataclass(frozen=True)
class Context:
    top_posts: list[ExamplePost] = field(default_factory=list)
    top_topics: list[Count] = field(default_factory=list)
    top_intents: list[Count] = field(default_factory=list)
    languages: list[Count] = field(default_factory=list)


def read_context(client: Client, database: str, window: Window, posts: int = 5, counts: int = 5) -> Context:
    db = check_identifier(database)
    where, params = window.where()
    reach = "coalesce(author_followers, 0) + likes + shares + replies"
    post_rows = client.query(
        f"SELECT id, platform, url, author_handle, author_followers, substring(text, 1, {TEXT_CHARS}), created_at,"
        f" lang, toString(sentiment), intent, {reach} AS reach"
        f" FROM {db}.mention_brands_v WHERE {where} ORDER BY reach DESC, created_at, id LIMIT {int(posts)}",
        parameters=params,
    ).result_rows
    top_posts = [
        ExamplePost(
            mention_id=r[0],
            platform=r[1],
            url=r[2],
            author_handle=r[3],
            author_followers=r[4],
            text=r[5],
            created_at=r[6],
            lang=r[7],
            sentiment=r[8],
            intent=r[9],
            reach=int(r[10]),
        )
        for r in post_rows
    ]

    def top(expr: str, array: bool = False) -> list[Count]:
        source = f"arrayJoin({expr})" if array else expr
        rows = client.query(
            f"SELECT {source} AS name, count() AS n FROM {db}.mention_brands_v WHERE {where}"
            f" GROUP BY name HAVING name != '' ORDER BY n DESC, name LIMIT {int(counts)}",
            parameters=params,
        ).result_rows
        return [Count(name=str(name), count=int(n)) for name, n in rows]

    return Context(top_posts, top("topics", array=True), top("intent"), top("lang"))
