"""YouTube Data API v3 ``search.list`` videos and ``commentThreads.list`` threads, and fakes that page like them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from aiohttp import web
from fakeapi import Reply, json_reply

SEARCH = "/youtube/v3/search"
THREADS = "/youtube/v3/commentThreads"


def iso(when: datetime) -> str:
    return when.isoformat().replace("+00:00", "Z")


def _time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def video(n: int, when: datetime) -> dict[str, Any]:
    """A ``youtube#searchResult`` for video ``vid<n>`` (the title HTML-escaped, as search snippets are)."""
    return {
        "kind": "youtube#searchResult",
        "id": {"kind": "youtube#video", "videoId": f"vid{n}"},
        "snippet": {
            "publishedAt": iso(when),
            "channelId": f"UC{n}",
            "title": f"Veloxa review {n} &amp; test &#39;ride&#39;",
            "description": "First ride",
            "channelTitle": f"Channel {n}",
        },
    }


def thread(
    n: int, when: datetime, author: str = "UCfan", owner: str = "UCveloxa", video_id: str = "V1"
) -> dict[str, Any]:
    """A ``youtube#commentThread`` whose top-level comment ``c<n>`` was written by channel ``author``."""
    return {
        "kind": "youtube#commentThread",
        "id": f"thr{n}",
        "snippet": {
            "channelId": owner,
            "videoId": video_id,
            "topLevelComment": {
                "id": f"c{n}",
                "snippet": {
                    "textOriginal": f"Comment {n}",
                    "textDisplay": f"Comment {n}",
                    "authorDisplayName": f"@fan{n}",
                    "authorChannelId": {"value": author},
                    "likeCount": n,
                    "publishedAt": iso(when),
                    "updatedAt": iso(when),
                },
            },
            "totalReplyCount": 1,
        },
    }


def _key_refused(query: Mapping[str, str], key: str) -> Reply | None:
    if query.get("key") == key:
        return None
    reason = {"reason": "badRequest", "domain": "global", "message": "API key not valid. Please pass a valid API key."}
    return json_reply({"error": {"code": 400, "message": reason["message"], "errors": [reason]}}, 400)


def _page(kind: str, items: list[dict[str, Any]], query: Mapping[str, str], per_page: int) -> Reply:
    start = int(query.get("pageToken", "0"))
    page = items[start : start + per_page]
    body: dict[str, Any] = {
        "kind": kind,
        "etag": f"etag-{start}",
        "pageInfo": {"totalResults": len(items), "resultsPerPage": per_page},
        "items": page,
    }
    if start + per_page < len(items):
        body["nextPageToken"] = str(start + per_page)
    return json_reply(body)


class FakeSearch:
    """``search?part=snippet&type=video&q=&order=date&publishedAfter=&maxResults=&pageToken=&key=``: videos whose
    title contains ``q`` (case-insensitive), published at or after ``publishedAfter`` (the API's "at or after"),
    newest first."""

    def __init__(self, videos: Sequence[dict[str, Any]], key: str) -> None:
        self.videos, self.key = videos, key

    def __call__(self, request: web.Request) -> Reply:
        q = request.query
        if refused := _key_refused(q, self.key):
            return refused
        hits = [v for v in self.videos if q["q"].lower() in v["snippet"]["title"].lower()]
        if "publishedAfter" in q:
            hits = [v for v in hits if _time(v["snippet"]["publishedAt"]) >= _time(q["publishedAfter"])]
        hits.sort(key=lambda v: _time(v["snippet"]["publishedAt"]), reverse=True)
        return _page("youtube#searchListResponse", hits, q, int(q.get("maxResults", "5")))


class FakeCommentThreads:
    """``commentThreads?part=snippet&videoId=&order=time&pageToken=&key=``: the video's threads newest first, at
    most ``per_page`` a page (the API caps ``maxResults`` at 100; a smaller cap here makes a test page)."""

    def __init__(self, threads: Sequence[dict[str, Any]], key: str, per_page: int = 100) -> None:
        self.threads, self.key, self.per_page = threads, key, per_page

    def __call__(self, request: web.Request) -> Reply:
        q = request.query
        if refused := _key_refused(q, self.key):
            return refused
        if q.get("order") != "time":
            return json_reply({"error": {"code": 400, "message": "this fake orders by time only"}}, 400)
        hits = [t for t in self.threads if t["snippet"]["videoId"] == q["videoId"]]
        hits.sort(key=lambda t: _time(t["snippet"]["topLevelComment"]["snippet"]["publishedAt"]), reverse=True)
        per_page = min(int(q.get("maxResults", "20")), self.per_page)
        return _page("youtube#commentThreadListResponse", hits, q, per_page)
