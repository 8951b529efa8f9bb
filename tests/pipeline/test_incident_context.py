"""Incident context (top posts, topics, intents, languages) read from the real embedded engine."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from clickhouse_connect.driver.client import Client

from pipeline.schema import Author, BrandMatch, Engagement, EnrichedMention, Enrichment, Mention, Sentiment
from pipeline.storage import MentionWriter
from pipeline.storage.incident_context import Window, read_context

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def row(
    n: int,
    *,
    brand: str = "acme",
    sentiment: Sentiment = "negative",
    followers: int = 10,
    likes: int = 0,
    lang: str = "nl",
    topics: tuple[str, ...] = ("delivery",),
    intent: str = "complaint",
    platform: str = "mastodon",
    minute: int = 0,
) -> EnrichedMention:
    created = T0 + timedelta(minutes=minute, seconds=n)
    mention = Mention(
        id=f"{platform}:{n}",
        source=f"{platform}:test",
        platform=platform,
        url=f"https://example.org/{n}",
        author=Author(handle=f"user{n}", followers=followers),
        text=f"post {n} " + "x" * 3000,
        created_at=created,
        fetched_at=created + timedelta(seconds=5),
        engagement=Engagement(likes=likes),
        brands=[BrandMatch(brand=brand, match_type="untagged")],
    )
    enrichment = Enrichment(
        lang=lang,
        lang_confidence=0.9,
        sentiment=sentiment,
        sentiment_scores={"negative": 0.8, "neutral": 0.1, "positive": 0.1},
        intent=intent,
        intent_score=0.7,
        topics=list(topics),
        topic_scores=[0.6] * len(topics),
        model="test",
        model_version="1",
        enriched_at=created + timedelta(seconds=7),
    )
    return EnrichedMention(mention=mention, enrichment=enrichment, ingested_at=created + timedelta(seconds=6))


def test_context_ranks_posts_by_reach_and_counts_what_they_are_about(engine: Client, engine_db: str) -> None:
    rows = [
        row(1, followers=5_000, lang="en", topics=("delivery", "price")),
        row(2, followers=100, likes=50),
        row(3, followers=10_000, intent="question", topics=("safety",)),
        row(4, followers=1_000_000, sentiment="positive"),  # not negative: not part of a negative incident
        row(5, followers=900_000, brand="rival"),  # another brand
        row(6, followers=800_000, minute=30),  # outside the window
        row(7, followers=700_000, platform="reddit"),
    ]
    MentionWriter(engine, engine_db).write(rows, "t1")
    window = Window("acme", T0, T0 + timedelta(minutes=10))
    ctx = read_context(engine, engine_db, window, posts=3)

    assert [p.mention_id for p in ctx.top_posts] == ["reddit:7", "mastodon:3", "mastodon:1"]
    top = ctx.top_posts[0]
    assert top.url == "https://example.org/7" and top.author_handle == "user7" and top.reach == 700_000
    assert top.sentiment == "negative" and top.intent == "complaint" and len(top.text) == 2_000
    assert [(c.name, c.count) for c in ctx.top_topics] == [("delivery", 3), ("price", 1), ("safety", 1)]
    assert [(c.name, c.count) for c in ctx.top_intents] == [("complaint", 3), ("question", 1)]
    assert [(c.name, c.count) for c in ctx.languages] == [("nl", 3), ("en", 1)]

    one_platform = read_context(engine, engine_db, Window("acme", T0, T0 + timedelta(minutes=10), platform="mastodon"))
    assert "reddit:7" not in {p.mention_id for p in one_platform.top_posts}
    everything = read_context(engine, engine_db, Window("acme", T0, T0 + timedelta(hours=1), negative_only=False))
    assert everything.top_posts[0].mention_id == "mastodon:4"


def test_empty_window_gives_empty_context(engine: Client, engine_db: str) -> None:
    ctx = read_context(engine, engine_db, Window("nobody", T0, T0 + timedelta(minutes=1)))
    assert ctx.top_posts == [] and ctx.top_topics == [] and ctx.languages == []
