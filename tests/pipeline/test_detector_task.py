"""The detector's runtime against the real embedded engine: rollups → buckets → detector → incident with context.

Three days of quiet, seasonal-free traffic for one brand are written through the real writer (so the rollups are
the pipeline's own), then a burst of negative posts: the still-filling minute opens an incident early (peek),
with the burst's posts as context; a fresh runtime (a restarted worker) replays the history and re-derives the
same event ids (which delivery drops), never new ones.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from clickhouse_connect.driver.client import Client
from prometheus_client import CollectorRegistry

from pipeline.detector_task import DetectorMetrics, DetectorRuntime
from pipeline.schema import Author, BrandMatch, EnrichedMention, Enrichment, Mention, Sentiment
from pipeline.settings import ClickHouseSettings, DetectSettings
from pipeline.storage import MentionWriter, apply_migrations, open_client
from pipeline.storage.detect_reads import read_buckets

NOW = datetime(2026, 11, 20, 12, 0, 30, tzinfo=UTC)
DAYS = 3


def row(n: int, created: datetime, sentiment: Sentiment, followers: int = 10) -> EnrichedMention:
    mention = Mention(
        id=f"mastodon:{n}",
        source="mastodon:test",
        platform="mastodon",
        url=f"https://example.org/{n}",
        author=Author(handle=f"user{n % 50}", followers=followers),
        text=f"post {n} about acme" if sentiment != "negative" else f"acme battery burnt down my shed, post {n}",
        created_at=created,
        fetched_at=created + timedelta(seconds=2),
        brands=[BrandMatch(brand="acme", match_type="untagged")],
    )
    enrichment = Enrichment(
        lang="nl",
        lang_confidence=0.9,
        sentiment=sentiment,
        sentiment_scores={"negative": 0.8, "neutral": 0.1, "positive": 0.1},
        intent="complaint" if sentiment == "negative" else "other",
        intent_score=0.7,
        topics=["safety"] if sentiment == "negative" else [],
        topic_scores=[0.6] if sentiment == "negative" else [],
        model="test",
        model_version="1",
        enriched_at=created + timedelta(seconds=3),
    )
    return EnrichedMention(mention=mention, enrichment=enrichment, ingested_at=created + timedelta(seconds=2))


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Client]:
    c = open_client(ClickHouseSettings(), Path(tmp_path_factory.mktemp("luister-data")))
    yield c
    c.close()


@pytest.fixture(scope="module")
def database(client: Client) -> Iterator[str]:
    """Three quiet days (about 4 mentions a minute, a quarter negative), then a burst in the current minute."""
    name = f"luister_test_{uuid.uuid4().hex[:12]}"
    apply_migrations(client, name)
    rng = random.Random(7)
    rows: list[EnrichedMention] = []
    start = (NOW - timedelta(days=DAYS)).replace(second=0)
    minute = start
    n = 0
    while minute < NOW.replace(second=0):
        for _ in range(rng.choice((2, 3, 4, 4, 5, 6))):
            n += 1
            rows.append(row(n, minute + timedelta(seconds=rng.randrange(60)), "negative" if n % 4 == 0 else "neutral"))
        minute += timedelta(minutes=1)
    writer = MentionWriter(client, name)
    for i in range(0, len(rows), 5000):
        writer.write(rows[i : i + 5000], f"history-{i}")
    burst = [
        row(10_000_000 + i, NOW.replace(second=0) + timedelta(seconds=i % 30), "negative", followers=1000 * i)
        for i in range(60)
    ]
    writer.write(burst, "burst")
    yield name
    client.command(f"DROP DATABASE IF EXISTS {name}")


def runtime(client: Client, database: str) -> DetectorRuntime:
    return DetectorRuntime(
        client,
        database,
        DetectSettings(history_days=DAYS + 1, lateness_s=120),
        DetectorMetrics(CollectorRegistry()),
        dashboard_url="https://grafana.example/d/wall",
    )


def test_buckets_follow_the_rollups_with_zero_minutes(client: Client, database: str) -> None:
    since = NOW.replace(second=0) - timedelta(minutes=3)
    buckets = read_buckets(client, database, since, NOW.replace(second=0) + timedelta(minutes=1), brands=["acme"])
    assert [b.start for b in buckets] == [since + timedelta(minutes=i) for i in range(4)]
    last = buckets[-1]
    assert last.mentions == 60 and last.negative == 60 and last.platforms["mastodon"].negative == 60
    assert len(last.negative_posts) == 60 and last.negative_posts[0].text.startswith("acme battery")
    assert sum(b.mentions for b in buckets[:-1]) > 0


def test_a_burst_opens_an_incident_early_with_context_and_a_restart_does_not_resend_it(
    client: Client, database: str
) -> None:
    first = runtime(client, database)
    events = first.step(NOW)
    opened = [e for e in events if e.stage == "opened" and e.brand == "acme"]
    assert opened, f"no incident from a 60-negative burst over ~1/min of negatives: {events}"
    negative = [e for e in opened if e.signal in ("negative_volume", "reach_negativity")]
    assert negative, [e.signal for e in opened]
    e = negative[0]
    assert e.observed > e.expected and e.dashboard_url == "https://grafana.example/d/wall"
    assert e.top_posts and e.top_posts[0].mention_id == "mastodon:10000059"  # highest reach first
    assert [(c.name, c.count) for c in e.top_intents][:1] == [("complaint", 60)]

    again = first.step(NOW + timedelta(seconds=5))
    assert not [x for x in again if x.stage == "opened" and x.incident_id == e.incident_id], "opened twice"

    # A restarted worker replays the completed minutes and peeks at the open one again: what it emits about this
    # incident carries ids already emitted, so incident_events and the Slack ledger (keyed by event id) drop it.
    restarted = runtime(client, database)
    later = restarted.step(NOW + timedelta(seconds=10))
    sent = {x.event_id for x in events + again}
    assert {x.event_id for x in later if x.incident_id == e.incident_id} <= sent
