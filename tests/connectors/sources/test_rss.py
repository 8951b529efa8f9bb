"""RSS/Atom connector against feeds served from a loopback server (conditional GET, several feeds, bad bodies)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fake_platforms.rss import ATOM, ConditionalFeed, rss_doc, rss_item
from fakeapi import HTML_ERROR_PAGE, FakeAPI, FakeSleep, Reply, polite, take

from connectors.http import FetchError
from connectors.sources import rss
from connectors.sources.rss import RssConnector, RssOptions

NOW = datetime(2026, 11, 3, 12, 0, tzinfo=UTC)


def connector(api: FakeAPI, *paths: str, sleep: FakeSleep | None = None, **options: Any) -> RssConnector:
    opts = RssOptions(feeds=[api.url + p for p in paths], **options)
    return RssConnector("blogs", opts, http=polite(sleep), sleep=FakeSleep(), clock=lambda: NOW)


def ids(batches: list[Any]) -> list[str]:
    return [m.id for b in batches for m in b.mentions]


async def test_rss_items_map_to_articles_and_respect_lookback(api: FakeAPI) -> None:
    recent, old = NOW - timedelta(minutes=10), NOW - timedelta(days=2)
    doc = rss_doc(
        [
            rss_item(1, recent, **{"content:encoded": "<![CDATA[<p>Full <i>text</i></p><p>Two</p>]]>"}),
            rss_item(2, old),
            rss_item(3, recent, **{"slash:comments": "4", "dc:creator": "-", "guid": "-"}),
        ]
    )
    api.route("GET", "/feed", Reply(200, doc, content_type="application/rss+xml"))
    [batch] = await take(connector(api, "/feed").batches({}), 1)
    assert batch.fetched == 3 and batch.rejected == []
    first, third = batch.mentions
    assert first.id == "rss:https://blog.example/?p=1" and first.kind == "article" and first.platform == "rss"
    assert first.text == "Acme fiets 1\n\nFull text\n\nTwo" and first.author.handle == "Anna"
    assert first.created_at == recent.replace(microsecond=0) and first.lang_hint == "nl"
    assert first.url == "https://blog.example/1" and first.raw_ref == f"{api.url}/feed" and first.source == "rss:blogs"
    assert third.id.startswith("rss:urlhash:") and third.text == "Acme fiets 3\n\nReview 3 & more"
    assert third.engagement.replies == 4 and third.author.handle == "blog.example"
    assert batch.newest == recent.replace(microsecond=0)
    assert "application/rss+xml" in api.requests[0].headers["Accept"]


async def test_atom_entries(api: FakeAPI) -> None:
    api.route("GET", "/atom", Reply(200, ATOM, content_type="application/atom+xml"))
    [batch] = await take(connector(api, "/atom", lookback_s=86400).batches({}), 1)
    a1, a2 = batch.mentions
    assert (a1.id, a1.url, a1.author.handle, a1.lang_hint) == (
        "rss:tag:news.example,2026:a1",
        "https://news.example/a1",
        "Redaktion",
        "de",
    )
    assert a1.text == "Acme rocks\n\nDas Rad ist gut." and a1.created_at == datetime(2026, 11, 3, 10, 30, tzinfo=UTC)
    assert (a2.author.handle, a2.text, a2.created_at) == (
        "Jo",
        "Zweiter\n\nKurz & knapp",
        datetime(2026, 11, 3, 11, 50, tzinfo=UTC),
    )


async def test_conditional_get_and_only_new_items_per_feed(api: FakeAPI) -> None:
    at = NOW - timedelta(minutes=5)
    blog, other = ConditionalFeed(rss_doc([rss_item(1, at)])), ConditionalFeed(ATOM)
    api.route("GET", "/blog", blog)
    api.route("GET", "/atom", other)
    first = await take(connector(api, "/blog", "/atom", lookback_s=86400).batches({}), 2)
    assert ids(first) == [
        "rss:https://blog.example/?p=1",
        "rss:tag:news.example,2026:a1",
        "rss:tag:news.example,2026:a2",
    ]
    state = first[1].state
    assert state is not None and state["feeds"][f"{api.url}/blog"]["etag"] == '"v1"'
    # Unchanged feeds: 304s, nothing sent, state kept.
    again = await take(connector(api, "/blog", "/atom", lookback_s=86400).batches(state), 2)
    assert ids(again) == [] and [r.headers.get("If-None-Match") for r in api.requests[2:]] == ['"v1"', '"v1"']
    assert api.requests[2].headers["If-Modified-Since"] == "Tue, 03 Nov 2026 11:00:00 GMT"
    assert all(b.state is None for b in again)  # 304: the saved cursor stays as it is
    # The blog adds an item (and one older than the lookback: not a first run any more, so it is sent too).
    blog.update(rss_doc([rss_item(3, at), rss_item(2, NOW - timedelta(days=3)), rss_item(1, at)]))
    third = await take(connector(api, "/blog", "/atom", lookback_s=86400).batches(state), 2)
    assert ids(third) == ["rss:https://blog.example/?p=3", "rss:https://blog.example/?p=2"]
    assert third[0].state is not None and third[0].state["feeds"][f"{api.url}/blog"]["etag"] == '"v2"'


@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        (Reply(200, HTML_ERROR_PAGE, content_type="text/html"), "html_error_page"),
        (Reply(200, rss_doc([rss_item(1, NOW)])[:150], content_type="application/xml"), "not_xml"),
        (Reply(200, b'{"items": []}', content_type="application/json"), "not_xml"),
        (Reply(200, b"<opml><body/></opml>", content_type="text/xml"), "not_a_feed"),
        (Reply(404, b"gone", content_type="text/plain"), "http_404"),
    ],
)
async def test_unusable_feed_bodies_are_rejected(api: FakeAPI, reply: Reply, reason: str) -> None:
    api.route("GET", "/bad", reply)
    api.route("GET", "/good", Reply(200, rss_doc([rss_item(1, NOW)])))
    bad, good = await take(connector(api, "/bad", "/good").batches({}), 2)
    assert [r.reason for r in bad.rejected] == [reason] and bad.state is None and bad.mentions == []
    assert bad.rejected[0].payload == reply.response().body
    assert ids([good]) == ["rss:https://blog.example/?p=1"]
    assert good.state is not None and f"{api.url}/bad" not in good.state["feeds"]


async def test_malformed_items_rejected_once(api: FakeAPI) -> None:
    doc = rss_doc(
        [
            rss_item(1, NOW, pubDate="someday"),
            rss_item(2, None, guid="-", link="-"),
            rss_item(3, None),
        ]
    )
    api.route("GET", "/feed", Reply(200, doc))
    first, second = await take(connector(api, "/feed").batches({}), 2)
    assert [(r.reason, r.payload.startswith(b"<item")) for r in first.rejected] == [
        ("bad_value", True),
        ("missing_field", True),
    ]
    # Undated item: takes the fetch time.
    assert ids([first]) == ["rss:https://blog.example/?p=3"] and first.mentions[0].created_at == NOW
    # A re-fetch without validators: the same document again; the dated reject is not repeated.
    assert ids([second]) == [] and [r.reason for r in second.rejected] == ["missing_field"]


async def test_500_then_timeout_then_success_and_giving_up(api: FakeAPI) -> None:
    api.route(
        "GET",
        "/feed",
        Reply(503, b"busy", {"Retry-After": "1"}, content_type="text/plain"),
        Reply(200, b"", delay_s=1.0),
        Reply(200, rss_doc([rss_item(1, NOW)])),
    )
    sleep = FakeSleep()
    conn = RssConnector(
        "b", RssOptions(feeds=[api.url + "/feed"]), http=polite(sleep, timeout_s=0.2), clock=lambda: NOW
    )
    assert ids(await take(conn.batches({}), 1)) == ["rss:https://blog.example/?p=1"]
    assert sleep.waits[0] == 1.0 and len(api.requests) == 3
    api.route("GET", "/down", Reply(502, HTML_ERROR_PAGE, content_type="text/html"))
    down = RssConnector("b", RssOptions(feeds=[api.url + "/down"]), http=polite(max_attempts=3), clock=lambda: NOW)
    with pytest.raises(FetchError):
        await take(down.batches({}), 1)


def test_build_validates_options() -> None:
    conn = rss.build("blogs", {"feeds": ["https://blog.example/feed"], "poll_interval_s": 600})
    assert isinstance(conn, RssConnector) and conn.options.poll_interval_s == 600
    with pytest.raises(ValueError, match="feeds"):
        rss.build("blogs", {"feeds": []})
    with pytest.raises(ValueError, match="http"):
        rss.build("blogs", {"feeds": ["file:///etc/passwd"]})
    with pytest.raises(ValueError, match="poll_interval_s"):
        rss.build("blogs", {"feeds": ["https://x/"], "poll_interval_s": 0})
