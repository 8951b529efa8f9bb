"""Reddit connector against a fake OAuth token endpoint and listings paged with ``after``."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fake_platforms.reddit import FakeListing, t1, t3, token_endpoint
from fakeapi import HTML_ERROR_PAGE, FakeAPI, FakeSleep, Reply, json_reply, polite, take

from connectors.sources import reddit
from connectors.sources.reddit import RedditAuthError, RedditConnector, RedditOptions

NOW = datetime(2026, 11, 3, 12, 0, tzinfo=UTC)
T0 = NOW.timestamp() - 600


@pytest.fixture(autouse=True)
def credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REDDIT_CLIENT_ID", "cid")
    monkeypatch.setenv("REDDIT_CLIENT_SECRET", "csecret")


def connector(api: FakeAPI, sleep: FakeSleep | None = None, **options: Any) -> RedditConnector:
    opts = RedditOptions.model_validate(
        {"base_url": api.url, "token_url": f"{api.url}/api/v1/access_token", "reddit_username": "acme_bot", **options}
    )
    return RedditConnector("rd", opts, http=polite(), sleep=sleep or FakeSleep(), clock=lambda: NOW)


def names(batches: list[Any]) -> list[str]:
    return [m.id.removeprefix("reddit:") for b in batches for m in b.mentions]


async def test_token_search_and_mapping(api: FakeAPI) -> None:
    api.route("POST", "/api/v1/access_token", *token_endpoint("tok-1"))
    api.route("GET", "/search", FakeListing([t3(1, T0, selftext="Great **bike**"), t1(2, T0 + 5, "t3_p1")]))
    [batch] = await take(connector(api, queries=["acme"]).batches({}), 1)
    comment, post = batch.mentions
    assert (post.id, post.kind, post.text, post.author.handle) == (
        "reddit:t3_p1",
        "post",
        "Acme 1\n\nGreat **bike**",
        "u1",
    )
    assert post.url == "https://www.reddit.com/r/bikes/comments/p1/acme_1/" and post.engagement.likes == 11
    assert post.created_at == datetime.fromtimestamp(T0, UTC) and post.raw_ref == f"{api.url}/api/info?id=t3_p1"
    assert (comment.kind, comment.in_reply_to, comment.engagement.likes) == ("comment", "reddit:t3_p1", 0)
    token_request = api.hits("/api/v1/access_token")[0]
    assert token_request.body == b"grant_type=client_credentials"
    assert token_request.headers["Authorization"] == "Basic " + base64.b64encode(b"cid:csecret").decode()
    search = api.hits("/search")[0]
    assert search.query == {"q": "acme", "sort": "new", "type": "link", "limit": "100", "raw_json": "1"}
    assert search.headers["User-Agent"] == "python:luister:1 (by /u/acme_bot)"
    assert batch.state == {"listings": {"search:acme": {"since": T0 + 5, "names": ["t1_c2"]}}}


async def test_pages_restarts_mid_sweep_and_refreshes_the_token_once(api: FakeAPI) -> None:
    items = [t3(n, T0 + n // 2) for n in range(1, 12)]  # pairs share a second
    listing = FakeListing(items)
    api.route("POST", "/api/v1/access_token", *token_endpoint("tok-1", "tok-2"))
    api.route("GET", "/r/bikes/new", listing)
    [first] = await take(connector(api, subreddits=["bikes"], limit=4).batches({}), 1)
    assert names([first]) == ["t3_p11", "t3_p10", "t3_p9", "t3_p8"]
    assert first.state is not None and first.state["listings"]["r/bikes/new"]["sweep"]["after"] == "t3_p8"
    listing.token = "tok-2"  # the old token expired: one 401, a new token, the same request again
    items.append(t3(12, T0 + 30))
    rest = await take(connector(api, subreddits=["bikes"], limit=4).batches(first.state), 3)
    assert names(rest[:2]) == [f"t3_p{n}" for n in range(7, 0, -1)]
    assert names(rest[2:]) == ["t3_p12"]
    assert rest[2].state == {"listings": {"r/bikes/new": {"since": T0 + 30, "names": ["t3_p12"]}}}
    assert len(api.hits("/api/v1/access_token")) == 2
    assert api.hits("/r/bikes/new")[1].query["after"] == "t3_p8"


async def test_rejected_credentials_raise(api: FakeAPI) -> None:
    api.route("POST", "/api/v1/access_token", json_reply({"error": "invalid_grant"}, 401))
    with pytest.raises(RedditAuthError, match="401"):
        await take(connector(api, queries=["acme"]).batches({}), 1)


async def test_rate_limit_headers_pace_requests_and_429_waits(api: FakeAPI) -> None:
    api.route("POST", "/api/v1/access_token", *token_endpoint("tok-1"))
    slow = FakeListing([t3(1, T0)], x_ratelimit_remaining="4.0", x_ratelimit_used="596", x_ratelimit_reset="100")
    api.route("GET", "/search", json_reply({"message": "Too Many Requests"}, 429, Retry_After="3"), slow)
    sleep = FakeSleep()
    conn = connector(api, sleep, queries=["acme"])
    conn._http = polite(http_sleep := FakeSleep())
    [batch] = await take(conn.batches({}), 1)
    assert names([batch]) == ["t3_p1"]
    assert http_sleep.waits == [3.0] and sleep.waits == [25.0]  # 100 s to the reset / 4 requests left


async def test_bad_pages_and_items(api: FakeAPI) -> None:
    api.route("POST", "/api/v1/access_token", *token_endpoint("tok-1"))
    items = [t3(1, T0), {"kind": "t5", "data": {"name": "t5_x"}}, t3(2, T0, author=None), {"kind": "t3"},
             t3(3, T0, created_utc="noon"), t1(4, T0, "t3_p1")]  # fmt: skip
    listing = {"kind": "Listing", "data": {"after": None, "children": items}}
    api.route(
        "GET",
        "/r/bikes/new",
        Reply(200, HTML_ERROR_PAGE, content_type="text/html"),
        Reply(200, b'{"kind": "Listing", "data": {"chil', content_type="application/json"),
        json_reply({"kind": "Listing", "data": {"after": None}}),
        json_reply(listing),
    )
    batches = await take(connector(api, subreddits=["bikes"], lookback_s=7200).batches({}), 4)
    assert [[r.reason for r in b.rejected] for b in batches] == [
        ["html_error_page"],
        ["not_json"],
        ["bad_shape"],
        ["unsupported_kind", "missing_field", "bad_type", "bad_type"],
    ]
    assert names(batches) == ["t3_p1", "t1_c4"] and all(b.state is None for b in batches[:3])


def test_build_validates_options(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    assert isinstance(reddit.build("rd", {"subreddits": ["bikes"]}), RedditConnector)
    own_token_url = reddit.build("rd", {"subreddits": ["bikes"], "token_url": "http://127.0.0.1:9/token"})
    assert isinstance(own_token_url, RedditConnector) and own_token_url.options.token_url == "http://127.0.0.1:9/token"
    with pytest.raises(ValueError, match="queries and/or subreddits"):
        reddit.build("rd", {})
    with pytest.raises(ValueError, match="credential"):
        reddit.build("rd", {"subreddits": ["bikes"], "client_secret": "x"})
    monkeypatch.delenv("REDDIT_CLIENT_SECRET")
    with pytest.raises(ValueError, match="REDDIT_CLIENT_SECRET is not set") as raised:
        reddit.build("rd", {"subreddits": ["bikes"]})
    assert "cid" not in str(raised.value)
    secrets = tmp_path / "reddit.env"
    secrets.write_text("REDDIT_CLIENT_ID=a\nREDDIT_CLIENT_SECRET='b'\n")
    assert isinstance(reddit.build("rd", {"subreddits": ["bikes"], "secrets_file": str(secrets)}), RedditConnector)
