"""Every SQL panel query, rendered as the wall page renders it, on the embedded engine over the demo data set.

Each query must run through the read-only SQL path (``run_readonly``, what the SQL endpoint uses), return its
declared columns and rows, and agree with the same figure computed in Python from the mention records that were
written (``tests/demo_dataset.py``): the definitions are checked, not just the syntax.
"""

from __future__ import annotations

import itertools
import math
import re
import statistics
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from typing import Any

import pytest
from clickhouse_connect.driver.client import Client
from demo_dataset import DemoDataset, demo_database

from dashboards.panels import SQL_QUERIES, SqlPanelQuery, TimeRange, render, sql_query
from dashboards.panels import webcare as wc
from pipeline.schema import Mention
from pipeline.storage import run_readonly
from pipeline.storage.query import QueryResult

DB = "luister"
INTERVAL_S = 3600
INCIDENT_VIEW = "incidents_v"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Client, DemoDataset]]:
    with demo_database(tmp_path_factory.mktemp("panels")) as opened:
        yield opened


@pytest.fixture(scope="module")
def client(demo: tuple[Client, DemoDataset]) -> Client:
    return demo[0]


@pytest.fixture(scope="module")
def data(demo: tuple[Client, DemoDataset]) -> DemoDataset:
    return demo[1]


def last_day(data: DemoDataset) -> TimeRange:
    return TimeRange(data.end - timedelta(hours=24), data.end)


def run(client: Client, query: SqlPanelQuery, window: TimeRange, brand: str, database: str = DB) -> QueryResult:
    sql = render(query.sql, window, {"brand": brand}, interval_s=INTERVAL_S)
    result = run_readonly(client, sql, database=database)
    # chDB's client reports no column names for an empty result (a server does): check them when rows came.
    assert result.columns == query.columns or not result.rows, query.name
    assert not result.truncated
    return result


def rows(result: QueryResult) -> list[dict[str, Any]]:
    return [dict(zip(result.columns, row, strict=True)) for row in result.rows]


def minute(at: datetime) -> datetime:
    return at.replace(second=0, microsecond=0)


def brand_mentions(data: DemoDataset, brand: str, window: TimeRange, *, by_minute: bool) -> list[Mention]:
    """Mentions naming ``brand`` inside ``window``: by their minute (rollup panels) or their exact time."""

    def inside(m: Mention) -> bool:
        at = minute(m.created_at) if by_minute else m.created_at
        return window.start <= at <= window.end

    return [m for m in data.mentions if inside(m) and any(b.brand == brand for b in m.brands)]


# ---------------------------------------------------------------- every query


MENTION_QUERIES = [q for q in SQL_QUERIES if INCIDENT_VIEW not in q.reads]


@pytest.mark.parametrize("query", SQL_QUERIES, ids=lambda q: q.name)
def test_every_query_runs_and_returns_rows(client: Client, data: DemoDataset, query: SqlPanelQuery) -> None:
    result = run(client, query, last_day(data), data.brand)
    assert result.rows, f"{query.name} returned no rows over the demo data"
    for row in rows(result):
        for column, value in row.items():
            if isinstance(value, float):
                assert not math.isnan(value), f"{query.name}.{column} is NaN"


@pytest.mark.parametrize("query", SQL_QUERIES, ids=lambda q: q.name)
def test_an_unknown_brand_gives_no_numbers(client: Client, data: DemoDataset, query: SqlPanelQuery) -> None:
    """A brand with no mentions (quotes and backslash included) yields nothing or zeros, never an error."""
    result = run(client, query, last_day(data), "Nobody's \\ brand")
    if query.name in ("wall.brands", "wall.share_of_voice", "wall.share_of_voice_over_time"):
        assert all(row[0] != "Nobody's \\ brand" for row in result.rows)
    elif query.name == "wall.volume_by_sentiment":
        assert all(row[1:] == (0, 0, 0) for row in result.rows)
    elif query.name in ("wall.headline", "webcare.summary"):
        assert len(result.rows) == 1
        assert result.rows[0][0] == 0
    else:
        assert result.rows == []


def test_queries_declare_what_they_read() -> None:
    for query in SQL_QUERIES:
        used = set(re.findall(r"\b(?:FROM|JOIN)\s+([a-z_]+)\b", query.sql))
        ctes = set(re.findall(r"\b([a-z_]+) AS \(", query.sql))
        assert used - ctes == set(query.reads), query.name


# ---------------------------------------------------------------- the wall


def test_headline_counts_the_brands_mentions(client: Client, data: DemoDataset) -> None:
    window = last_day(data)
    mentions = brand_mentions(data, data.brand, window, by_minute=True)
    negative = [m for m in mentions if data.truth[m.id].sentiment == "negative"]
    (row,) = rows(run(client, sql_query("wall.headline"), window, data.brand))
    assert row["mentions"] == len(mentions)
    assert row["negative"] == len(negative)
    assert row["negative_share"] == pytest.approx(len(negative) / len(mentions))
    reach = sum(
        (m.author.followers or 0) + m.engagement.likes + m.engagement.shares + m.engagement.replies for m in mentions
    )
    assert row["reach"] == reach


def test_volume_by_sentiment_fills_every_interval(client: Client, data: DemoDataset) -> None:
    window = last_day(data)
    result = rows(run(client, sql_query("wall.volume_by_sentiment"), window, data.brand))
    times = [r["time"] for r in result]
    assert times == sorted(times)
    # WITH FILL covers the whole range (its TO is exclusive: the last bucket starts within one interval of the end).
    assert times[0] == window.start
    assert window.end - timedelta(seconds=INTERVAL_S) <= times[-1] < window.end
    assert all(b - a == timedelta(seconds=INTERVAL_S) for a, b in itertools.pairwise(times))
    mentions = brand_mentions(data, data.brand, window, by_minute=True)
    expected = Counter(data.truth[m.id].sentiment for m in mentions)
    for sentiment in ("negative", "neutral", "positive"):
        assert sum(r[sentiment] for r in result) == expected[sentiment]


def test_negative_share_band_flags_the_crisis(client: Client, data: DemoDataset) -> None:
    result = rows(run(client, sql_query("wall.negative_share_band"), last_day(data), data.brand))
    assert len(result) == 24
    for row in result:
        assert 0 <= row["negative_share"] <= 1
        # Eight days of history: every hour of the last day has a band.
        assert row["baseline_low"] is not None and row["baseline_high"] is not None
        assert 0 <= row["baseline_low"] <= row["baseline_high"] <= 1
    quiet = [r for r in result if r["time"] < data.end - timedelta(hours=3)]
    inside = [r for r in quiet if r["baseline_low"] <= r["negative_share"] <= r["baseline_high"]]
    assert len(inside) >= len(quiet) / 2, "a 10-90% band should hold most quiet hours"
    crisis = [r for r in result if r["time"] >= data.crisis_start]
    assert crisis and all(r["negative_share"] > r["baseline_high"] for r in crisis)


def test_negative_share_band_is_the_same_hours_trailing_quantiles(client: Client, data: DemoDataset) -> None:
    """The band of one hour, recomputed in Python from the raw mentions of the same hour on the 7 days before."""
    hour = data.end - timedelta(hours=5)
    window = TimeRange(hour, hour + timedelta(minutes=59))
    (row,) = rows(run(client, sql_query("wall.negative_share_band"), window, data.brand))
    shares = []
    for days in range(1, 8):
        start = hour - timedelta(days=days)
        same = brand_mentions(data, data.brand, TimeRange(start, start + timedelta(minutes=59)), by_minute=True)
        if len(same) >= 5:
            shares.append(sum(data.truth[m.id].sentiment == "negative" for m in same) / len(same))
    ordered = sorted(shares)
    # quantileExact(q) is the element at floor(q * n) of the sorted values.
    assert row["baseline_low"] == pytest.approx(ordered[int(0.1 * len(ordered))])
    assert row["baseline_high"] == pytest.approx(ordered[int(0.9 * len(ordered))])


def test_share_of_voice_sums_to_one_over_the_competitive_set(client: Client, data: DemoDataset) -> None:
    window = last_day(data)
    result = rows(run(client, sql_query("wall.share_of_voice"), window, data.brand))
    assert {r["brand"]: r["is_competitor"] for r in result} == {"Veloxa": False, "Trekko": True, "Vonk": True}
    assert sum(r["share"] for r in result) == pytest.approx(1.0)
    for r in result:
        assert r["brand_mentions"] == len(brand_mentions(data, r["brand"], window, by_minute=True))
    assert result[0]["brand"] == "Veloxa"


def test_share_of_voice_over_time_sums_to_one_per_interval(client: Client, data: DemoDataset) -> None:
    result = rows(run(client, sql_query("wall.share_of_voice_over_time"), last_day(data), data.brand))
    per_time: dict[datetime, float] = defaultdict(float)
    for r in result:
        per_time[r["time"]] += r["share"]
    assert len(per_time) == 24
    assert all(total == pytest.approx(1.0) for total in per_time.values())


def test_top_topics_and_intents_match_the_mentions(client: Client, data: DemoDataset) -> None:
    window = last_day(data)
    mentions = brand_mentions(data, data.brand, window, by_minute=False)
    topics = Counter(t for m in mentions for t in data.truth[m.id].topics)
    result = rows(run(client, sql_query("wall.top_topics"), window, data.brand))
    expected = sorted(topics.items(), key=lambda kv: (-kv[1], kv[0]))[:10]
    assert [(r["topic"], r["topic_mentions"]) for r in result] == expected
    for r in result:
        negative = sum(
            1 for m in mentions if r["topic"] in data.truth[m.id].topics and data.truth[m.id].sentiment == "negative"
        )
        assert r["negative_share"] == pytest.approx(negative / r["topic_mentions"])
    intents = rows(run(client, sql_query("wall.top_intents"), window, data.brand))
    assert {r["intent"]: r["intent_mentions"] for r in intents} == Counter(data.truth[m.id].intent for m in mentions)
    assert sum(r["share"] for r in intents) == pytest.approx(1.0)


def test_high_reach_negative_posts(client: Client, data: DemoDataset) -> None:
    window = last_day(data)
    result = rows(run(client, sql_query("wall.high_reach_negative"), window, data.brand))
    candidates = [
        m
        for m in brand_mentions(data, data.brand, window, by_minute=False)
        if data.truth[m.id].sentiment == "negative" and not m.author_is_brand
    ]
    reach = sorted(
        (
            (m.author.followers or 0) + m.engagement.likes + m.engagement.shares + m.engagement.replies
            for m in candidates
        ),
        reverse=True,
    )
    assert [r["reach"] for r in result] == reach[:10]
    by_url = {m.url: m for m in candidates}
    for r in result:
        assert r["url"] in by_url
        assert window.start <= r["created_at"] <= window.end
        assert len(r["excerpt"]) <= 280


@pytest.mark.parametrize(("name", "field"), [("wall.languages", "lang"), ("wall.platforms", "platform")])
def test_languages_and_platforms_share(client: Client, data: DemoDataset, name: str, field: str) -> None:
    window = last_day(data)
    mentions = brand_mentions(data, data.brand, window, by_minute=True)
    expected = Counter(data.truth[m.id].lang if field == "lang" else m.platform for m in mentions)
    result = rows(run(client, sql_query(name), window, data.brand))
    assert {r[field]: r[result_columns(name)[1]] for r in result} == expected
    assert sum(r["share"] for r in result) == pytest.approx(1.0)


def result_columns(name: str) -> tuple[str, ...]:
    return sql_query(name).columns


def test_brand_selector_lists_own_brands_first(client: Client, data: DemoDataset) -> None:
    result = run(client, sql_query("wall.brands"), last_day(data), data.brand)
    assert [r[0] for r in result.rows] == ["Veloxa", "Trekko", "Vonk"]


# ---------------------------------------------------------------- webcare


def inbound_and_answers(data: DemoDataset, window: TimeRange) -> tuple[list[Mention], dict[str, datetime]]:
    """The webcare definitions of dashboards/panels/webcare.py, in Python."""
    brand = data.brand
    inbound = [
        m
        for m in brand_mentions(data, brand, window, by_minute=False)
        if any(b.brand == brand and b.match_type == "tagged" and not b.competitor for b in m.brands)
        and not m.author_is_brand
        and m.kind != "article"
        and data.truth[m.id].intent in ("question", "complaint")
    ]
    first: dict[str, datetime] = {}
    for m in data.mentions:
        if (
            m.author_is_brand
            and m.in_reply_to
            and m.created_at >= window.start
            and any(b.brand == brand for b in m.brands)
        ):
            first[m.in_reply_to] = min(first.get(m.in_reply_to, m.created_at), m.created_at)
    return inbound, first


def response_seconds(inbound: Sequence[Mention], first: dict[str, datetime]) -> list[float]:
    return [max((first[m.id] - m.created_at).total_seconds(), 0.0) for m in inbound if m.id in first]


def test_webcare_summary_matches_the_definitions(client: Client, data: DemoDataset) -> None:
    window = last_day(data)
    inbound, first = inbound_and_answers(data, window)
    seconds = sorted(response_seconds(inbound, first))
    (row,) = rows(run(client, wc.summary, window, data.brand))
    assert row["inbound"] == len(inbound) > 0
    assert row["answered_count"] == len(seconds) > 0
    assert row["unanswered"] == len(inbound) - len(seconds)
    assert 0 < row["response_rate"] < 1
    assert row["response_rate"] == pytest.approx(len(seconds) / len(inbound))
    assert row["median_response_s"] == pytest.approx(seconds[len(seconds) // 2], abs=0.001)
    assert 0 <= row["median_response_s"] <= row["p90_response_s"]


def test_webcare_unanswered_is_exactly_what_no_brand_account_answered(client: Client, data: DemoDataset) -> None:
    window = last_day(data)
    inbound, first = inbound_and_answers(data, window)
    waiting = sorted((m for m in inbound if m.id not in first), key=lambda m: (m.created_at, m.id))[:200]
    result = rows(run(client, wc.unanswered, window, data.brand))
    assert [r["url"] for r in result] == [m.url for m in waiting]
    for r in result:
        assert r["intent"] in ("question", "complaint")
        assert r["waiting_s"] >= 0
        assert r["waiting_s"] == pytest.approx((window.end - r["created_at"]).total_seconds(), abs=1)


def test_webcare_by_channel_and_hour(client: Client, data: DemoDataset) -> None:
    window = last_day(data)
    inbound, first = inbound_and_answers(data, window)
    channels = rows(run(client, wc.by_channel, window, data.brand))
    per_platform = Counter(m.platform for m in inbound)
    assert {r["platform"]: r["inbound"] for r in channels} == per_platform
    for r in channels:
        answered = [m for m in inbound if m.platform == r["platform"] and m.id in first]
        assert r["answered_count"] == len(answered)
        assert 0 <= r["response_rate"] <= 1
        if answered:
            assert 0 <= r["median_response_s"] <= r["p90_response_s"]
            assert r["median_response_s"] == pytest.approx(
                sorted(response_seconds(answered, first))[len(answered) // 2], abs=0.001
            )
    hours = rows(run(client, wc.by_hour, window, data.brand))
    assert sum(r["inbound"] for r in hours) == len(inbound)
    assert [r["time"] for r in hours] == sorted(r["time"] for r in hours)
    of_day = rows(run(client, wc.by_hour_of_day, window, data.brand))
    assert {r["hour_of_day"] for r in of_day} <= set(range(24))
    assert (
        sum(r["answered_count"] for r in of_day)
        == sum(r["answered_count"] for r in hours)
        == len(response_seconds(inbound, first))
    )
    assert statistics.fmean(r["response_rate"] for r in of_day) <= 1


# ---------------------------------------------------------------- incidents


def test_open_incidents_and_emerging_themes(client: Client, data: DemoDataset) -> None:
    window = last_day(data)
    open_ = rows(run(client, sql_query("wall.open_incidents"), window, data.brand))
    assert [(r["incident_id"], r["stage"], r["severity"]) for r in open_] == [
        ("demo-theme", "opened", "high"),
        ("demo-negative-share", "escalated", "critical"),
    ]
    themes = rows(run(client, sql_query("wall.emerging_themes"), window, data.brand))
    assert [r["incident_id"] for r in themes] == ["demo-theme"]
    assert themes[0]["summary"] == "new theme: battery fire while charging"


def test_incident_annotations_cover_open_and_resolved_incidents(client: Client, data: DemoDataset) -> None:
    notes = rows(run(client, sql_query("wall.incident_annotations"), last_day(data), data.brand))
    assert [n["title"] for n in notes] == ["critical negative_share", "high theme"]
    assert [n["time"] for n in notes] == [data.crisis_start, data.crisis_start + timedelta(minutes=5)]
    assert all(n["timeEnd"] >= data.end for n in notes)  # open: the region runs up to now
    assert notes[0]["tags"] == ["critical", "negative_share", "escalated"]
    old = TimeRange(data.end - timedelta(days=4), data.end - timedelta(days=2))
    (resolved,) = rows(run(client, sql_query("wall.incident_annotations"), old, data.brand))
    assert resolved["text"] == "back to baseline"
    assert resolved["timeEnd"] - resolved["time"] == timedelta(hours=2)
    before = TimeRange(data.end - timedelta(days=8), data.end - timedelta(days=4))
    assert run(client, sql_query("wall.incident_annotations"), before, data.brand).rows == []


# ---------------------------------------------------------------- the real model


MODEL_SLICE = 20
"""Every 20th mention of the live hours (about 180) goes through the real model: ~4 s of CPU on a quiet machine."""


@pytest.mark.slow
def test_every_mention_query_runs_on_real_model_output(client: Client, data: DemoDataset, classifier: Any) -> None:
    """The same queries over a slice of the live hours enriched by the real model (its labels, topics, languages),
    in another database of the same engine (chDB allows one engine per process)."""
    from demo_dataset import LIVE, enrich, write

    from pipeline.steps.enrich import Enricher

    live = [m for m in data.mentions if m.created_at >= data.end - LIVE][::MODEL_SLICE]
    records = enrich(Enricher(classifier, model="e5-small", model_version="test"), live)
    database = f"model_{uuid.uuid4().hex[:8]}"
    write(client, database, records)
    try:
        window = TimeRange(data.end - LIVE, data.end)
        for query in MENTION_QUERIES:
            result = run(client, query, window, data.brand, database)
            assert result.rows, f"{query.name} returned no rows over {len(records)} model-enriched mentions"
    finally:
        client.command(f"DROP DATABASE {database}")


def test_webcare_channel_without_answers_has_no_response_time(client: Client, data: DemoDataset) -> None:
    """Reviews (trustpilot) are never answered in the demo: their response times are unknown, not 0."""
    channels = {r["platform"]: r for r in rows(run(client, wc.by_channel, last_day(data), data.brand))}
    unanswered = [r for r in channels.values() if r["answered_count"] == 0]
    assert unanswered, "the demo should have a channel nobody answers"
    for r in unanswered:
        assert r["response_rate"] == 0
        assert r["median_response_s"] is None and r["p90_response_s"] is None
