"""YouTube search and comment threads against a loopback fake Data API: walks, cursors, quota, secrecy."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fake_platforms.youtube import SEARCH, THREADS, FakeSearch, iso, thread, video
from fakeapi import FakeAPI, FakeSleep
from fakeplatforms import FakePlatform, Reply, take, wait_free

from connectors.sources import youtube
from connectors.sources.payloads import SourceAuthError

NOW = datetime.now(UTC).replace(microsecond=0)
KEY = "AIza-secret-key-for-tests"


def quota_error(reason: str) -> Reply:
    return Reply(
        status=403,
        json={"error": {"code": 403, "message": "quota", "errors": [{"reason": reason, "domain": "youtube.quota"}]}},
    )


@pytest.fixture
async def fake() -> AsyncIterator[FakePlatform]:
    async with FakePlatform() as platform:
        yield platform


@pytest.fixture(autouse=True)
def api_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("YOUTUBE_API_KEY", KEY)


def connector(
    fake: FakePlatform | FakeAPI, sleep: FakeSleep | None = None, clock: Any = None, **options: Any
) -> youtube.YouTubeConnector:
    base_url = fake.base_url if isinstance(fake, FakePlatform) else fake.url
    opts = youtube.YouTubeOptions.model_validate({"base_url": base_url, **options})
    sleep = sleep or FakeSleep()
    source = youtube.YouTubeConnector("yt", opts, sleep=sleep, **({"clock": clock} if clock else {}))
    wait_free(source, sleep)
    return source


async def test_search_walk_and_cursor(fake: FakePlatform) -> None:
    videos = [video(n, NOW - timedelta(minutes=n)) for n in range(1, 4)]
    fake.script(
        SEARCH,
        Reply(json={"items": videos[:2], "nextPageToken": "P2"}),
        Reply(json={"items": videos[2:]}),
    )
    fake.fallback(SEARCH, Reply(json={"items": []}))
    source = connector(fake, search_terms=["veloxa"], lookback_s=5400)
    batches = await take(source, {}, 3)
    await source.aclose()
    assert [[m.id for m in b.mentions] for b in batches] == [["youtube:vid1", "youtube:vid2"], ["youtube:vid3"], []]
    newest = iso(NOW - timedelta(minutes=1))
    assert [b.state for b in batches] == [
        None,
        {"search": {"veloxa": {"since": newest, "ids": ["youtube:vid1"]}}},
        None,
    ]
    first = batches[0].mentions[0]
    assert first.text == "Veloxa review 1 & test 'ride'\n\nFirst ride"
    assert (first.author.handle, first.author.display_name, first.kind) == ("UC1", "Channel 1", "post")
    assert first.url == "https://www.youtube.com/watch?v=vid1"
    hits = fake.hits(SEARCH)
    assert hits[0].query["key"] == KEY and hits[0].query["order"] == "date" and hits[0].query["type"] == "video"
    after = datetime.strptime(hits[0].query["publishedAfter"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    assert abs(after - (datetime.now(UTC) - timedelta(minutes=90))) < timedelta(seconds=30)
    assert [h.query.get("pageToken") for h in hits] == [None, "P2", None]
    assert hits[2].query["publishedAfter"] == newest


async def test_comment_threads_stop_at_the_saved_comment(fake: FakePlatform) -> None:
    threads = [thread(n, NOW - timedelta(minutes=n)) for n in range(1, 6)]
    threads[1] = thread(2, NOW - timedelta(minutes=2), author="UCveloxa")
    fake.script(THREADS, Reply(json={"items": threads[:3], "nextPageToken": "N"}), Reply(json={"items": threads[3:]}))
    source = connector(fake, video_ids=["V1"], lookback_s=3600)
    first_run = await take(source, {}, 2)
    await source.aclose()
    assert [m.id for b in first_run for m in b.mentions] == [f"youtube:c{n}" for n in range(1, 6)]
    c1, c2 = first_run[0].mentions[:2]
    assert (c1.kind, c1.in_reply_to, c1.author.handle, c1.author.display_name) == (
        "comment",
        "youtube:V1",
        "UCfan",
        "@fan1",
    )
    assert (c1.engagement.likes, c1.engagement.replies, c1.author_is_brand, c2.author_is_brand) == (1, 1, False, True)
    assert c1.url == "https://www.youtube.com/watch?v=V1&lc=c1"
    saved = first_run[-1].state
    assert saved == {"comments": {"V1": {"since": iso(NOW - timedelta(minutes=1)), "ids": ["youtube:c1"]}}}

    # Two new comments since; the first page also shows older ones, so the walk stops without a second page.
    newer = [thread(n, NOW + timedelta(minutes=n)) for n in (8, 7)]
    fake.script(THREADS, Reply(json={"items": newer + threads[:3], "nextPageToken": "N"}))
    again = connector(fake, video_ids=["V1"])
    [batch] = await take(again, saved, 1)
    await again.aclose()
    assert [m.id for m in batch.mentions] == ["youtube:c8", "youtube:c7"]  # c1, at the saved time, was sent before
    assert batch.state == {"comments": {"V1": {"since": iso(NOW + timedelta(minutes=8)), "ids": ["youtube:c8"]}}}
    assert len(fake.hits(THREADS)) == 3 and fake.hits(THREADS)[-1].query["order"] == "time"


async def test_items_at_the_saved_time_are_sent_once(api: FakeAPI) -> None:
    """The boundary comes back every round; only an item at that time not sent before goes out (and joins the
    cursor). A cursor saved as a bare time (the earlier format) sends its boundary once more."""
    at = NOW - timedelta(minutes=3)
    api.route("GET", SEARCH, FakeSearch([video(1, at), video(2, at), video(3, at - timedelta(minutes=1))], KEY))
    source = connector(api, search_terms=["veloxa"])
    saved = {"search": {"veloxa": {"since": iso(at), "ids": ["youtube:vid1"]}}}
    first, second = await take(source, saved, 2)
    await source.aclose()
    assert [m.id for m in first.mentions] == ["youtube:vid2"] and second.mentions == []
    assert first.state == {"search": {"veloxa": {"since": iso(at), "ids": ["youtube:vid1", "youtube:vid2"]}}}
    assert second.state is None  # nothing new: nothing to save

    old_format = connector(api, search_terms=["veloxa"])
    [batch] = await take(old_format, {"search": {"veloxa": iso(at)}}, 1)
    await old_format.aclose()
    assert sorted(m.id for m in batch.mentions) == ["youtube:vid1", "youtube:vid2"]
    assert batch.state == {"search": {"veloxa": {"since": iso(at), "ids": ["youtube:vid1", "youtube:vid2"]}}}


async def test_quota_exceeded_waits_until_pacific_midnight(fake: FakePlatform) -> None:
    fake.script(SEARCH, quota_error("quotaExceeded"), Reply(json={"items": [video(1, NOW)]}))
    sleep = FakeSleep()
    # 20:00 UTC on 2 March is 12:00 in Los Angeles (PST): twelve hours to the reset.
    clock = lambda: datetime(2026, 3, 2, 20, 0, tzinfo=UTC)  # noqa: E731
    source = connector(fake, sleep, clock, search_terms=["veloxa"])
    source.lookback = timedelta(days=36500)
    [batch] = await take(source, {}, 1)
    await source.aclose()
    assert [m.id for m in batch.mentions] == ["youtube:vid1"]
    assert 12 * 3600 <= sleep.waits[0] <= 12 * 3600 + 120


async def test_rate_limit_403_waits_an_interval_and_other_403_is_a_config_error(fake: FakePlatform) -> None:
    fake.script(SEARCH, quota_error("rateLimitExceeded"), Reply(json={"items": []}))
    sleep = FakeSleep()
    source = connector(fake, sleep, search_terms=["veloxa"], poll_interval_s=321)
    await take(source, {}, 1)
    await source.aclose()
    assert sleep.waits[0] == 321

    fake.script(SEARCH, quota_error("forbidden"))
    refused = connector(fake, search_terms=["veloxa"])
    with pytest.raises(SourceAuthError, match="403") as error:
        await take(refused, {}, 1)
    await refused.aclose()
    assert KEY not in str(error.value)


async def test_api_key_never_logged(fake: FakePlatform, caplog: pytest.LogCaptureFixture) -> None:
    fake.script(
        SEARCH,
        Reply(status=500, body="<html>backend error</html>", content_type="text/html"),
        Reply(json={"items": [video(1, NOW)]}, cut_after=15),
        Reply(
            status=400, json={"error": {"code": 400, "message": "Bad Request", "errors": [{"reason": "badRequest"}]}}
        ),
    )
    caplog.set_level(logging.DEBUG)
    source = connector(fake, search_terms=["veloxa"])
    [batch] = await take(source, {}, 1)
    await source.aclose()
    assert [r.reason for r in batch.rejected] == ["http_400"]
    assert KEY not in batch.rejected[0].detail
    assert SEARCH in caplog.text and KEY not in caplog.text


async def test_malformed_items_are_rejected(fake: FakePlatform) -> None:
    bad_time = video(2, NOW)
    bad_time["snippet"]["publishedAt"] = "yesterday"
    no_title = video(3, NOW)
    del no_title["snippet"]["title"]
    fake.script(SEARCH, Reply(json={"items": [video(1, NOW), bad_time, {"id": {"kind": "youtube#channel"}}, no_title]}))
    source = connector(fake, search_terms=["veloxa"])
    [batch] = await take(source, {}, 1)
    await source.aclose()
    assert [m.id for m in batch.mentions] == ["youtube:vid1"]
    assert [r.reason for r in batch.rejected] == ["bad_type", "missing_field", "missing_field"]


def test_build(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("YOUTUBE_API_KEY", raising=False)
    with pytest.raises(ValueError, match="YOUTUBE_API_KEY"):
        youtube.build("y", {"search_terms": ["v"]})
    monkeypatch.setenv("YOUTUBE_API_KEY", KEY)
    with pytest.raises(ValueError, match="search_terms or video_ids"):
        youtube.build("y", {})
    with pytest.raises(ValueError, match="api_key"):
        youtube.build("y", {"search_terms": ["v"], "api_key": KEY})
    built = youtube.build("y", {"video_ids": ["V1"]})
    assert built.base_url == "https://www.googleapis.com/youtube/v3" and KEY not in repr(built.options)
    assert youtube.seconds_until_quota_reset(datetime(2026, 7, 1, 6, 30, tzinfo=UTC)) == 30 * 60 + 60  # 23:30 PDT
