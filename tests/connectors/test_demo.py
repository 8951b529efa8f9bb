"""The demo stream: shaped like real connector output, reproducible, multilingual, with a crisis that shows."""

from __future__ import annotations

import asyncio
import re
import statistics
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path

import pytest
import yaml

from connectors.demo import DemoEvent, DemoStream, in_fetch_order
from connectors.demo_corpus import INTENTS, LANGS, TEMPLATES
from connectors.demo_platforms import MAX_FETCH_DELAY_S
from connectors.sink import ListSink
from pipeline.schema import Mention

REPO = Path(__file__).resolve().parents[2]
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
N = 10_000


@pytest.fixture(scope="module")
def stream() -> DemoStream:
    return DemoStream(seed=7, start=START)


@pytest.fixture(scope="module")
def events(stream: DemoStream) -> list[DemoEvent]:
    source = stream.events()
    return [next(source) for _ in range(N)]


@pytest.fixture(scope="module")
def mentions(events: list[DemoEvent]) -> list[Mention]:
    return [event.mention for event in events]


def seconds(stream: DemoStream, mention: Mention) -> float:
    return (mention.created_at - stream.start).total_seconds()


# --- records ---------------------------------------------------------------------------------------------------


def test_every_record_round_trips_through_json(mentions: list[Mention]) -> None:
    for mention in mentions:
        assert Mention.model_validate_json(mention.model_dump_json()) == mention


def test_timestamps_are_utc_ordered_and_fetched_shortly_after(mentions: list[Mention]) -> None:
    for before, after in pairwise(mentions):
        assert after.created_at >= before.created_at
    for mention in mentions:
        assert mention.created_at.utcoffset() == timedelta(0)
        delay = (mention.fetched_at - mention.created_at).total_seconds()
        assert 0 < delay <= MAX_FETCH_DELAY_S
    assert mentions[0].created_at >= START


def test_ids_are_unique_platform_ids(mentions: list[Mention]) -> None:
    assert len({m.id for m in mentions}) == len(mentions)
    for mention in mentions:
        assert mention.id.startswith(f"{mention.platform}:")
        assert mention.raw_ref is not None and mention.raw_ref.startswith("demo://7/")


def test_platform_shapes(mentions: list[Mention]) -> None:
    kinds: dict[str, set[str]] = defaultdict(set)
    for m in mentions:
        kinds[m.platform].add(m.kind)
        assert m.url is not None
        if m.platform == "mastodon":
            match = re.fullmatch(r"mastodon:https://([^/]+)/users/(\w+)/statuses/(\d+)", m.id)
            assert match is not None, m.id
            instance, user, status = match.groups()
            assert m.url == f"https://{instance}/@{user}/{status}"
            assert m.author.handle == f"{user}@{instance}"
            assert int(status) >> 16 == int(m.created_at.timestamp() * 1000)  # a Mastodon snowflake
            assert m.author.followers is not None
        elif m.platform == "bluesky":
            match = re.fullmatch(r"bluesky:at://did:plc:[a-z2-7]{24}/app\.bsky\.feed\.post/([a-z2-7]{13})", m.id)
            assert match is not None, m.id
            assert m.url == f"https://bsky.app/profile/{m.author.handle}/post/{match.group(1)}"
            assert m.author.followers is not None
        elif m.platform == "reddit":
            assert re.fullmatch(r"reddit:t[13]_[0-9a-z]+", m.id), m.id
            assert m.url.startswith("https://www.reddit.com/r/")
            assert m.lang_hint is None and m.author.followers is None
        elif m.platform == "trustpilot":
            assert re.fullmatch(r"trustpilot:[0-9a-f]{24}", m.id), m.id
            assert m.source.startswith("trustpilot:")
        else:
            assert m.platform == "rss"
            assert m.id == f"rss:{m.url}" and m.source == f"rss:{m.author.handle}"
            assert m.lang_hint is not None and re.fullmatch(r"[a-z]{2}-[A-Z]{2}", m.lang_hint)
    assert kinds == {
        "mastodon": {"post", "reply"},
        "bluesky": {"post", "reply"},
        "reddit": {"post", "comment"},
        "trustpilot": {"review"},
        "rss": {"article"},
    }


def test_declared_languages_are_mostly_right_and_sometimes_missing_or_default(events: list[DemoEvent]) -> None:
    declared = [(e.mention.lang_hint, e.truth.lang) for e in events if e.mention.platform in ("mastodon", "bluesky")]
    right = sum(hint == lang for hint, lang in declared) / len(declared)
    assert 0.8 < right < 0.97
    assert any(hint is None for hint, _ in declared)
    assert any(hint == "en" and lang != "en" for hint, lang in declared)


# --- content ---------------------------------------------------------------------------------------------------


def test_all_five_languages_present(events: list[DemoEvent]) -> None:
    counts = Counter(e.truth.lang for e in events)
    assert set(counts) == set(LANGS)
    assert min(counts.values()) > 0.05 * N


def test_brand_competitors_and_every_match_type(stream: DemoStream, mentions: list[Mention]) -> None:
    seen: dict[tuple[str, bool], set[str]] = defaultdict(set)
    for m in mentions:
        assert m.brands, f"a connector only finds mentions that name a brand: {m.text!r}"
        assert len({b.brand for b in m.brands}) == len(m.brands)
        for match in m.brands:
            seen[match.brand, match.competitor].add(match.match_type)
            brand = next(b for b in (stream.brand, *stream.competitors) if b.name == match.brand)
            text = m.text.lower()
            if match.match_type == "tagged":
                assert f"@{brand.handle}" in text or m.author_is_brand or m.kind == "review", m.text
            elif match.match_type == "hashtag":
                assert f"#{brand.hashtag}" in text, m.text
            else:
                assert brand.name.lower() in text, m.text
    everything = {"tagged", "hashtag", "untagged"}
    assert seen == {("Veloxa", False): everything, ("Trekko", True): everything, ("Vonk", True): everything}
    comparisons = [m for m in mentions if len(m.brands) > 1]
    assert len(comparisons) > 0.02 * N


def test_templates_cover_every_kind_language_and_known_topics() -> None:
    topics = set(yaml.safe_load((REPO / "models/resources/topics.yaml").read_text())["topics"])
    intents = set(yaml.safe_load((REPO / "models/resources/intents.yaml").read_text())["intents"])
    assert set(INTENTS) == intents
    kinds = {lang: Counter(t.kind for t in templates) for lang, templates in TEMPLATES.items()}
    assert all(kinds[lang] == kinds["en"] for lang in LANGS), "every language has the same template material"
    for templates in TEMPLATES.values():
        for template in templates:
            assert set(template.topics) <= topics, template
            assert template.intent in intents


def test_texts_vary_but_crisis_near_duplicates_exist(stream: DemoStream, events: list[DemoEvent]) -> None:
    texts = Counter(e.mention.text for e in events)
    assert texts.most_common(1)[0][1] <= 0.01 * N
    assert len(texts) >= 0.75 * N
    calm = Counter(e.mention.text for e in events if not e.truth.crisis)
    assert len(calm) >= 0.85 * calm.total()
    origin = next(e.mention for e in events if e.mention.id == stream.crisis_origin_id)
    quotes = [e.mention.text for e in events if e.truth.template == "crisis_quote"]
    assert sum(origin.text[:100] in text for text in quotes) > 0.9 * len(quotes) > 50


def test_threads_and_webcare(events: list[DemoEvent]) -> None:
    by_id = {e.mention.id: e.mention for e in events}
    replies = [e.mention for e in events if e.mention.in_reply_to is not None]
    assert len(replies) > 0.1 * N
    for reply in replies:
        parent = by_id[reply.in_reply_to]  # type: ignore[index]
        assert parent.platform == reply.platform and parent.created_at <= reply.created_at
        assert reply.kind == ("comment" if reply.platform == "reddit" else "reply")
    webcare = [m for m in replies if m.author_is_brand]
    assert len(webcare) > 40
    assert {m.platform for m in webcare} == {"mastodon", "bluesky", "reddit"}
    assert all(m.brands[0].brand == "Veloxa" and not by_id[m.in_reply_to].author_is_brand for m in webcare)  # type: ignore[index]
    answered = Counter(m.in_reply_to for m in webcare)
    assert answered.most_common(1)[0][1] == 1, "the brand answers a post once"
    delays = [(m.created_at - by_id[m.in_reply_to].created_at).total_seconds() for m in webcare]  # type: ignore[index]
    assert min(delays) >= 60


# --- the crisis ------------------------------------------------------------------------------------------------


def test_crisis_raises_volume_and_negative_share(stream: DemoStream, events: list[DemoEvent]) -> None:
    assert stream.crisis_start == START + timedelta(seconds=120)
    before = [e for e in events if seconds(stream, e.mention) < 120]
    plateau = [e for e in events if stream.crisis_intensity(e.mention.created_at) > 0.9]
    plateau_s = (plateau[-1].mention.created_at - plateau[0].mention.created_at).total_seconds()
    assert plateau_s > 120
    rate_before, rate_plateau = len(before) / 120, len(plateau) / plateau_s
    assert 4 < rate_before < 6.5
    assert rate_plateau > 3.5 * rate_before

    def negative(sample: list[DemoEvent]) -> float:
        return sum(e.truth.sentiment == "negative" for e in sample) / len(sample)

    assert negative(before) < 0.4
    assert negative(plateau) > 0.55
    assert all(not e.truth.crisis for e in before)


def test_crisis_spreads_across_platforms_and_languages(stream: DemoStream, events: list[DemoEvent]) -> None:
    crisis = [e for e in events if e.truth.crisis]
    origin = crisis[0].mention
    assert origin.id == stream.crisis_origin_id and crisis[0].truth.template == "crisis_origin"
    assert origin.created_at == stream.crisis_start and origin.platform == "bluesky"
    assert origin.brands[0].match_type == "tagged" and crisis[0].truth.lang == "nl"
    assert {e.truth.lang for e in crisis} == set(LANGS)
    assert {e.mention.platform for e in crisis} == {"mastodon", "bluesky", "reddit", "rss"}
    assert sum(e.mention.in_reply_to == origin.id for e in events) > 100
    templates = Counter(e.truth.template for e in crisis)
    for kind in ("crisis_quote", "crisis_copycat", "crisis_question", "crisis_defend", "crisis_competitor"):
        assert templates[kind] > 20, kind
    assert 1 <= templates["crisis_news"] <= 10
    statements = [e.mention for e in crisis if e.mention.author_is_brand and e.mention.in_reply_to is None]
    assert statements, "the brand posts a statement"


def test_crisis_engagement_grows(stream: DemoStream, events: list[DemoEvent]) -> None:
    def median_likes(sample: list[DemoEvent]) -> float:
        return statistics.median(e.mention.engagement.likes for e in sample)

    social = [e for e in events if e.mention.platform in ("mastodon", "bluesky") and not e.mention.author_is_brand]
    calm = [e for e in social if not e.truth.crisis]
    peak = [e for e in social if e.truth.crisis and stream.crisis_intensity(e.mention.created_at) > 0.9]
    assert median_likes(peak) > 5 * max(1.0, median_likes(calm))


def test_without_crisis_nothing_snowballs() -> None:
    stream = DemoStream(seed=1, start=START, crisis_after_s=None)
    sample = [next(stream.events()) for _ in range(3000)]
    assert not any(e.truth.crisis for e in sample) and stream.crisis_origin_id is None
    assert stream.crisis_start is None and stream.crisis_intensity(START + timedelta(hours=1)) == 0


# --- determinism, ground truth, duplicates ------------------------------------------------------------------------


def test_same_seed_same_stream_other_seed_other_stream() -> None:
    def dump(seed: int) -> list[str]:
        return [m.model_dump_json() for m in DemoStream(seed=seed, start=START).take(1500)]

    assert dump(3) == dump(3)
    assert dump(3) != dump(4)


def test_ground_truth_is_kept_beside_the_mention(stream: DemoStream, events: list[DemoEvent]) -> None:
    for event in events[-500:]:
        assert stream.ground_truth(event.mention.id) == event.truth
    assert stream.ground_truth("mastodon:nope") is None
    assert "sentiment" not in Mention.model_fields
    small = DemoStream(seed=2, start=START, truth_capacity=100)
    taken = small.take(300)
    assert small.ground_truth(taken[0].id) is None and small.ground_truth(taken[-1].id) is not None


def test_refetch_duplicates_are_off_by_default_and_exact_when_on() -> None:
    stream = DemoStream(seed=5, start=START, duplicate_share=0.05)
    source = stream.events()
    events = [next(source) for _ in range(4000)]
    refetched = [e for e in events if e.refetch]
    assert 0.03 * len(events) < len(refetched) < 0.07 * len(events)
    first_copy: dict[str, Mention] = {}
    for event in events:
        first_copy.setdefault(event.mention.id, event.mention)
    for event in refetched:
        original = first_copy[event.mention.id]
        assert event.mention is not original
        assert event.mention.content_hash() == original.content_hash()
        assert event.mention.model_dump(exclude={"fetched_at"}) == original.model_dump(exclude={"fetched_at"})
        assert event.mention.fetched_at > original.fetched_at
        assert event.truth == stream.ground_truth(event.mention.id)
    fresh = [e.mention.id for e in events if not e.refetch]
    assert len(set(fresh)) == len(fresh)


def test_rejects_naive_start_and_bad_options() -> None:
    with pytest.raises(ValueError, match="timezone"):
        DemoStream(start=datetime(2026, 1, 1))
    with pytest.raises(ValueError, match="duplicate_share"):
        DemoStream(start=START, duplicate_share=1.0)
    with pytest.raises(ValueError, match="languages"):
        DemoStream(start=START, languages={"it": 1.0})  # type: ignore[dict-item]


def test_languages_can_be_restricted() -> None:
    stream = DemoStream(seed=1, start=START, languages={"de": 1.0}, crisis_after_s=None)
    assert {e.truth.lang for e in (next(stream.events()) for _ in range(500))} == {"de"}


# --- running -------------------------------------------------------------------------------------------------------


def test_fetch_order_holds_back_only_what_is_not_fetched_yet(mentions: list[Mention]) -> None:
    ordered = list(in_fetch_order(mentions[:3000]))
    assert sorted(m.id for m in ordered) == sorted(m.id for m in mentions[:3000])
    assert all(a.fetched_at <= b.fetched_at for a, b in pairwise(ordered))


async def test_run_without_realtime_sends_in_fetch_order() -> None:
    sink = ListSink()
    sent = await DemoStream(seed=9, start=START).run(sink, realtime=False, limit=1200)
    assert sent == len(sink.mentions) == 1200
    assert all(a.fetched_at <= b.fetched_at for a, b in pairwise(sink.mentions))
    reference = {m.id for m in DemoStream(seed=9, start=START).take(2000)}
    assert {m.id for m in sink.mentions} <= reference


async def test_run_in_realtime_paces_on_the_simulated_clock() -> None:
    start = datetime.now(UTC)
    stream = DemoStream(seed=4, start=start, rate_per_s=50, crisis_after_s=None)
    sink = ListSink()
    began = time.monotonic()
    await stream.run(sink, realtime=True, speed=20, limit=100)
    elapsed = time.monotonic() - began
    span = (sink.mentions[-1].fetched_at - start).total_seconds()
    assert span / 20 - 0.3 <= elapsed <= span / 20 + 1.0


async def test_run_catches_up_a_start_in_the_past_at_once() -> None:
    stream = DemoStream(seed=4, start=datetime.now(UTC) - timedelta(hours=1))
    sink = ListSink()
    await asyncio.wait_for(stream.run(sink, limit=2000), timeout=10)
    assert len(sink.mentions) == 2000
