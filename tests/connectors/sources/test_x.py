"""X recent search and filtered stream against a loopback fake API."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fake_platforms.x import SEARCH, USERS, search_body, tweet
from fakeapi import FakeSleep
from fakeplatforms import FakePlatform, Reply, take, wait_free

from connectors.sources import x
from connectors.sources.payloads import SourceAuthError

NOW = datetime.now(UTC).replace(microsecond=0)
STREAM = "/2/tweets/search/stream"
TOKEN = "bearer-secret-123"


def page(tweets: list[dict[str, Any]], next_token: str | None = None) -> Reply:
    return Reply(json=search_body(tweets, next_token))


@pytest.fixture
async def fake() -> AsyncIterator[FakePlatform]:
    async with FakePlatform() as platform:
        yield platform


@pytest.fixture(autouse=True)
def bearer_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("X_BEARER_TOKEN", TOKEN)


def connector(fake: FakePlatform, sleep: FakeSleep | None = None, **options: Any) -> x.XConnector:
    opts = x.XOptions.model_validate({"base_url": fake.base_url, "search_terms": ["veloxa", "velo xa"], **options})
    sleep = sleep or FakeSleep()
    source = x.XConnector("xx", opts, sleep=sleep)
    wait_free(source, sleep)
    return source


async def test_walk_saves_since_id_at_the_end_and_the_next_round_uses_it(fake: FakePlatform) -> None:
    tweets = [tweet(n, NOW - timedelta(minutes=n)) for n in range(9, 0, -1)]
    tweets.sort(key=lambda t: t["id"], reverse=True)
    fake.script(SEARCH, page(tweets[:4], "t1"), page(tweets[4:8], "t2"), page(tweets[8:]))
    fake.fallback(SEARCH, page([]))
    source = connector(fake, lookback_s=7200)
    batches = await take(source, {}, 4)
    await source.aclose()
    assert [[m.id for m in b.mentions] for b in batches[:3]] == [
        [f"x:{t['id']}" for t in chunk] for chunk in (tweets[:4], tweets[4:8], tweets[8:])
    ]
    newest_id = tweets[0]["id"]
    assert [b.state for b in batches] == [None, None, {"since_id": newest_id}, None]
    hits = fake.hits(SEARCH)
    assert hits[0].headers["Authorization"] == f"Bearer {TOKEN}"
    assert hits[0].query["query"] == 'veloxa OR "velo xa"'
    assert "since_id" not in hits[0].query
    start = datetime.strptime(hits[0].query["start_time"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    assert abs(start - (datetime.now(UTC) - timedelta(minutes=120))) < timedelta(seconds=30)
    assert [h.query.get("next_token") for h in hits] == [None, "t1", "t2", None]
    assert hits[3].query["since_id"] == newest_id and "start_time" not in hits[3].query
    assert hits[0].query["expansions"] == "author_id" and "public_metrics" in hits[0].query["tweet.fields"]


async def test_tweet_mapping_and_rejects(fake: FakePlatform) -> None:
    parent = "1799999999999999999"
    items = [
        tweet(
            1, NOW, lang="und", referenced_tweets=[{"type": "quoted", "id": "5"}, {"type": "replied_to", "id": parent}]
        ),
        tweet(2, NOW, lang="nl"),
        tweet(3, NOW, author_id="unknown"),
        tweet(4, NOW, created_at="sometime"),
        tweet(5, NOW, text=None),
    ]
    fake.script(SEARCH, page(items))
    source = connector(fake)
    [batch] = await take(source, {}, 1)
    await source.aclose()
    ben, anna = batch.mentions
    assert (ben.author.handle, ben.author.display_name, ben.author.followers) == ("ben", "Ben", 20)
    assert (ben.kind, ben.in_reply_to, ben.lang_hint) == ("reply", f"x:{parent}", None)
    assert (ben.engagement.likes, ben.engagement.shares, ben.engagement.replies, ben.engagement.views) == (3, 5, 2, 50)
    assert ben.url == f"https://x.com/ben/status/{items[0]['id']}" and ben.platform == "x"
    assert (anna.author.handle, anna.lang_hint, anna.kind) == ("anna", "nl", "post")
    assert [r.reason for r in batch.rejected] == ["missing_field", "bad_type", "missing_field"]


async def test_rate_limit_headers_and_429_wait_until_reset(
    fake: FakePlatform, caplog: pytest.LogCaptureFixture
) -> None:
    reset = int(time.time()) + 120
    fake.script(
        SEARCH,
        Reply(status=503, body="<html>over capacity</html>", content_type="text/html"),
        Reply(
            status=429,
            json={"title": "Too Many Requests"},
            headers={"x-rate-limit-remaining": "0", "x-rate-limit-reset": str(reset)},
        ),
        page([tweet(1, NOW)]),
    )
    fake.fallback(SEARCH, page([]))
    sleep = FakeSleep()
    source = connector(fake, sleep, poll_interval_s=1)
    caplog.set_level(logging.DEBUG)
    batches = await take(source, {}, 2)
    await source.aclose()
    assert len(batches[0].mentions) == 1
    # The 429 waits until the reset; the client also remembers the reset for the next request, which with a real
    # sleep is then already over (the fake sleep does not move the clock, so it asks again).
    waits = [s for s in sleep.waits if s > 60]
    assert waits and all(w == pytest.approx(120, abs=3) for w in waits)
    assert "/2/tweets/search/recent" in caplog.text  # httpx did log the requests…
    assert TOKEN not in caplog.text and "start_time" not in caplog.text  # …without secrets or query strings


async def test_rejected_credentials_stop_the_source(fake: FakePlatform) -> None:
    fake.script(SEARCH, Reply(status=401, json={"title": "Unauthorized"}))
    source = connector(fake)
    with pytest.raises(SourceAuthError, match="401"):
        await take(source, {}, 1)
    await source.aclose()


async def test_stream_connects_first_catches_up_then_reads_lines(fake: FakePlatform) -> None:
    caught = tweet(1, NOW - timedelta(minutes=1))
    live = [tweet(7, NOW), tweet(8, NOW)]

    def line(t: dict[str, Any]) -> str:
        return json.dumps({"data": t, "includes": {"users": USERS}, "matching_rules": [{"id": "1", "tag": "veloxa"}]})

    fake.script(SEARCH, page([caught]))
    fake.fallback(SEARCH, page([]))
    chunks = ["\r\n", line(live[0]) + "\r\n", "\r\n", "{oops\r\n", line(live[1]) + "\r\n"]
    fake.script(STREAM, Reply(chunks=chunks, content_type="application/json", hold_s=1))
    source = connector(fake, stream=True)
    batches = await take(source, {"since_id": "1"}, 4)
    await source.aclose()
    assert [s.path for s in fake.seen[:2]] == [STREAM, SEARCH]
    assert fake.seen[1].query["since_id"] == "1"
    assert [[m.id for m in b.mentions] for b in batches] == [
        [f"x:{caught['id']}"],
        [f"x:{live[0]['id']}"],
        [],
        [f"x:{live[1]['id']}"],
    ]
    assert [r.reason for r in batches[2].rejected] == ["not_json"]
    assert [b.state for b in batches] == [
        {"since_id": caught["id"]},
        {"since_id": live[0]["id"]},
        None,
        {"since_id": live[1]["id"]},
    ]


def test_build(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    monkeypatch.delenv("X_BEARER_TOKEN", raising=False)
    with pytest.raises(ValueError, match="X_BEARER_TOKEN"):
        x.build("x", {"query": "veloxa lang:nl"})
    monkeypatch.setenv("X_BEARER_TOKEN", TOKEN)
    with pytest.raises(ValueError, match="query or search_terms"):
        x.build("x", {})
    with pytest.raises(ValueError, match="bearer_token"):
        x.build("x", {"query": "v", "bearer_token": TOKEN})
    with pytest.raises(ValueError, match="lookback_s"):
        x.build("x", {"query": "v", "lookback_s": 8 * 24 * 3600})
    built = x.build("x", {"query": "veloxa -is:retweet"})
    assert built.options.search_query() == "veloxa -is:retweet"
    assert TOKEN not in repr(built.options) and built.base_url == "https://api.x.com"
