"""Bluesky post views as ``app.bsky.feed.searchPosts`` returns them, and a search that filters and pages like it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from aiohttp import web
from fakeapi import Reply, json_reply

SEARCH = "/xrpc/app.bsky.feed.searchPosts"


def iso(when: datetime) -> str:
    return when.isoformat().replace("+00:00", ".000Z")


def post(n: int, when: datetime, **record_over: Any) -> dict[str, Any]:
    """An ``app.bsky.feed.defs#postView`` of post ``n`` created at ``when`` (indexed a second later)."""
    record: dict[str, Any] = {"$type": "app.bsky.feed.post", "text": f"Veloxa post {n}", "createdAt": iso(when)}
    record.update(record_over)
    return {
        "uri": f"at://did:plc:user{n}/app.bsky.feed.post/rkey{n}",
        "cid": f"bafy{n}",
        "author": {"did": f"did:plc:user{n}", "handle": f"user{n}.bsky.social", "displayName": f"User {n}"},
        "record": record,
        "likeCount": n,
        "repostCount": 1,
        "quoteCount": 1,
        "replyCount": 2,
        "indexedAt": iso(when + timedelta(seconds=1)),
    }


def _time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def sort_at(view: dict[str, Any]) -> datetime:
    """What the AppView sorts and filters ``since`` by: the earlier of the record's createdAt and indexedAt."""
    return min(_time(view["record"]["createdAt"]), _time(view["indexedAt"]))


class FakeSearchPosts:
    """``searchPosts?q=&sort=latest&since=&limit=&cursor=``: posts whose text contains ``q`` (case-insensitive),
    ``sortAt`` at or after ``since`` (inclusive, as documented), newest first; ``cursor`` is an opaque offset,
    absent on the last page."""

    def __init__(self, posts: Sequence[dict[str, Any]]) -> None:
        self.posts = posts

    def __call__(self, request: web.Request) -> Reply:
        q = request.query
        if q.get("sort", "latest") != "latest":
            return json_reply({"error": "InvalidRequest", "message": "this fake sorts by latest only"}, 400)
        hits = [p for p in self.posts if q["q"].lower() in p["record"]["text"].lower()]
        if "since" in q:
            hits = [p for p in hits if sort_at(p) >= _time(q["since"])]
        hits.sort(key=sort_at, reverse=True)
        start, limit = int(q.get("cursor", "0")), int(q.get("limit", "25"))
        page = hits[start : start + limit]
        more = start + limit < len(hits)
        return json_reply({"posts": page, "hitsTotal": len(hits), **({"cursor": str(start + limit)} if more else {})})
