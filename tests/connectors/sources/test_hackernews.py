"""Hacker News (Algolia) connector against a fake search_by_date that filters and pages like the real one."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from fake_platforms.hackernews import PATH, FakeAlgolia, story
from fakeapi import HTML_ERROR_PAGE, FakeAPI, FakeSleep, Reply, json_reply, polite, take

from connectors.http import FetchError
from connectors.sources import hackernews
from connectors.sources.hackernews import HackerNewsConnector, HackerNewsOptions

NOW = datetime(2026, 11, 3, 12, 0, tzinfo=UTC)
T0 = int(NOW.timestamp()) - 1800


def connector(api: FakeAPI, sleep: FakeSleep | None = None, **options: Any) -> HackerNewsConnector:
    opts = HackerNewsOptions.model_validate({"base_url": api.url, "queries": ["acme"], "poll_interval_s": 5, **options})
    return HackerNewsConnector("hn", opts, http=polite(sleep), sleep=FakeSleep(), clock=lambda: NOW)


def ids(batches: list[Any]) -> list[str]:
    return [m.id for b in batches for m in b.mentions]


async def test_maps_stories_and_comments(api: FakeAPI) -> None:
    comment = story(
        2,
        T0 + 10,
        title=None,
        comment_text='<p>I like <i>acme</i> &amp; its &quot;API&quot;.<p>Second <a href="https://x">para</a>',
        points=None,
        num_comments=None,
        parent_id=1,
        story_id=1,
        _tags=["comment", "author_user2", "story_1"],
    )
    post = story(1, T0, story_text="Ask HN: <b>acme</b>?")
    api.route("GET", PATH, FakeAlgolia([post, comment]))
    [batch] = await take(connector(api).batches({}), 1)
    assert batch.rejected == [] and batch.fetched == 2
    c, s = batch.mentions
    assert (c.id, c.kind, c.in_reply_to, c.author.handle) == ("hackernews:2", "comment", "hackernews:1", "user2")
    assert c.text == 'I like acme & its "API".\n\nSecond para'
    assert c.created_at == datetime.fromtimestamp(T0 + 10, UTC) and c.created_at.tzinfo is not None
    assert c.engagement.likes == 0 and c.url == "https://news.ycombinator.com/item?id=2"
    assert (s.id, s.kind, s.in_reply_to, s.text) == (
        "hackernews:1",
        "post",
        None,
        "Story 1 about acme\n\nAsk HN: acme?",
    )
    assert (s.engagement.likes, s.engagement.replies) == (1, 2)
    assert s.raw_ref == f"{api.url}/api/v1/items/1" and s.source == "hackernews:hn" and s.platform == "hackernews"
    assert batch.newest == datetime.fromtimestamp(T0 + 10, UTC)
    [request] = api.requests
    assert request.query["query"] == "acme" and request.query["tags"] == "(story,comment)"
    assert request.query["numericFilters"] == f"created_at_i>={int(NOW.timestamp()) - 3600}"
    assert request.headers["User-Agent"].startswith("luister/")


async def test_restart_mid_sweep_continues_without_gap_and_next_poll_sends_only_new(api: FakeAPI) -> None:
    items = [story(n, T0 + n // 3) for n in range(1, 26)]  # three items per second: ties at page edges
    fake = FakeAlgolia(items)
    api.route("GET", PATH, fake)
    first = await take(connector(api, hits_per_page=10).batches({}), 1)
    assert len(first[0].mentions) == 10 and first[0].state["queries"]["acme"]["sweep"]["page"] == 1
    # A new story arrives while we are "down"; the rest of the sweep must still come, in its fixed window.
    items.append(story(26, T0 + 100))
    rest = await take(connector(api, hits_per_page=10).batches(first[0].state), 3)
    assert [len(b.mentions) for b in rest[:2]] == [10, 5]
    assert sorted(ids(first + rest[:2]), key=lambda i: int(i.split(":")[1])) == [
        f"hackernews:{n}" for n in range(1, 26)
    ]
    # The next poll (after the sweep's state) picks up only the newcomer.
    assert ids(rest[2:]) == ["hackernews:26"]
    state = rest[2].state["queries"]["acme"]
    assert state == {"since": T0 + 100, "ids": ["26"]}
    # Same second as the cursor: old ids skipped, a new one at that second still sent.
    items.append(story(27, T0 + 100))
    again = await take(connector(api, hits_per_page=10).batches(rest[2].state), 1)
    assert ids(again) == ["hackernews:27"] and again[0].state["queries"]["acme"]["ids"] == ["26", "27"]
    idle = await take(connector(api, hits_per_page=10).batches(again[0].state), 2)
    assert ids(idle) == [] and idle[1].state == again[0].state


async def test_narrows_the_window_at_algolias_pagination_limit(api: FakeAPI) -> None:
    items = [story(n, T0 + n) for n in range(1, 31)]
    api.route("GET", PATH, FakeAlgolia(items, pagination_limit=12))
    batches = await take(connector(api, hits_per_page=5).batches({}), 8)
    got = ids(batches)
    assert set(got) == {f"hackernews:{n}" for n in range(1, 31)}
    assert len(got) - len(set(got)) <= 3  # overlap only at the narrowed window's edge seconds


async def test_429_with_retry_after_then_500_then_success(api: FakeAPI) -> None:
    ok = FakeAlgolia([story(1, T0)])
    api.route(
        "GET",
        PATH,
        json_reply({"message": "slow down"}, 429, Retry_After="7"),
        Reply(500, b"oops", content_type="text/plain"),
        ok,
    )
    sleep = FakeSleep()
    [batch] = await take(connector(api, sleep).batches({}), 1)
    assert ids([batch]) == ["hackernews:1"]
    assert sleep.waits[0] == 7.0 and len(sleep.waits) == 2 and len(api.requests) == 3


async def test_timeout_retries_then_raises_fetch_error(api: FakeAPI) -> None:
    api.route("GET", PATH, Reply(200, b"{}", delay_s=1.0))
    conn = HackerNewsConnector(
        "hn",
        HackerNewsOptions(base_url=api.url, queries=["acme"]),
        http=polite(timeout_s=0.2, max_attempts=2),
        clock=lambda: NOW,
    )
    with pytest.raises(FetchError) as raised:
        await take(conn.batches({}), 1)
    assert raised.value.kind == "network" and len(api.requests) == 2


async def test_slow_answer_then_success(api: FakeAPI) -> None:
    api.route("GET", PATH, Reply(200, b"{}", delay_s=1.0), FakeAlgolia([story(1, T0)]))
    conn = HackerNewsConnector(
        "hn", HackerNewsOptions(base_url=api.url, queries=["acme"]), http=polite(timeout_s=0.2), clock=lambda: NOW
    )
    assert ids(await take(conn.batches({}), 1)) == ["hackernews:1"]


@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        (Reply(200, b'{"hits": [{"objectID": "1", "auth'), "not_json"),
        (Reply(200, HTML_ERROR_PAGE, content_type="text/html"), "html_error_page"),
        (Reply(403, HTML_ERROR_PAGE, content_type="text/html"), "html_error_page"),
        (json_reply({"message": "invalid"}, 400), "http_400"),
        (json_reply({"results": []}), "bad_shape"),
    ],
)
async def test_unreadable_pages_are_rejected_and_keep_the_cursor(api: FakeAPI, reply: Reply, reason: str) -> None:
    api.route("GET", PATH, reply, FakeAlgolia([story(1, T0)]))
    bad, good = await take(connector(api).batches({"queries": {"acme": {"since": T0 - 5, "ids": []}}}), 2)
    assert [r.reason for r in bad.rejected] == [reason] and bad.mentions == [] and bad.state is None
    assert bad.rejected[0].payload == reply.response().body
    assert ids([good]) == ["hackernews:1"]  # the next poll retried from the unchanged cursor


async def test_malformed_hits_are_rejected_with_reasons(api: FakeAPI) -> None:
    hits = [
        story(1, T0),
        {**story(2, T0), "author": None},
        {**story(3, T0), "created_at_i": "yesterday", "created_at": "not a date"},
        {**story(4, T0), "title": 42},
        "just a string",
        story(5, T0 + 1, _tags=["comment"], comment_text=None),
        story(6, T0 + 2),
    ]
    api.route("GET", PATH, json_reply({"hits": hits, "nbHits": 7, "page": 0, "nbPages": 1, "hitsPerPage": 100}))
    [batch] = await take(connector(api).batches({}), 1)
    assert ids([batch]) == ["hackernews:1", "hackernews:6"]
    assert [r.reason for r in batch.rejected] == ["missing_field", "bad_value", "bad_type", "bad_type", "missing_field"]
    assert "author" in batch.rejected[0].detail and b'"objectID": "2"' in batch.rejected[0].payload
    assert batch.fetched == 7


def test_build_validates_options() -> None:
    conn = hackernews.build("hn-acme", {"queries": ["acme", "acme corp"], "hits_per_page": 50})
    assert isinstance(conn, HackerNewsConnector) and conn.options.base_url == "https://hn.algolia.com"
    assert conn.name == "hn-acme" and hackernews.SOURCE == "hackernews"
    # One `-o queries=acme` on the command line arrives as a string.
    assert hackernews.build("hn", {"queries": "acme"}).options.queries == ["acme"]
    with pytest.raises(ValueError, match="queries"):
        hackernews.build("hn", {})
    with pytest.raises(ValueError, match="hits_per_page"):
        hackernews.build("hn", {"queries": ["a"], "hits_per_page": 5000})
    with pytest.raises(ValueError, match="credential"):
        hackernews.build("hn", {"queries": ["a"], "api_key": "s3cret"})
    with pytest.raises(ValueError, match="colour"):
        hackernews.build("hn", {"queries": ["a"], "colour": "red"})
