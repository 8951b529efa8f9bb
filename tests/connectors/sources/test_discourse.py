"""Discourse connector against a fake forum serving /posts.json (paged by ``before``) and /search.json."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiohttp import web
from fake_platforms import discourse as fake
from fake_platforms.discourse import FakeLatest
from fakeapi import HTML_ERROR_PAGE, FakeAPI, FakeSleep, Reply, json_reply, polite, take

from connectors.sources import discourse
from connectors.sources.discourse import DiscourseConnector, DiscourseOptions

NOW = datetime(2026, 11, 3, 12, 0, tzinfo=UTC)


def post(pid: int, topic: int = 7, number: int = 1, minutes_ago: float = 5, **extra: Any) -> dict[str, Any]:
    return fake.post(pid, NOW - timedelta(minutes=minutes_ago), topic, number, **extra)


def connector(api: FakeAPI, sleep: FakeSleep | None = None, **options: Any) -> DiscourseConnector:
    opts = DiscourseOptions.model_validate({"base_url": api.url, **options})
    return DiscourseConnector("forum", opts, http=polite(sleep), sleep=FakeSleep(), clock=lambda: NOW)


def ids(batches: list[Any]) -> list[str]:
    return [m.id for b in batches for m in b.mentions]


async def test_maps_posts_and_sends_api_headers_from_env(api: FakeAPI, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DISCOURSE_API_KEY", "k-123")
    monkeypatch.setenv("DISCOURSE_API_USERNAME", "bot")
    reply = post(11, number=3, reply_to_post_number=2, like_count=None, name="", cooked="<p>a&amp;b</p><p>c</p>")
    api.route("GET", "/posts.json", FakeLatest([post(10), reply], per_page=5))
    batch, end = await take(connector(api).batches({}), 2)
    r, p = batch.mentions
    host = api.url.removeprefix("http://")
    assert (p.id, p.kind, p.in_reply_to, p.url) == (f"discourse:{host}/t/7/1", "post", None, f"{api.url}/t/topic-7/7/1")
    assert p.text == "Topic 7\n\nPost 10 about acme" and p.author.display_name == "Name 10"
    assert (p.engagement.likes, p.engagement.replies, p.raw_ref) == (3, 1, f"{api.url}/posts/10.json")
    assert (r.id, r.kind, r.in_reply_to, r.text) == (
        f"discourse:{host}/t/7/3",
        "comment",
        f"discourse:{host}/t/7/2",
        "a&b\n\nc",
    )
    assert r.engagement.likes == 0 and r.author.display_name is None and r.created_at == NOW - timedelta(minutes=5)
    assert api.requests[0].headers["Api-Key"] == "k-123" and api.requests[0].headers["Api-Username"] == "bot"
    # Discourse's page size is the server's: only an empty page (or a known post) ends the sweep.
    assert batch.state == {"latest": {"since": None, "sweep": {"before": 10, "newest": 11}}}
    assert end.mentions == [] and end.state == {"latest": {"since": 11}}


async def test_restart_mid_sweep_and_next_poll(api: FakeAPI, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DISCOURSE_API_KEY", raising=False)
    posts = [post(i, topic=i // 3, number=i % 3 + 1, minutes_ago=60 - i) for i in range(1, 9)]
    posts.append(post(0, minutes_ago=24 * 60))  # older than the lookback: not sent
    fake = FakeLatest(posts)
    api.route("GET", "/posts.json", fake)
    [first] = await take(connector(api).batches({}), 1)
    assert [m.raw_ref.rsplit("/", 1)[1] for m in first.mentions] == ["8.json", "7.json", "6.json"]
    assert first.state == {"latest": {"since": None, "sweep": {"before": 6, "newest": 8}}}
    assert "Api-Key" not in api.requests[0].headers
    fake.posts.append(post(9, topic=50, minutes_ago=1))  # arrives while we are down
    rest = await take(connector(api).batches(first.state), 3)
    assert api.requests[1].query["before"] == "6"
    got = [m.raw_ref.rsplit("/", 1)[1] for b in [first, *rest] for m in b.mentions]
    assert got == [f"{i}.json" for i in (8, 7, 6, 5, 4, 3, 2, 1, 9)]
    assert rest[1].state == {"latest": {"since": 8}} and rest[2].state == {"latest": {"since": 9}}


async def test_search_pages_until_known_posts(api: FakeAPI) -> None:
    def result(pid: int) -> dict[str, Any]:
        p = post(pid, topic=pid, number=1)
        return {k: p[k] for k in ("id", "name", "username", "created_at", "like_count", "post_number", "topic_id")} | {
            "blurb": f"… acme &amp; {pid} …"
        }

    pages = {
        "1": {"posts": [result(30), result(29)], "topics": [{"id": 30, "title": "T30", "slug": "t-30"}]},
        "2": {"posts": [result(28), result(20)], "topics": []},
    }

    def search(request: web.Request) -> Reply:
        assert request.query["q"] == "acme order:latest"
        page = pages[request.query["page"]]
        return json_reply({**page, "grouped_search_result": {"more_posts": request.query["page"] == "1"}})

    api.route("GET", "/search.json", search)
    state = {"search": {"acme": {"since": 25}}}
    batches = await take(connector(api, latest=False, search_terms=["acme"]).batches(state), 2)
    assert [m.text for b in batches for m in b.mentions] == ["T30\n\n… acme & 30 …", "… acme & 29 …", "… acme & 28 …"]
    assert batches[0].state == {"search": {"acme": {"since": 25, "sweep": {"page": 2, "newest": 30}}}}
    assert batches[1].state == {"search": {"acme": {"since": 30}}}
    assert batches[0].mentions[0].url == f"{api.url}/t/t-30/30/1"


async def test_bad_pages_and_items(api: FakeAPI) -> None:
    good = [post(5), post(4, created_at="yesterday"), {**post(3), "username": None}, [1, 2], post(2, cooked=None)]
    api.route(
        "GET",
        "/posts.json",
        json_reply({"errors": ["slow down"]}, 429, Retry_After="2"),
        Reply(200, HTML_ERROR_PAGE, content_type="text/html"),
        Reply(200, b'{"latest_posts": [{"id": 5, "usern', content_type="application/json"),
        json_reply({"latest_posts": good}),
        json_reply({"latest_posts": []}),
    )
    sleep = FakeSleep()
    batches = await take(connector(api, sleep).batches({"latest": {"since": 1}}), 4)
    assert [[r.reason for r in b.rejected] for b in batches] == [
        ["html_error_page"],
        ["not_json"],
        ["bad_value", "missing_field", "bad_type", "missing_field"],
        [],
    ]
    assert sleep.waits == [2.0] and batches[0].state is None and batches[1].state is None
    assert [m.raw_ref.rsplit("/", 1)[1] for m in batches[2].mentions] == ["5.json"]
    assert api.requests[-1].query["before"] == "5" and batches[3].state == {"latest": {"since": 5}}


def test_build_validates_options() -> None:
    assert isinstance(discourse.build("f", {"base_url": "https://forum.example"}), DiscourseConnector)
    with pytest.raises(ValueError, match="latest"):
        discourse.build("f", {"latest": False})
    with pytest.raises(ValueError, match="credential"):
        discourse.build("f", {"api_key": "plain"})
    with pytest.raises(ValueError, match="secrets_file"):
        discourse.build("f", {"secrets_file": "/nonexistent/secrets.env"})
