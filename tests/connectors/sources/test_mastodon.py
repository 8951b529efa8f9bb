"""Mastodon against a loopback fake instance: forward paging by min_id and Link, restarts, search, errors,
rate limits and the streaming API."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiohttp import web
from fake_platforms.mastodon import status, timeline_page
from fakeapi import FakeSleep
from fakeplatforms import FakePlatform, Reply, take, wait_free

from connectors.sources import mastodon

NOW = datetime.now(UTC).replace(microsecond=0)
TAG_PATH = "/api/v1/timelines/tag/veloxa"


def timeline(statuses: list[dict[str, Any]], base_url: Any) -> Any:
    """A tag timeline that behaves like Mastodon's: the ``limit`` statuses just after ``min_id``, newest first."""

    def respond(request: web.Request) -> Reply:
        page, headers = timeline_page(statuses, request.query, f"{base_url()}{TAG_PATH}")
        return Reply(json=page, headers=headers)

    return respond


def connector(fake: FakePlatform, sleep: FakeSleep | None = None, **options: Any) -> mastodon.MastodonConnector:
    opts = mastodon.MastodonOptions.model_validate({"base_url": fake.base_url, "hashtags": ["#veloxa"], **options})
    sleep = sleep or FakeSleep()
    source = mastodon.MastodonConnector("masto", opts, sleep=sleep)
    wait_free(source, sleep)
    return source


@pytest.fixture
async def fake() -> AsyncIterator[FakePlatform]:
    async with FakePlatform() as platform:
        yield platform


async def test_pages_forward_from_lookback_and_restarts_without_gap(fake: FakePlatform) -> None:
    old = [status(i, NOW - timedelta(hours=3, minutes=i)) for i in range(1, 4)]
    recent = [status(100 + i, NOW - timedelta(minutes=50) + timedelta(seconds=20 * i)) for i in range(90)]
    fake.fallback(TAG_PATH, timeline(old + recent, lambda: fake.base_url))
    source = connector(fake, lookback_s=3600)

    started = datetime.now(UTC)
    batches = await take(source, {}, 4)
    finished = datetime.now(UTC)
    await source.aclose()
    assert [b.fetched for b in batches] == [40, 40, 10, 0]
    ids = [m.id for b in batches for m in b.mentions]
    expected = [f"mastodon:{fake.base_url.removeprefix('http://')}/{s['id']}" for s in recent]
    assert sorted(ids) == sorted(expected) and len(ids) == 90  # nothing from before the lookback, no repeats
    newest_per_page = [max(b.mentions, key=lambda m: m.id).id.rsplit("/", 1)[1] for b in batches[:3]]
    assert [b.state for b in batches] == [{"tags": {"veloxa": n}} for n in newest_per_page] + [
        {"tags": {"veloxa": newest_per_page[-1]}}
    ]
    hits = fake.hits(TAG_PATH)
    # The first request starts an hour before the clock at that moment (Mastodon ids are ms << 16).
    first_ms = int(hits[0].query["min_id"]) >> 16
    window = (started - timedelta(minutes=60), finished - timedelta(minutes=60))
    assert window[0].timestamp() * 1000 - 1 <= first_ms <= window[1].timestamp() * 1000 + 1
    assert [h.query["min_id"] for h in hits[1:4]] == newest_per_page  # followed Link rel="prev", then the cursor

    # A restart from the first page's state continues right after it.
    restarted = connector(fake)
    again = await take(restarted, batches[0].state or {}, 2)
    await restarted.aclose()
    assert {m.id for b in batches[:1] + again for m in b.mentions} == set(expected)


async def test_status_mapping_and_rejects(fake: FakePlatform) -> None:
    t = NOW - timedelta(minutes=5)
    page = [
        status(1, t, content="<p>Hallo<br>wereld &lt;3 <script>x()</script></p><p>Tweede</p>", spoiler_text="CW"),
        status(2, t, account={"acct": "local", "display_name": "", "followers_count": 7}, in_reply_to_id="123"),
        status(3, t, reblog={"id": "9"}),
        status(4, t, content=None),
        status(5, t, created_at="2026-01-01T10:00:00"),  # naive: not guessed
        status(6, t, account={"display_name": "no acct"}),
        "not a status",
    ]
    fake.script(TAG_PATH, Reply(json=page))
    source = connector(fake)
    [batch] = await take(source, {}, 1)
    await source.aclose()
    host = fake.base_url.removeprefix("http://")
    first, second = batch.mentions
    assert first.text == "CW\n\nHallo\nwereld <3\n\nTweede"
    assert (first.author.handle, first.author.display_name, first.author.followers) == ("u1@other.example", "User 1", 1)
    assert (first.engagement.likes, first.engagement.shares, first.engagement.replies) == (3, 2, 1)
    assert (first.lang_hint, first.kind, first.platform, first.source) == ("nl", "post", "mastodon", "mastodon:masto")
    assert first.url == page[0]["url"] and first.raw_ref == page[0]["uri"]  # type: ignore[index]
    assert first.created_at == t
    assert second.author.handle == f"local@{host}" and second.author.display_name is None
    assert second.kind == "reply" and second.in_reply_to == f"mastodon:{host}/123"
    assert [r.reason for r in batch.rejected] == ["missing_field", "bad_type", "missing_field", "bad_type"]
    assert json.loads(batch.rejected[0].payload)["id"] == page[3]["id"]  # type: ignore[index]
    assert batch.fetched == 7


async def test_server_errors_timeouts_and_cut_bodies_are_retried(fake: FakePlatform) -> None:
    good = [status(1, NOW - timedelta(minutes=1))]
    fake.script(
        TAG_PATH,
        Reply(status=500, body="oops", content_type="text/plain"),
        Reply(status=429, json={"error": "slow down"}, headers={"Retry-After": "1"}),
        Reply(json=good, delay_s=1.0),  # longer than the client's timeout
        Reply(json=good, cut_after=20),
        Reply(json=good),
    )
    sleep = FakeSleep()
    source = connector(fake, sleep, timeout_s=0.3)
    source.http.max_attempts = 6
    [batch] = await take(source, {}, 1)
    await source.aclose()
    assert [m.text for m in batch.mentions] == ["Post 1 about #Veloxa & bikes"]
    assert len(fake.hits(TAG_PATH)) == 5
    assert 1.0 in sleep.waits  # the Retry-After


async def test_html_error_page_and_truncated_json_are_dead_lettered(fake: FakePlatform) -> None:
    fake.script(
        TAG_PATH,
        Reply(body="<!DOCTYPE html><html><body>Maintenance</body></html>", content_type="text/html"),
        Reply(body='[{"id": "1", "content": "<p>cut', content_type="application/json"),
        Reply(status=404, body="<html>gone</html>", content_type="text/html"),
        Reply(json={"error": "not a list"}),
    )
    source = connector(fake)
    batches = await take(source, {}, 4)
    await source.aclose()
    assert [[r.reason for r in b.rejected] for b in batches] == [
        ["html_error_page"],
        ["not_json"],
        ["http_404"],
        ["bad_type"],
    ]
    assert all(b.mentions == [] and b.state is None for b in batches)


async def test_rate_limit_headers_delay_the_next_request(fake: FakePlatform) -> None:
    reset = (datetime.now(UTC) + timedelta(seconds=30)).isoformat()
    fake.script(
        TAG_PATH, Reply(json=[status(1, NOW)], headers={"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset})
    )
    fake.fallback(TAG_PATH, Reply(json=[]))
    sleep = FakeSleep()
    source = connector(fake, sleep, poll_interval_s=1)
    await take(source, {}, 2)
    await source.aclose()
    assert [s for s in sleep.waits if s > 1] == [pytest.approx(30, abs=2)]


async def test_search_first_run_filters_by_lookback_then_uses_min_id(fake: FakePlatform) -> None:
    old, fresh = status(1, NOW - timedelta(hours=5)), status(2, NOW - timedelta(minutes=10))
    fake.script("/api/v2/search", Reply(json={"accounts": [], "statuses": [fresh, old], "hashtags": []}))
    fake.fallback("/api/v2/search", Reply(json={"accounts": [], "statuses": [], "hashtags": []}))
    opts = mastodon.MastodonOptions.model_validate({"base_url": fake.base_url, "search_terms": ["veloxa accu"]})
    source = mastodon.MastodonConnector("masto", opts, sleep=FakeSleep())
    first, second = await take(source, {}, 2)
    await source.aclose()
    assert [m.id.rsplit("/", 1)[1] for m in first.mentions] == [fresh["id"]]
    assert first.state == {"search": {"veloxa accu": fresh["id"]}} == second.state
    hits = fake.hits("/api/v2/search")
    assert hits[0].query == {"q": "veloxa accu", "type": "statuses", "limit": "40"}
    assert hits[1].query["min_id"] == fresh["id"]


async def test_streaming_connects_first_then_catches_up_then_streams(fake: FakePlatform) -> None:
    caught_up = status(1, NOW - timedelta(minutes=2))
    live = [status(2, NOW), status(3, NOW + timedelta(seconds=1))]
    fake.fallback(TAG_PATH, timeline([caught_up], lambda: fake.base_url))
    events = [
        ":thump\n\n",
        f"event: update\ndata: {json.dumps(live[0])}\n\n",
        "event: delete\ndata: 12345\n\n",
        f"event: update\ndata: {json.dumps(live[1])}\n\n",
        "event: update\ndata: {not json\n\n",
        f"event: update\ndata: {json.dumps(live[1])[:30]}",  # cut off mid-event, never dispatched
    ]
    fake.script("/api/v1/streaming/hashtag", Reply(chunks=events, content_type="text/event-stream", chunk_gap_s=0.05))
    fake.fallback("/api/v1/streaming/hashtag", Reply(chunks=[], content_type="text/event-stream", hold_s=1))
    source = connector(fake, stream=True, stream_batch_wait_s=0.5)
    batches = await take(source, {}, 3)
    await source.aclose()
    assert fake.seen[0].path == "/api/v1/streaming/hashtag" and fake.seen[0].query == {"tag": "veloxa"}
    assert [m.id.rsplit("/", 1)[1] for m in batches[0].mentions] == [caught_up["id"]]
    streamed = [m for b in batches[1:] for m in b.mentions]
    assert [m.id.rsplit("/", 1)[1] for m in streamed] == [live[0]["id"], live[1]["id"]]
    assert [r.reason for b in batches[1:] for r in b.rejected] == ["not_json"]
    assert batches[-1].state == {"tags": {"veloxa": live[1]["id"]}}


def test_build_validates_options(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValueError, match="hashtags, search_terms"):
        mastodon.build("m", {})
    with pytest.raises(ValueError, match="access_token"):
        mastodon.build("m", {"hashtags": ["x"], "access_token": "secret"})
    with pytest.raises(ValueError, match="single words"):
        mastodon.build("m", {"hashtags": ["two words"]})
    with pytest.raises(ValueError, match="poll_interval_s"):
        mastodon.build("m", {"hashtags": ["x"], "poll_interval_s": 0})
    monkeypatch.setenv("MASTODON_ACCESS_TOKEN", "tok-123")
    built = mastodon.build("m", {"hashtags": ["#Veloxa"], "base_url": "https://fosstodon.org/"})
    assert built.options.hashtags == ["Veloxa"] and built.host == "fosstodon.org"
    assert built.http.client.headers["Authorization"] == "Bearer tok-123"
    assert "tok-123" not in repr(built.options)
