"""Bluesky search against a loopback AppView, and the Jetstream firehose against a loopback websocket server."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiohttp import web
from fake_platforms.bluesky import SEARCH, FakeSearchPosts, iso, post
from fakeapi import FakeAPI, FakeSleep
from fakeplatforms import FakePlatform, Reply, take, wait_free
from websockets.asyncio.server import ServerConnection, serve

from connectors.sources import bluesky

NOW = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
async def fake() -> AsyncIterator[FakePlatform]:
    async with FakePlatform() as platform:
        yield platform


def connector(base_url: str, **options: Any) -> bluesky.BlueskyConnector:
    opts = bluesky.BlueskyOptions.model_validate({"base_url": base_url, "search_terms": ["veloxa"], **options})
    sleep = FakeSleep()
    source = bluesky.BlueskyConnector("sky", opts, sleep=sleep)
    wait_free(source, sleep)
    return source


async def test_search_walks_back_to_since_and_saves_the_cursor_only_at_the_end(fake: FakePlatform) -> None:
    posts = [post(n, NOW - timedelta(minutes=n)) for n in range(1, 6)]  # newest first
    pages = {None: (posts[:2], "c1"), "c1": (posts[2:4], "c2"), "c2": (posts[4:], None)}

    def respond(request: web.Request) -> Reply:
        items, cursor = pages[request.query.get("cursor")]
        return Reply(json={"posts": items, **({"cursor": cursor} if cursor else {})})

    fake.script(SEARCH, respond, respond, respond)
    fake.fallback(SEARCH, Reply(json={"posts": []}))
    source = connector(fake.base_url, lookback_s=1800)
    batches = await take(source, {}, 4)
    await source.aclose()

    assert [[m.id for m in b.mentions] for b in batches[:3]] == [
        [f"bluesky:at://did:plc:user{n}/app.bsky.feed.post/rkey{n}" for n in pair] for pair in ([1, 2], [3, 4], [5])
    ]
    newest = iso(NOW - timedelta(minutes=1)).replace(".000Z", "Z")
    uri1 = f"bluesky:{posts[0]['uri']}"
    assert [b.state for b in batches[:3]] == [None, None, {"search": {"veloxa": {"since": newest, "ids": [uri1]}}}]
    assert batches[3].mentions == [] and batches[3].state is None  # nothing new: nothing to save
    hits = fake.hits(SEARCH)
    assert [h.query.get("cursor") for h in hits] == [None, "c1", "c2", None]
    first_since = datetime.fromisoformat(hits[0].query["since"].replace("Z", "+00:00"))
    assert abs(first_since - (datetime.now(UTC) - timedelta(minutes=30))) < timedelta(seconds=30)
    assert hits[3].query["since"] == newest and hits[0].query["sort"] == "latest"

    one = batches[0].mentions[0]
    assert (one.author.handle, one.author.display_name, one.text) == ("user1.bsky.social", "User 1", "Veloxa post 1")
    assert one.url == "https://bsky.app/profile/user1.bsky.social/post/rkey1"
    assert (one.engagement.likes, one.engagement.shares, one.engagement.replies) == (1, 2, 2)
    assert one.created_at == NOW - timedelta(minutes=1) and one.raw_ref == posts[0]["uri"]


async def test_posts_at_the_saved_time_are_sent_once(api: FakeAPI) -> None:
    """``since`` is inclusive: the boundary comes back every round; only a post at that time not sent before goes
    out (and joins the cursor). A cursor saved as a bare time (the earlier format) sends its boundary once more."""
    at = NOW - timedelta(minutes=3)
    posts = [post(1, at), post(2, at), post(3, at - timedelta(minutes=1))]
    api.route("GET", SEARCH, FakeSearchPosts(posts))
    ids = [f"bluesky:{p['uri']}" for p in posts]
    since = iso(at).replace(".000Z", "Z")
    source = connector(api.url)
    first, second = await take(source, {"search": {"veloxa": {"since": since, "ids": [ids[0]]}}}, 2)
    await source.aclose()
    assert [m.id for m in first.mentions] == [ids[1]] and first.fetched == 2
    assert first.state == {"search": {"veloxa": {"since": since, "ids": ids[:2]}}}
    assert second.mentions == [] and second.state is None  # nothing new: nothing sent, nothing to save
    assert [r.query["since"] for r in api.hits(SEARCH)] == [since, since]

    old_format = connector(api.url)
    [batch] = await take(old_format, {"search": {"veloxa": since}}, 1)
    await old_format.aclose()
    assert sorted(m.id for m in batch.mentions) == ids[:2]
    assert batch.state == {"search": {"veloxa": {"since": since, "ids": ids[:2]}}}


async def test_search_mapping_and_rejects(fake: FakePlatform) -> None:
    t = NOW - timedelta(minutes=1)
    parent = "at://did:plc:x/app.bsky.feed.post/parent"
    items: list[Any] = [
        post(1, t, langs=["nl", "en"], reply={"root": {"uri": parent}, "parent": {"uri": parent}}),
        post(2, t, createdAt="not a date"),
        {"uri": "at://x/app.bsky.feed.post/3", "author": {"did": "did:plc:3"}},
        post(4, t, text=None),
        17,
    ]
    fake.script(SEARCH, Reply(json={"posts": items}))
    source = connector(fake.base_url)
    [batch] = await take(source, {}, 1)
    await source.aclose()
    [reply] = batch.mentions
    assert (reply.kind, reply.in_reply_to, reply.lang_hint) == ("reply", f"bluesky:{parent}", "nl")
    assert [r.reason for r in batch.rejected] == ["bad_type", "missing_field", "missing_field", "bad_type"]
    assert batch.fetched == 5


async def test_search_errors(fake: FakePlatform) -> None:
    fake.script(
        SEARCH,
        Reply(status=502, body="<html>bad gateway</html>", content_type="text/html"),
        Reply(json={"posts": [post(1, NOW)]}, cut_after=10),
        Reply(json={"posts": [post(1, NOW)]}),
        Reply(status=400, json={"error": "InvalidRequest", "message": "bad since"}),
        Reply(body="<html><body>blocked</body></html>", content_type="text/html"),
    )
    source = connector(fake.base_url)
    batches = await take(source, {}, 3)
    await source.aclose()
    assert [len(b.mentions) for b in batches] == [1, 0, 0]
    assert [[r.reason for r in b.rejected] for b in batches] == [[], ["http_400"], ["html_error_page"]]
    assert json.loads(batches[1].rejected[0].payload)["message"] == "bad since"


class Jetstream:
    """A loopback Jetstream: each connection gets the next script of messages, then is closed (or held open)."""

    def __init__(self, scripts: list[list[Any]]) -> None:
        self.scripts = scripts
        self.paths: list[str] = []

    async def handler(self, connection: ServerConnection) -> None:
        assert connection.request is not None
        self.paths.append(connection.request.path)
        script = self.scripts.pop(0) if self.scripts else None
        if script is None:
            await asyncio.sleep(30)
            return
        for message in script:
            await connection.send(message if isinstance(message, str) else json.dumps(message))


def commit(time_us: int, text: str | None, *, op: str = "create", collection: str = "app.bsky.feed.post") -> Any:
    record: dict[str, Any] = {"$type": collection, "createdAt": iso(NOW), "langs": ["de"]}
    if text is not None:
        record["text"] = text
    return {
        "did": f"did:plc:{time_us}",
        "time_us": time_us,
        "kind": "commit",
        "commit": {"rev": "r", "operation": op, "collection": collection, "rkey": f"k{time_us}", "record": record},
    }


async def test_firehose_filters_by_term_and_resumes_from_the_cursor() -> None:
    t0 = int(NOW.timestamp() * 1_000_000)
    first = [
        commit(t0 + 1, "Meine VELOXA ist super"),
        commit(t0 + 2, "nothing to see"),
        commit(t0 + 3, "veloxa", op="delete"),
        commit(t0 + 4, "veloxa like", collection="app.bsky.feed.like"),
        {"did": "did:plc:z", "time_us": t0 + 5, "kind": "identity", "identity": {}},
        "{not json",
        commit(t0 + 6, None),
    ]
    second = [commit(t0 + 7, "noch eine veloxa")]
    server = Jetstream([first, second])
    async with serve(server.handler, "127.0.0.1", 0) as ws:
        port = ws.sockets[0].getsockname()[1]
        source = connector(
            "http://unused.invalid",
            firehose=True,
            jetstream_url=f"ws://127.0.0.1:{port}/subscribe",
            firehose_batch_wait_s=0.3,
            firehose_rewind_s=0.000002,
        )
        batches = await take(source, {"time_us": t0}, 2, timeout=20)
        await source.aclose()
    assert server.paths[0] == f"/subscribe?wantedCollections=app.bsky.feed.post&cursor={t0}"
    assert server.paths[1] == f"/subscribe?wantedCollections=app.bsky.feed.post&cursor={t0 + 4}"  # 6 - 2 µs rewind
    got = [m for b in batches for m in b.mentions]
    assert [(m.id, m.text, m.author.handle, m.lang_hint) for m in got] == [
        (
            f"bluesky:at://did:plc:{t0 + 1}/app.bsky.feed.post/k{t0 + 1}",
            "Meine VELOXA ist super",
            f"did:plc:{t0 + 1}",
            "de",
        ),
        (f"bluesky:at://did:plc:{t0 + 7}/app.bsky.feed.post/k{t0 + 7}", "noch eine veloxa", f"did:plc:{t0 + 7}", "de"),
    ]
    assert [r.reason for r in batches[0].rejected] == ["not_json", "missing_field"]
    assert batches[0].fetched == 7
    assert [b.state for b in batches] == [{"time_us": t0 + 6}, {"time_us": t0 + 7}]


def test_build_validates_options() -> None:
    with pytest.raises(ValueError, match="search_terms"):
        bluesky.build("b", {})
    with pytest.raises(ValueError, match="blank"):
        bluesky.build("b", {"search_terms": [" "]})
    with pytest.raises(ValueError, match="jetstream_url"):
        bluesky.build("b", {"search_terms": ["x"], "jetstream_url": "http://nope"})
    with pytest.raises(ValueError, match="password"):
        bluesky.build("b", {"search_terms": ["x"], "password": "hunter2"})
    assert bluesky.build("b", {"search_terms": ["x"]}).base_url == "https://api.bsky.app"
